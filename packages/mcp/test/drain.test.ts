// Graceful drain of a server instance (issue 14): its presence says `draining`, it takes no new session,
// the calls of its open sessions finish, and it closes once the clients left or the grace period ran out.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt, sessionRefusalReason } from '../src/index.js';
import type { McpServerChange, McpServerHost, ServeMcpOverMqttOptions } from '../src/index.js';
import { RawPeer, buildTestServer, failure, nextEvent, rawInitialize, unique } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

/** A tool call the test holds: `started` resolves once the server runs it, `release()` lets it answer. */
function gate() {
  let started: () => void = () => {};
  let release: () => void = () => {};
  const running = new Promise<void>((resolve) => (started = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return { running, released, started: () => started(), release: () => release() };
}

async function serve(
  held: ReturnType<typeof gate>,
  options: Partial<ServeMcpOverMqttOptions> = {},
): Promise<McpServerHost> {
  return serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `drain/${unique('press')}`,
    description: 'press',
    meta: { site: 'line-7' },
    createServer: () => {
      const server = buildTestServer();
      server.registerTool('slow', { description: 'Answers when the test lets it' }, async () => {
        held.started();
        await held.released;
        return { content: [{ type: 'text', text: 'done' }] };
      });
      return server;
    },
    ...options,
  });
}

function clientHost(options: { failover?: false } = {}) {
  return createMcpMqttClientHost({ mqtt: { url: broker.url }, serverNameFilters: ['drain/#'], ...options });
}

function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ text?: string }> }).content ?? [];
  return content.map((part) => part.text ?? '').join('');
}

/** The next discovery change of `serverName` that passes `predicate`. */
async function nextChange(
  changes: AsyncIterableIterator<McpServerChange>,
  predicate: (change: McpServerChange) => boolean,
): Promise<McpServerChange> {
  for (;;) {
    const { value, done } = await changes.next();
    if (done) throw new Error('discovery ended');
    if (predicate(value)) return value;
  }
}

describe('drain', () => {
  it('says draining in the presence, refuses new sessions, lets the call in flight finish and resolves when the client leaves', async () => {
    const held = gate();
    await using host = await serve(held);
    await using clients = await clientHost();
    const controller = new AbortController();
    const changes = clients.discover({ signal: controller.signal });
    const online = await nextChange(changes, (change) => change.server.serverId === host.serverId);
    expect(online.type).toBe('online');
    expect(online.server.draining).toBe(false);

    const client = new Client({ name: 'stays', version: '1.0.0' });
    await clients.connect(client, host.serverName);
    const call = client.callTool({ name: 'slow', arguments: {} });
    await held.running;

    const draining = nextEvent<{ sessions: number; graceMs: number }>((listener) =>
      host.on('draining', listener),
    );
    const drained = host.drain({ graceMs: 10 * 60_000 });
    expect(await draining).toEqual({ sessions: 1, graceMs: 10 * 60_000 });
    expect(host.isDraining).toBe(true);

    // The same instance, re-published: an `online` change whose instance says draining, other meta kept.
    const update = await nextChange(changes, (change) => change.server.serverId === host.serverId);
    expect(update.type).toBe('online');
    expect(update.server.draining).toBe(true);
    expect(update.server.meta).toEqual({ site: 'line-7', draining: true });
    expect(update.server.description).toBe('press');

    // A new session is refused with reason 'draining'.
    await using other = await clientHost();
    const refused = await failure(
      other.connect(new Client({ name: 'late', version: '1.0.0' }), host.serverName, {
        serverId: host.serverId,
      }),
    );
    expect(sessionRefusalReason(refused)).toBe('draining');
    expect((refused as Error).message).toMatch(/draining/);
    expect(host.sessions.size).toBe(1);

    // The open session is still served, and the call started before the drain completes.
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe(
      'still here',
    );
    held.release();
    expect(textOf(await call)).toBe('done');

    await client.close();
    expect(await drained).toEqual({
      sessionsAtStart: 1,
      sessionsLeftByClients: 1,
      sessionsClosedAtDeadline: 0,
      requestsInFlightAtDeadline: 0,
    });
    expect(host.closed).toBe(true);
    const gone = await nextChange(changes, (change) => change.server.serverId === host.serverId);
    expect(gone.type).toBe('offline');
    controller.abort();
  });

  it('answers an initialize on the wire with error -32000 and data.reason draining', async () => {
    const held = gate();
    await using host = await serve(held);
    await using clients = await clientHost();
    const client = new Client({ name: 'stays', version: '1.0.0' });
    await clients.connect(client, host.serverName);
    const drained = host.drain({ graceMs: 10 * 60_000 });
    const peer = await RawPeer.connect(broker.url);
    try {
      const { response } = await rawInitialize(peer, host, 7);
      expect(response).toEqual({
        jsonrpc: '2.0',
        id: 7,
        error: {
          code: -32000,
          message: 'server instance is draining: connect to another instance',
          data: { reason: 'draining' },
        },
      });
      expect(sessionRefusalReason(response.error)).toBe('draining');
    } finally {
      await peer.close();
    }
    await client.close();
    expect((await drained).sessionsLeftByClients).toBe(1);
  });

  it('closes the sessions still open when the grace period runs out, and counts their calls in flight', async () => {
    const held = gate();
    await using host = await serve(held);
    // No other instance to move to, and failover off: the session closes at the deadline.
    await using clients = await clientHost({ failover: false });
    const client = new Client({ name: 'stays', version: '1.0.0' });
    await clients.connect(client, host.serverName);
    const closed = new Promise<void>((resolve) => (client.onclose = () => resolve()));
    const call = failure(client.callTool({ name: 'slow', arguments: {} }));
    await held.running;

    const result = await host.drain({ graceMs: 50 });
    expect(result).toEqual({
      sessionsAtStart: 1,
      sessionsLeftByClients: 0,
      sessionsClosedAtDeadline: 1,
      requestsInFlightAtDeadline: 1,
    });
    expect(host.closed).toBe(true);
    expect(host.sessions.size).toBe(0);
    // The client was told: its session closed, and the call cut short fails instead of hanging.
    await closed;
    expect(await call).toBeInstanceOf(Error);
    held.release();
  });

  it('is idempotent; an aborted signal or close() ends the wait as the deadline would', async () => {
    const held = gate();
    await using host = await serve(held);
    await using clients = await clientHost();
    await clients.connect(new Client({ name: 'stays', version: '1.0.0' }), host.serverName);

    const controller = new AbortController();
    const first = host.drain({ graceMs: Infinity, signal: controller.signal });
    expect(host.drain()).toBe(first);
    controller.abort();
    expect(await first).toEqual({
      sessionsAtStart: 1,
      sessionsLeftByClients: 0,
      sessionsClosedAtDeadline: 1,
      requestsInFlightAtDeadline: 0,
    });
    expect(host.drain()).toBe(first);

    const second = await serve(held);
    await clients.connect(new Client({ name: 'b', version: '1.0.0' }), second.serverName);
    const drained = second.drain({ graceMs: Infinity });
    await second.close();
    expect((await drained).sessionsClosedAtDeadline).toBe(1);
    expect(second.closed).toBe(true);
  });

  it('resolves at once with no sessions; on a closed host it resolves with zeros; bad graceMs throws', async () => {
    const held = gate();
    const host = await serve(held);
    expect(() => host.drain({ graceMs: -1 })).toThrow(/graceMs/);
    expect(() => host.drain({ graceMs: Number.NaN })).toThrow(/graceMs/);
    expect(host.isDraining).toBe(false);
    const zeros = {
      sessionsAtStart: 0,
      sessionsLeftByClients: 0,
      sessionsClosedAtDeadline: 0,
      requestsInFlightAtDeadline: 0,
    };
    expect(await host.drain({ graceMs: 10 * 60_000 })).toEqual(zeros);
    expect(host.closed).toBe(true);

    const closed = await serve(held);
    await closed.close();
    expect(await closed.drain()).toEqual(zeros);
  });
});
