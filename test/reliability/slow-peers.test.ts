// Slow and stuck peers: an A2A executor that never answers, an MCP tool that never answers, and an MCP client
// that never acknowledges what it receives (its Receive Maximum full). Timeouts fire, memory stays bounded,
// and the other sessions of the same server go on as if nothing happened.
import { ClientFactory } from '@a2a-js/sdk/client';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { MqttBindingError, mqttTransportFactory, serveA2AOverMqtt } from '@mqtt-agents/a2a';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '@mqtt-agents/mcp';
import mqtt from 'mqtt';
import type { IPublishPacket } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { answeringExecutor, eventually, heapAfterGc, settle, unique, userMessage } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

/** Run `round` sequentially `count` times; the latency of each, in ms. */
async function timedRounds(count: number, round: (index: number) => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = Date.now();
    await round(index);
    latencies.push(Date.now() - started);
  }
  return latencies;
}

/**
 * "Unaffected": the healthy session's typical call stays fast while the stuck one is being dealt with, and no
 * call waits anywhere near the stuck peer's timeouts. (Generous bounds: CI runners are noisy.)
 */
function expectServedPromptly(latencies: number[]): void {
  const sorted = [...latencies].sort((a, b) => a - b);
  expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(100);
  expect(sorted[sorted.length - 1]).toBeLessThan(2_000);
}

const send = (text: string) => ({
  tenant: '',
  message: userMessage(text),
  configuration: undefined,
  metadata: undefined,
});

/** Starts its task and never finishes it. */
const stuckExecutor: AgentExecutor = {
  async execute() {
    await new Promise(() => {});
  },
  async cancelTask() {},
};

/** Answers at once with a message. */
const quickExecutor = answeringExecutor('done');

function echoServer(onHang: { started: number; aborted: number }): McpServer {
  const server = new McpServer({ name: 'peers', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('hang', { description: 'never answers' }, async (extra) => {
    onHang.started++;
    await new Promise<void>((resolve) =>
      extra.signal.addEventListener(
        'abort',
        () => {
          onHang.aborted++;
          resolve();
        },
        { once: true },
      ),
    );
    return { content: [] };
  });
  return server;
}

describe('an A2A executor that never answers', () => {
  it(
    'requests to it time out or are turned away by its bounded queue, and another agent is served meanwhile',
    { timeout: 60_000 },
    async () => {
      const org = unique('org');
      const url = broker.url;
      const limits = { maxConcurrentRequests: 10, maxQueuedRequests: 20 };
      await using stuck = await serveA2AOverMqtt({
        mqtt: { url },
        org,
        unit: 'u',
        agentId: 'stuck',
        card: { name: 'Stuck' },
        executor: stuckExecutor,
        limits,
        shutdownGraceMs: 100,
      });
      await using quick = await serveA2AOverMqtt({
        mqtt: { url },
        org,
        unit: 'u',
        agentId: 'quick',
        card: { name: 'Quick' },
        executor: quickExecutor,
      });
      await using transports = mqttTransportFactory({
        mqtt: { url },
        org,
        unit: 'u',
        agentId: 'requester',
        retry: { replyFirstTimeoutMs: 1_500, maxAttempts: 1, retryRetryableErrors: false },
      });
      const toStuck = await new ClientFactory({ transports: [transports] }).createFromAgentCard(stuck.card);
      const toQuick = await new ClientFactory({ transports: [transports] }).createFromAgentCard(quick.card);

      const heapBefore = await heapAfterGc();
      const STUCK_REQUESTS = 100;
      const startedAt = Date.now();
      const stuckOutcomes = Promise.all(
        Array.from({ length: STUCK_REQUESTS }, (_, index) =>
          settle(toStuck.sendMessage(send(`stuck ${index}`))),
        ),
      );
      // Meanwhile the other agent, on the same requester connection, answers everything promptly.
      expectServedPromptly(
        await timedRounds(50, async (round) => {
          const answer = await toQuick.sendMessage(send(`quick ${round}`));
          expect('parts' in answer && answer.parts[0]?.content).toEqual({ $case: 'text', value: 'done' });
        }),
      );
      const outcomes = await stuckOutcomes;

      // Everything ended; those beyond the agent's slots and queue were turned away at once.
      expect(outcomes.every((outcome) => !outcome.ok)).toBe(true);
      const turnedAway = outcomes.filter(
        (outcome) =>
          outcome.error instanceof MqttBindingError && outcome.error.kind === 'responder_unavailable',
      );
      const timedOut = outcomes.filter(
        (outcome) => (outcome.error as { code?: unknown }).code === 'REQUEST_TIMEOUT',
      );
      expect(turnedAway.length).toBe(
        STUCK_REQUESTS - limits.maxConcurrentRequests - limits.maxQueuedRequests,
      );
      expect(timedOut.length).toBe(limits.maxConcurrentRequests + limits.maxQueuedRequests);
      for (const outcome of turnedAway) expect(outcome.settledAt - startedAt).toBeLessThan(1_500);
      for (const outcome of timedOut) expect(outcome.settledAt - startedAt).toBeLessThan(1_500 + 1_500);
      // Nothing of the 100 requests is kept by the requester: keeping them would be tens of MiB (a few hundred
      // KiB each). 4 MiB leaves room for what a loaded machine's GC leaves behind (2 MiB was crossed once).
      expect((await heapAfterGc()) - heapBefore).toBeLessThan(4 * 1024 * 1024);
    },
  );
});

describe('an MCP tool that never answers', () => {
  it(
    'calls time out with RequestTimeout, the tool is cancelled, and another session is unaffected',
    { timeout: 60_000 },
    async () => {
      const hang = { started: 0, aborted: 0 };
      const serverName = `peers/${unique('press')}`;
      await using server = await serveMcpOverMqtt({
        mqtt: { url: broker.url },
        serverName,
        description: 'one tool hangs',
        createServer: () => echoServer(hang),
      });
      await using stuckHost = await createMcpMqttClientHost({
        mqtt: { url: broker.url },
        serverNameFilters: ['peers/#'],
        requestTimeouts: { 'tools/call': 500 },
      });
      await using otherHost = await createMcpMqttClientHost({
        mqtt: { url: broker.url },
        serverNameFilters: ['peers/#'],
      });
      const stuckClient = new Client({ name: 'waiting', version: '1.0.0' });
      await stuckHost.connect(stuckClient, serverName);
      const otherClient = new Client({ name: 'other', version: '1.0.0' });
      await otherHost.connect(otherClient, serverName);

      const heapBefore = await heapAfterGc();
      const HANGS = 200;
      const startedAt = Date.now();
      const hangs = Promise.all(
        Array.from({ length: HANGS }, () => settle(stuckClient.callTool({ name: 'hang', arguments: {} }))),
      );
      expectServedPromptly(
        await timedRounds(100, async (round) => {
          const result = await otherClient.callTool({ name: 'echo', arguments: { text: `round ${round}` } });
          expect(result.content).toEqual([{ type: 'text', text: `round ${round}` }]);
        }),
      );
      const outcomes = await hangs;
      expect(
        outcomes.filter(
          (outcome) => !outcome.ok && (outcome.error as { code?: unknown }).code === ErrorCode.RequestTimeout,
        ),
      ).toHaveLength(HANGS);
      for (const outcome of outcomes) expect(outcome.settledAt - startedAt).toBeLessThan(500 + 2_000);
      // The server heard the cancellations: every hanging tool was aborted, nothing is left running.
      await eventually(
        () => hang.aborted === HANGS,
        `${HANGS} cancelled tool calls (${hang.aborted} so far)`,
      );
      expect(hang.started).toBe(HANGS);
      expect((await heapAfterGc()) - heapBefore).toBeLessThan(2 * 1024 * 1024);
      expect(server.sessions.size).toBe(2);
    },
  );
});

describe('an MCP client that never acknowledges (Receive Maximum full)', () => {
  it(
    'the server host keeps nothing for it and its other sessions are served as usual',
    { timeout: 60_000 },
    async () => {
      const serverName = `peers/${unique('press')}`;
      await using server = await serveMcpOverMqtt({
        mqtt: { url: broker.url },
        serverName,
        description: 'one client is stuck',
        createServer: () => echoServer({ started: 0, aborted: 0 }),
      });
      const received: IPublishPacket[] = [];
      const stuckId = unique('stuck-client');
      // An MQTT.js client that never acknowledges a delivery (nor processes anything after the first one), with
      // a Receive Maximum of 2: once two responses are delivered, the broker may not send it any more.
      const stuck = mqtt.connect(broker.url, {
        protocolVersion: 5,
        clientId: stuckId,
        reconnectPeriod: 0,
        properties: { receiveMaximum: 2 },
        customHandleAcks: () => {},
      });
      stuck.on('packetreceive', (packet) => {
        if (packet.cmd === 'publish') received.push(packet);
      });
      await new Promise<void>((resolve, reject) => {
        stuck.once('connect', () => resolve());
        stuck.once('error', reject);
      });
      const rpcTopic = `$mcp-rpc/${stuckId}/${server.serverId}/${serverName}`;
      await stuck.subscribeAsync(rpcTopic, { qos: 1, nl: true });
      const publish = (topic: string, body: Record<string, unknown>): void => {
        stuck.publish(topic, JSON.stringify(body), {
          qos: 1,
          properties: {
            userProperties: { 'MCP-COMPONENT-TYPE': 'mcp-client', 'MCP-MQTT-CLIENT-ID': stuckId },
          },
        });
      };
      publish(`$mcp-server/${server.serverId}/${serverName}`, {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'stuck', version: '1.0.0' },
        },
      });
      await eventually(() => received.length === 1, 'the initialize response');
      publish(rpcTopic, { jsonrpc: '2.0', method: 'notifications/initialized' });
      const STUCK_CALLS = 300;
      for (let id = 1; id <= STUCK_CALLS; id++) {
        publish(rpcTopic, {
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'x'.repeat(1024) } },
        });
      }
      await using clients = await createMcpMqttClientHost({
        mqtt: { url: broker.url },
        serverNameFilters: ['peers/#'],
      });
      const client = new Client({ name: 'healthy', version: '1.0.0' });
      await clients.connect(client, serverName);
      const heapBefore = await heapAfterGc();
      expectServedPromptly(
        await timedRounds(200, async (round) => {
          const result = await client.callTool({ name: 'echo', arguments: { text: `round ${round}` } });
          expect(result.content).toEqual([{ type: 'text', text: `round ${round}` }]);
        }),
      );
      // The stuck client got what its Receive Maximum allows and no more; the broker holds the rest.
      await eventually(() => server.sessions.size === 2, 'both sessions');
      expect(received.length).toBeLessThanOrEqual(2);
      // The server published every response and the broker acknowledged them: nothing waits in its MQTT client.
      const outgoing = (server.connection.client as unknown as { outgoing: Record<number, unknown> })
        .outgoing;
      await eventually(
        () => Object.keys(outgoing).length === 0,
        'no unacknowledged publishes in the server host',
      );
      expect((await heapAfterGc()) - heapBefore).toBeLessThan(2 * 1024 * 1024);
      stuck.end(true);
    },
  );
});
