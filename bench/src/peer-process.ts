/**
 * The serving side of the RPC benchmarks, alone in its own process (as a real MCP server or A2A agent would
 * be): the MCP echo server over Streamable HTTP and over MQTT, the A2A echo agent over JSON-RPC/HTTP and over
 * MQTT, a raw MQTT.js echo responder, the ceiling for any MQTT request/reply, and the MCP server instances
 * that the failover benchmark crashes and drains. Driven over IPC by
 * lib/peer.ts: `{ id, op, ... }` in, `{ id, ok, result | error }` out.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentCard } from '@a2a-js/sdk';
import { DefaultRequestHandler, InMemoryTaskStore } from '@a2a-js/sdk/server';
import { UserBuilder, jsonRpcHandler } from '@a2a-js/sdk/server/express';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { serveA2AOverMqtt } from '@mqtt-agents/a2a';
import { serveMcpOverMqtt } from '@mqtt-agents/mcp';
import type { McpServerHost } from '@mqtt-agents/mcp';
import express from 'express';
import mqtt from 'mqtt';
import { startCpuProfile } from './lib/cpu-profile.js';
import { EchoExecutor, createEchoMcpServer, createWhereMcpServer } from './lib/fixtures.js';
import { collectGarbage } from './lib/measure.js';
import type { PeerRequest } from './lib/peer.js';

const handles = new Map<number, () => Promise<void>>();
const sessionCounts = new Map<number, () => number>();
/** The failover benchmark's instances, by handle: it crashes or drains them. */
const instances = new Map<number, McpServerHost>();
let nextHandle = 1;
let stopProfile: (() => Promise<void>) | undefined;

function keep(close: () => Promise<void>): number {
  const handle = nextHandle++;
  handles.set(handle, close);
  return handle;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The SDK's Streamable HTTP transport, stateful (one transport and one McpServer per session), as documented. */
async function mcpHttp(json: boolean): Promise<{ handle: number; url: string }> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const server = createServer((request, response) => {
    void (async () => {
      const sessionId = request.headers['mcp-session-id'];
      let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
      if (!transport) {
        if (sessionId !== undefined) {
          response.writeHead(404).end();
          return;
        }
        const fresh = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse: json,
          onsessioninitialized: (id) => void transports.set(id, fresh),
        });
        fresh.onclose = () => {
          if (fresh.sessionId) transports.delete(fresh.sessionId);
        };
        await createEchoMcpServer().connect(fresh);
        transport = fresh;
      }
      await transport.handleRequest(request, response);
    })().catch((error: unknown) => {
      process.stderr.write(`mcp http: ${String(error)}\n`);
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  const port = await listen(server);
  const handle = keep(async () => {
    for (const transport of transports.values()) await transport.close();
    await closeServer(server);
  });
  return { handle, url: `http://127.0.0.1:${port}/mcp` };
}

async function mcpMqtt(brokerUrl: string, serverName: string): Promise<{ handle: number; serverId: string }> {
  const host = await serveMcpOverMqtt({
    mqtt: { url: brokerUrl },
    serverName,
    description: 'bench echo server',
    createServer: () => createEchoMcpServer(),
  });
  const handle = keep(() => host.close());
  sessionCounts.set(handle, () => host.sessions.size);
  return { handle, serverId: host.serverId };
}

/** Wall-clock time in ms with sub-ms resolution, comparable across the processes of one machine. */
const epochNow = (): number => performance.timeOrigin + performance.now();

/**
 * One instance of a server for the failover benchmark: its `where` tool names it. No reconnect: a destroyed
 * socket is a dead instance, whose will clears its presence.
 */
async function mcpInstance(
  request: Extract<PeerRequest, { op: 'mcp-instance' }>,
): Promise<{ handle: number }> {
  const host = await serveMcpOverMqtt({
    mqtt: { url: request.brokerUrl, reconnectPeriodMs: 0, keepalive: request.keepaliveSeconds },
    serverName: request.serverName,
    serverId: request.serverId,
    description: 'bench failover instance',
    createServer: () => createWhereMcpServer(request.serverId),
  });
  const handle = keep(async () => {
    instances.delete(handle);
    await host.close();
  });
  instances.set(handle, host);
  return { handle };
}

/** kill -9 in this process: the socket dies without DISCONNECT, so the broker publishes the will. */
function crashInstance(handle: number): { at: number } {
  const host = instances.get(handle);
  if (!host) throw new Error(`no instance ${handle}`);
  const at = epochNow();
  (host.connection.client as unknown as { stream: { destroy(): void } }).stream.destroy();
  return { at };
}

/** Start a drain (its presence says `draining`); the host closes by itself once its sessions left. */
function drainInstance(handle: number, graceMs: number): { at: number } {
  const host = instances.get(handle);
  if (!host) throw new Error(`no instance ${handle}`);
  const at = epochNow();
  host.drain({ graceMs }).catch((error: unknown) => process.stderr.write(`drain: ${String(error)}\n`));
  return { at };
}

/** MQTT.js alone: echo every request to its Response Topic with its Correlation Data (QoS 1). */
async function rawEcho(
  brokerUrl: string,
  requestTopic: string,
  noDelay: boolean,
): Promise<{ handle: number }> {
  const client = mqtt.connect(brokerUrl, {
    protocolVersion: 5,
    clientId: `bench-echo-${randomUUID()}`,
    reconnectPeriod: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  (client.stream as { setNoDelay?: (value: boolean) => void }).setNoDelay?.(noDelay);
  client.on('message', (_topic, payload, packet) => {
    const responseTopic = packet.properties?.responseTopic;
    if (!responseTopic) return;
    client.publish(responseTopic, payload, {
      qos: 1,
      properties: { correlationData: packet.properties?.correlationData ?? Buffer.alloc(0) },
    });
  });
  await client.subscribeAsync(requestTopic, { qos: 1 });
  return { handle: keep(() => client.endAsync().then(() => undefined)) };
}

/** @a2a-js/sdk's own JSON-RPC over HTTP (express handler), same executor and task store class as over MQTT. */
async function a2aHttp(): Promise<{ handle: number; card: unknown }> {
  const app = express();
  const server = createServer(app);
  const port = await listen(server);
  const card = AgentCard.fromJSON({
    name: 'Echo',
    description: 'bench echo agent',
    version: '1.0.0',
    supportedInterfaces: [
      {
        url: `http://127.0.0.1:${port}/a2a/jsonrpc`,
        protocolBinding: 'JSONRPC',
        tenant: '',
        protocolVersion: '1.0',
      },
    ],
    capabilities: { streaming: true, pushNotifications: false, extensions: [] },
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [{ id: 'echo', name: 'Echo', description: 'echo', tags: ['echo'] }],
  });
  const requestHandler = new DefaultRequestHandler(card, new InMemoryTaskStore(), new EchoExecutor());
  app.use('/a2a/jsonrpc', jsonRpcHandler({ requestHandler, userBuilder: UserBuilder.noAuthentication }));
  return { handle: keep(() => closeServer(server)), card: AgentCard.toJSON(card) };
}

async function a2aMqtt(
  brokerUrl: string,
  address: { org: string; unit: string; agentId: string },
): Promise<{ handle: number }> {
  const agent = await serveA2AOverMqtt({
    mqtt: { url: brokerUrl },
    ...address,
    card: { name: 'Echo', description: 'bench echo agent' },
    executor: new EchoExecutor(),
    taskStore: new InMemoryTaskStore(),
  });
  return { handle: keep(() => agent.close()) };
}

async function handle(request: PeerRequest): Promise<unknown> {
  switch (request.op) {
    case 'mcp-http':
      return await mcpHttp(request.json);
    case 'mcp-mqtt':
      return await mcpMqtt(request.brokerUrl, request.serverName);
    case 'raw-echo':
      return await rawEcho(request.brokerUrl, request.requestTopic, request.noDelay);
    case 'a2a-http':
      return await a2aHttp();
    case 'a2a-mqtt':
      return await a2aMqtt(request.brokerUrl, request.address);
    case 'mcp-instance':
      return await mcpInstance(request);
    case 'crash':
      return crashInstance(request.handle);
    case 'drain':
      return drainInstance(request.handle, request.graceMs);
    case 'sessions':
      return sessionCounts.get(request.handle)?.() ?? 0;
    case 'memory': {
      await collectGarbage();
      const { heapUsed, rss } = process.memoryUsage();
      return { heapUsed, rss };
    }
    case 'cpu':
      return process.cpuUsage();
    case 'profile-start':
      stopProfile = await startCpuProfile(request.file);
      return null;
    case 'profile-stop':
      await stopProfile?.();
      stopProfile = undefined;
      return null;
    case 'stop': {
      const close = handles.get(request.handle);
      handles.delete(request.handle);
      sessionCounts.delete(request.handle);
      await close?.();
      return null;
    }
    case 'exit': {
      for (const close of handles.values()) await close().catch(() => undefined);
      setImmediate(() => process.exit(0));
      return null;
    }
  }
}

process.on('message', (message: PeerRequest & { id: number }) => {
  handle(message).then(
    (result) => process.send?.({ id: message.id, ok: true, result }),
    (error: unknown) =>
      process.send?.({
        id: message.id,
        ok: false,
        error: error instanceof Error ? error.stack : String(error),
      }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, ok: true, result: 'ready' });
