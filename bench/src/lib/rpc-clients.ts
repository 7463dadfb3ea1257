/**
 * The calling side of each RPC pairing. Each `open*` function asks the peer process to serve something and
 * returns `call()` (one request/response, checked once) and `close()`. The client runs in this process.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AgentCard } from '@a2a-js/sdk';
import type { SendMessageRequest } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { discoverAgents, mqttTransportFactory } from '@mqtt-agents/a2a';
import { createMcpMqttClientHost } from '@mqtt-agents/mcp';
import mqtt from 'mqtt';
import { PAYLOAD_TEXT, userMessage } from './fixtures.js';
import type { Peer } from './peer.js';

export interface Pairing {
  call(): Promise<unknown>;
  close(): Promise<void>;
}

const PAYLOAD = Buffer.from(PAYLOAD_TEXT);

function checkEcho(result: Record<string, unknown>): void {
  const content = result.content as Array<{ type: string; text?: string }> | undefined;
  if (content?.[0]?.text !== PAYLOAD_TEXT)
    throw new Error(`unexpected tools/call result: ${JSON.stringify(result)}`);
}

function mcpCall(client: Client): () => Promise<unknown> {
  return async () => client.callTool({ name: 'echo', arguments: { text: PAYLOAD_TEXT } });
}

/** The official SDK's Streamable HTTP transport; `json` selects JSON responses instead of an SSE stream. */
export async function openMcpHttp(peer: Peer, json: boolean): Promise<Pairing> {
  const { handle, url } = await peer.request<{ handle: number; url: string }>({ op: 'mcp-http', json });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  checkEcho(await client.callTool({ name: 'echo', arguments: { text: PAYLOAD_TEXT } }));
  return {
    call: mcpCall(client),
    close: async () => {
      await client.close();
      await peer.request({ op: 'stop', handle });
    },
  };
}

/** Our transport: a server host in the peer process, a client host here, an ordinary SDK Client. */
export async function openMcpMqtt(peer: Peer, brokerUrl: string): Promise<Pairing> {
  const serverName = `bench/${randomUUID().slice(0, 8)}/echo`;
  const { handle } = await peer.request<{ handle: number }>({
    op: 'mcp-mqtt',
    brokerUrl,
    serverName,
  });
  const clients = await createMcpMqttClientHost({ mqtt: { url: brokerUrl }, serverNameFilters: ['bench/#'] });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await clients.connect(client, serverName, { signal: AbortSignal.timeout(10_000) });
  checkEcho(await client.callTool({ name: 'echo', arguments: { text: PAYLOAD_TEXT } }));
  return {
    call: mcpCall(client),
    close: async () => {
      await client.close();
      await clients.close();
      await peer.request({ op: 'stop', handle });
    },
  };
}

/**
 * MQTT.js alone, the ceiling of any MQTT RPC: publish the 1 KiB payload (QoS 1) with Response Topic and
 * Correlation Data, the peer echoes it (QoS 1), match the reply by its correlation.
 */
export async function openRawRequestReply(peer: Peer, brokerUrl: string, noDelay: boolean): Promise<Pairing> {
  const id = randomUUID();
  const requestTopic = `bench/raw/${id}/request`;
  const replyTopic = `bench/raw/${id}/reply`;
  const { handle } = await peer.request<{ handle: number }>({
    op: 'raw-echo',
    brokerUrl,
    requestTopic,
    noDelay,
  });
  const client = mqtt.connect(brokerUrl, {
    protocolVersion: 5,
    clientId: `bench-raw-${id}`,
    reconnectPeriod: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  (client.stream as { setNoDelay?: (value: boolean) => void }).setNoDelay?.(noDelay);
  const pending = new Map<string, (payload: Buffer) => void>();
  client.on('message', (_topic, payload, packet) => {
    const key = Buffer.from(packet.properties?.correlationData ?? []).toString('base64');
    const resolve = pending.get(key);
    pending.delete(key);
    resolve?.(payload);
  });
  await client.subscribeAsync(replyTopic, { qos: 1 });
  const call = (): Promise<Buffer> =>
    new Promise((resolve) => {
      const correlationData = randomBytes(16);
      pending.set(correlationData.toString('base64'), resolve);
      client.publish(requestTopic, PAYLOAD, {
        qos: 1,
        properties: { responseTopic: replyTopic, correlationData },
      });
    });
  if (!(await call()).equals(PAYLOAD)) throw new Error('raw echo returned another payload');
  return {
    call,
    close: async () => {
      await client.endAsync();
      await peer.request({ op: 'stop', handle });
    },
  };
}

function sendMessageRequest(): SendMessageRequest {
  return { tenant: '', message: userMessage(PAYLOAD_TEXT), configuration: undefined, metadata: undefined };
}

function checkTask(answer: unknown): void {
  const task = answer as {
    status?: { state?: unknown };
    artifacts?: Array<{ parts?: Array<{ content?: { value?: unknown } }> }>;
  };
  if (task.artifacts?.[0]?.parts?.[0]?.content?.value !== PAYLOAD_TEXT) {
    throw new Error(`unexpected SendMessage answer: ${JSON.stringify(answer).slice(0, 300)}`);
  }
}

/** @a2a-js/sdk's ClientFactory and JSON-RPC transport against its express handler in the peer process. */
export async function openA2aHttp(peer: Peer): Promise<Pairing> {
  const { handle, card } = await peer.request<{ handle: number; card: unknown }>({ op: 'a2a-http' });
  const client = await new ClientFactory().createFromAgentCard(AgentCard.fromJSON(card));
  checkTask(await client.sendMessage(sendMessageRequest()));
  return {
    call: () => client.sendMessage(sendMessageRequest()),
    close: () => peer.request({ op: 'stop', handle }),
  };
}

/** Our binding: the agent in the peer process, discovery and the SDK's ClientFactory with our transport here. */
export async function openA2aMqtt(peer: Peer, brokerUrl: string): Promise<Pairing> {
  const address = { org: 'bench', unit: randomUUID().slice(0, 8), agentId: 'echo' };
  const { handle } = await peer.request<{ handle: number }>({ op: 'a2a-mqtt', brokerUrl, address });
  const registry = await discoverAgents({ mqtt: { url: brokerUrl }, org: address.org, unit: address.unit });
  const { card } = await registry.waitFor(address.agentId, { online: true, timeoutMs: 10_000 });
  await registry.close();
  const transports = mqttTransportFactory({ mqtt: { url: brokerUrl }, ...address, agentId: 'requester' });
  const client = await new ClientFactory({ transports: [transports] }).createFromAgentCard(card);
  checkTask(await client.sendMessage(sendMessageRequest()));
  return {
    call: () => client.sendMessage(sendMessageRequest()),
    close: async () => {
      await transports.close();
      await peer.request({ op: 'stop', handle });
    },
  };
}
