// Failover: a session whose instance is lost (will, de-initialization) or drains moves to another online
// instance of the same server name; calls in flight fail with the typed session-lost error, reads (and,
// when opted in, annotated tools) are retried, and the SDK Client goes on.
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  ResourceUpdatedNotificationSchema,
  SubscribeRequestSchema,
  ToolListChangedNotificationSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt, sessionLostDetails } from '../src/index.js';
import type {
  CreateMcpMqttClientHostOptions,
  McpFailoverEvent,
  McpServerHost,
  McpServerSession,
} from '../src/index.js';
import { nextEvent, unique } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

/** A latch a test opens: tools and resources wait on it, so a call is in flight exactly when the test says. */
class Gate {
  private release!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));
  entered = 0;
  open(): void {
    this.release();
  }
}

interface Instance {
  host: McpServerHost;
  runs: Map<string, number>;
}

function buildServer(instance: string, gate: Gate, runs: Map<string, number>, extraTool: boolean): McpServer {
  const server = new McpServer(
    { name: 'failover-test', version: '1.0.0' },
    { capabilities: { logging: {}, resources: { subscribe: true } } },
  );
  const ran = (name: string) => runs.set(name, (runs.get(name) ?? 0) + 1);
  server.registerTool('where', { description: 'Names the instance' }, async () => ({
    content: [{ type: 'text', text: instance }],
  }));
  server.registerTool('slow', { description: 'Waits for the gate' }, async () => {
    ran('slow');
    gate.entered += 1;
    await gate.opened;
    return { content: [{ type: 'text', text: `slow on ${instance}` }] };
  });
  server.registerTool(
    'stamp',
    { description: 'Idempotent, waits for the gate', annotations: { idempotentHint: true } },
    async () => {
      ran('stamp');
      gate.entered += 1;
      await gate.opened;
      return { content: [{ type: 'text', text: `stamp on ${instance}` }] };
    },
  );
  if (extraTool) {
    server.registerTool('calibrate', { description: 'Only on newer instances' }, async () => ({
      content: [{ type: 'text', text: 'calibrated' }],
    }));
  }
  server.registerResource('held', 'gate://held', { description: 'Waits for the gate' }, async (uri) => {
    ran('held');
    gate.entered += 1;
    await gate.opened;
    return { contents: [{ uri: uri.href, text: `held on ${instance}` }] };
  });
  server.registerResource('telemetry', 'file:///telemetry', { description: 'Telemetry' }, async (uri) => ({
    contents: [{ uri: uri.href, text: '{}' }],
  }));
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    ran(`subscribe ${request.params.uri}`);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async () => ({}));
  return server;
}

async function instances(
  serverName: string,
  count: number,
  options: { gate?: Gate; extraToolFrom?: number } = {},
): Promise<Instance[]> {
  const gate = options.gate ?? new Gate();
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const runs = new Map<string, number>();
      const serverId = `${unique('instance')}-${index}`;
      const host = await serveMcpOverMqtt({
        // No reconnect: a destroyed socket is a dead instance (its will clears the presence).
        mqtt: { url: broker.url, reconnectPeriodMs: 0 },
        serverName,
        serverId,
        description: `instance ${index}`,
        createServer: () =>
          buildServer(serverId, gate, runs, index >= (options.extraToolFrom ?? Number.POSITIVE_INFINITY)),
      });
      return { host, runs };
    }),
  );
}

/** kill -9 in-process: the socket dies without DISCONNECT, the broker publishes the will. */
function kill(host: McpServerHost): void {
  (host.connection.client as unknown as { stream: { destroy(): void } }).stream.destroy();
}

async function clientHost(overrides: Partial<CreateMcpMqttClientHostOptions> = {}) {
  return createMcpMqttClientHost({
    mqtt: { url: broker.url },
    serverNameFilters: ['failover/#'],
    ...overrides,
  });
}

function failovers(host: { on(event: 'failover', listener: (event: McpFailoverEvent) => void): () => void }) {
  return nextEvent<McpFailoverEvent>((listener) => host.on('failover', listener));
}

async function text(result: Promise<unknown>): Promise<string> {
  const value = (await result) as { content?: Array<{ text?: string }>; contents?: Array<{ text?: string }> };
  return String((value.content ?? value.contents)?.[0]?.text);
}

async function closeAll(list: Instance[]): Promise<void> {
  await Promise.all(list.map(({ host }) => host.close()));
}

describe('failover', () => {
  it('a killed instance: the session moves, the tool call in flight fails with mayHaveRun, the read in flight is retried, later calls work', async () => {
    const serverName = `failover/${unique('press')}`;
    const gate = new Gate();
    const fleet = await instances(serverName, 2, { gate });
    await using clients = await clientHost();
    await clients.waitForServer(serverName);
    await expect.poll(() => clients.instancesOf(serverName).length).toBe(2);
    const client = new Client({ name: 'planner', version: '1.0.0' });
    const transport = await clients.connect(client, serverName);
    const first = fleet.find(({ host }) => host.serverId === transport.serverId)!;
    const other = fleet.find(({ host }) => host.serverId !== transport.serverId)!;
    const moved = failovers(clients);

    const call = client.callTool({ name: 'slow', arguments: {} }).then(
      () => undefined,
      (error: unknown) => error,
    );
    const read = client.readResource({ uri: 'gate://held' });
    await expect.poll(() => gate.entered).toBe(2);
    kill(first.host);

    const event = await moved;
    expect(event).toMatchObject({ outcome: 'moved', from: first.host.serverId, to: other.host.serverId });
    expect(event.session).toBe(transport);
    expect(['offline', 'connection', 'peer-ended']).toContain(event.reason);
    const lost = sessionLostDetails(await call);
    expect(lost).toMatchObject({ mayHaveRun: true, method: 'tools/call', serverId: first.host.serverId });
    gate.open();
    expect(await text(read)).toBe(`held on ${other.host.serverId}`);
    expect(transport.serverId).toBe(other.host.serverId);
    expect(transport.failovers).toBe(1);
    expect(await text(client.callTool({ name: 'where', arguments: {} }))).toBe(other.host.serverId);
    // The tool call was not retried: it ran once, on the killed instance.
    expect(other.runs.get('slow')).toBeUndefined();
    await client.close();
    await closeAll(fleet);
  });

  it('an SDK 2.x Client fails over the same way: the lost call says so, the session goes on', async () => {
    const serverName = `failover/${unique('v2')}`;
    const gate = new Gate();
    const fleet = await instances(serverName, 2, { gate });
    await using clients = await clientHost();
    await expect.poll(() => clients.instancesOf(serverName).length).toBe(2);
    const client = new ClientV2(
      { name: 'planner-v2', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    const transport = await clients.connect(client, serverName);
    const first = fleet.find(({ host }) => host.serverId === transport.serverId)!;
    const other = fleet.find(({ host }) => host.serverId !== transport.serverId)!;
    const call = client.callTool({ name: 'slow', arguments: {} }).then(
      () => undefined,
      (error: unknown) => error,
    );
    await expect.poll(() => gate.entered).toBe(1);
    const moved = failovers(clients);
    kill(first.host);
    await moved;
    expect(sessionLostDetails(await call)).toMatchObject({ mayHaveRun: true, method: 'tools/call' });
    gate.open();
    expect(await text(client.callTool({ name: 'where', arguments: {} }))).toBe(other.host.serverId);
    await client.close();
    await closeAll(fleet);
  });

  it('retryAnnotatedTools: an idempotent-annotated tool in flight is retried on the new instance', async () => {
    const serverName = `failover/${unique('stamp')}`;
    const gate = new Gate();
    const fleet = await instances(serverName, 2, { gate });
    await using clients = await clientHost({ failover: { retryAnnotatedTools: true } });
    await expect.poll(() => clients.instancesOf(serverName).length).toBe(2);
    const client = new Client({ name: 'planner', version: '1.0.0' });
    const transport = await clients.connect(client, serverName);
    await client.listTools(); // the annotations the retry decision reads
    const first = fleet.find(({ host }) => host.serverId === transport.serverId)!;
    const other = fleet.find(({ host }) => host.serverId !== transport.serverId)!;
    const stamp = client.callTool({ name: 'stamp', arguments: {} });
    await expect.poll(() => gate.entered).toBe(1);
    await first.host.close(); // a graceful stop: de-initializes its sessions, clears its presence
    gate.open();
    expect(await text(stamp)).toBe(`stamp on ${other.host.serverId}`);
    expect(other.runs.get('stamp')).toBe(1);
    await client.close();
    await closeAll(fleet);
  });

  it('restores subscriptions on the new instance and tells the SDK when the tool list differs', async () => {
    const serverName = `failover/${unique('lists')}`;
    // Instance 1 has one more tool: whichever way the session moves, the lists differ.
    const fleet = await instances(serverName, 2, { extraToolFrom: 1 });
    await using clients = await clientHost();
    await expect.poll(() => clients.instancesOf(serverName).length).toBe(2);
    const client = new Client({ name: 'planner', version: '1.0.0' });
    let listChanged = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void (listChanged += 1));
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
      updates.push(notification.params.uri);
    });
    const transport = await clients.connect(client, serverName);
    await client.listTools();
    await client.subscribeResource({ uri: 'file:///telemetry' });
    const first = fleet.find(({ host }) => host.serverId === transport.serverId)!;
    const other = fleet.find(({ host }) => host.serverId !== transport.serverId)!;
    const moved = failovers(clients);
    kill(first.host);
    await moved;
    expect(other.runs.get('subscribe file:///telemetry')).toBe(1);
    await expect.poll(() => listChanged).toBe(1);
    // The subscription went along: the new instance's update reaches this session.
    await expect
      .poll(async () => {
        await other.host.notifyResourceUpdated('file:///telemetry');
        return updates.length;
      })
      .toBeGreaterThan(0);
    await client.close();
    await closeAll(fleet);
  });

  it('a draining instance: the session moves first, the call in flight there still completes, then the old session ends', async () => {
    const serverName = `failover/${unique('drain')}`;
    const gate = new Gate();
    const fleet = await instances(serverName, 2, { gate });
    await using clients = await clientHost();
    await expect.poll(() => clients.instancesOf(serverName).length).toBe(2);
    const client = new Client({ name: 'planner', version: '1.0.0' });
    const transport = await clients.connect(client, serverName);
    const first = fleet.find(({ host }) => host.serverId === transport.serverId)!;
    const other = fleet.find(({ host }) => host.serverId !== transport.serverId)!;
    const call = client.callTool({ name: 'slow', arguments: {} });
    await expect.poll(() => gate.entered).toBe(1);
    const moved = failovers(clients);
    const oldSessionEnded = nextEvent<McpServerSession>((listener) =>
      first.host.on('session-close', listener),
    );
    const drained = first.host.drain({ graceMs: 30_000 });
    expect(await moved).toMatchObject({ outcome: 'moved', reason: 'draining', to: other.host.serverId });
    expect(await text(client.callTool({ name: 'where', arguments: {} }))).toBe(other.host.serverId);
    gate.open();
    expect(await text(call)).toBe(`slow on ${first.host.serverId}`);
    await oldSessionEnded;
    // The client left by itself, before the grace period ran out.
    expect(await drained).toMatchObject({
      sessionsAtStart: 1,
      sessionsLeftByClients: 1,
      sessionsClosedAtDeadline: 0,
    });
    await client.close();
    await closeAll(fleet);
  });

  it('no other instance within the failover timeout: the SDK client closes with a CONNECTION_CLOSED error', async () => {
    const serverName = `failover/${unique('alone')}`;
    const fleet = await instances(serverName, 1);
    await using clients = await clientHost({ failover: { timeoutMs: 300 } });
    const client = new Client({ name: 'planner', version: '1.0.0' });
    const errors: Error[] = [];
    client.onerror = (error) => errors.push(error);
    const closed = new Promise<void>((resolve) => (client.onclose = () => resolve()));
    await clients.connect(client, serverName);
    const moved = failovers(clients);
    kill(fleet[0]!.host);
    expect(await moved).toMatchObject({ outcome: 'failed', to: undefined });
    await closed;
    expect(errors.some((error) => (error as { code?: string }).code === 'CONNECTION_CLOSED')).toBe(true);
    await closeAll(fleet);
  });

  it('a first initialize refused by a full instance goes to another instance instead of failing the connect', async () => {
    const serverName = `failover/${unique('full')}`;
    const full = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName,
      serverId: unique('full'),
      description: 'holds one session',
      maxSessions: 1,
      createServer: () => buildServer('full', new Gate(), new Map(), false),
    });
    const fleet = await instances(serverName, 1);
    await using occupant = await clientHost();
    await occupant.connect(new Client({ name: 'occupant', version: '1.0.0' }), serverName, {
      serverId: full.serverId,
    });
    await using clients = await clientHost();
    await expect.poll(() => clients.instancesOf(serverName).length).toBe(2);
    const moved = failovers(clients);
    const client = new Client({ name: 'late', version: '1.0.0' });
    // The selection prefers the full instance: it refuses, and the session lands on the other one.
    const transport = await clients.connect(client, serverName, {
      select: (online) => online.find((instance) => instance.serverId === full.serverId) ?? online[0],
    });
    expect(await moved).toMatchObject({ reason: 'refused', from: full.serverId, outcome: 'moved' });
    expect(transport.serverId).toBe(fleet[0]!.host.serverId);
    expect(await text(client.callTool({ name: 'where', arguments: {} }))).toBe(fleet[0]!.host.serverId);
    await client.close();
    await full.close();
    await closeAll(fleet);
  });

  it('maxFailovers bounds the moves', async () => {
    const serverName = `failover/${unique('bounded')}`;
    const fleet = await instances(serverName, 3);
    await using clients = await clientHost({ failover: { maxFailovers: 1 } });
    await expect.poll(() => clients.instancesOf(serverName).length).toBe(3);
    const client = new Client({ name: 'planner', version: '1.0.0' });
    const closed = new Promise<void>((resolve) => (client.onclose = () => resolve()));
    const transport = await clients.connect(client, serverName);
    const moved = failovers(clients);
    kill(fleet.find(({ host }) => host.serverId === transport.serverId)!.host);
    await moved;
    await client.listTools();
    kill(fleet.find(({ host }) => host.serverId === transport.serverId)!.host);
    await closed;
    await closeAll(fleet);
  });
});
