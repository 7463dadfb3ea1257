// A server process dies (kill -9: the kernel closes its socket) or freezes (SIGSTOP: the socket stays open and
// silent, as in a network partition). Clients must see it offline through its will within 1.5x its keep
// alive, and requests waiting on it must fail instead of hanging for their full timeout.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { ClientFactory } from '@a2a-js/sdk/client';
import { discoverAgents, mqttTransportFactory } from '@mqtt-agents/a2a';
import type { AgentRegistry, AgentRegistryChange } from '@mqtt-agents/a2a';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { createMcpMqttClientHost } from '@mqtt-agents/mcp';
import type { McpServerChange } from '@mqtt-agents/mcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { brokerKind, settle, spawnServerProcess, unique, userMessage } from './helpers.js';

const KEEPALIVE_S = 2;
/** The broker declares a silent client dead after 1.5x its keep alive; allow a little for delivery. */
const OFFLINE_WITHIN_MS = 1.5 * KEEPALIVE_S * 1000 + 750;
/**
 * Mosquitto 2.0 checks keep alives late: measured on 2.0.11, the will of a silent client comes 4.5-5.4 s after
 * its last packet with a keep alive of 1 or 2 s, and 10.5-11.2 s with 4 s. The SDK cannot see the death before
 * the broker declares it, so on Mosquitto the silent case gets that much more time; a closed socket does not.
 */
const MOSQUITTO_KEEPALIVE_LATENESS_MS = 5_000;
/** Once the broker published the will, the SDK must report it at once. */
const REPORTED_WITHIN_MS = 500;

function offlineWithin(signal: 'SIGKILL' | 'SIGSTOP'): number {
  return signal === 'SIGSTOP' && brokerKind === 'mosquitto'
    ? OFFLINE_WITHIN_MS + MOSQUITTO_KEEPALIVE_LATENESS_MS
    : OFFLINE_WITHIN_MS;
}

/** A plain MQTT.js subscriber that notes when the broker delivers the first message on `topic` matching. */
async function willWatcher(
  url: string,
  topic: string,
  isWill: (payload: Buffer, properties: Record<string, unknown>) => boolean,
): Promise<{ seen: Promise<number>; close(): Promise<void> }> {
  const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const seen = new Promise<number>((resolve) => {
    client.on('message', (_topic, payload, packet) => {
      if (
        !packet.retain &&
        isWill(payload, (packet.properties?.userProperties ?? {}) as Record<string, unknown>)
      )
        resolve(Date.now());
    });
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return { seen, close: () => client.endAsync(true).then(() => undefined) };
}

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

function nextChange<T>(
  iterator: AsyncIterator<T>,
  predicate: (change: T) => boolean,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for the offline change')), timeoutMs);
    void (async () => {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return reject(new Error('the change stream ended'));
        if (predicate(next.value)) {
          clearTimeout(timer);
          return resolve(Date.now());
        }
      }
    })();
  });
}

describe.each([
  { signal: 'SIGKILL' as const, how: 'kill -9' },
  { signal: 'SIGSTOP' as const, how: 'frozen (SIGSTOP)' },
])('a server process $how', ({ signal }) => {
  it(
    'MCP: clients see the server offline via its will within 1.5x keep-alive, and a pending call fails fast',
    { timeout: 30_000 },
    async () => {
      const serverName = `doomed/${unique('press')}`;
      const server = await spawnServerProcess('mcp', {
        url: broker.url,
        keepalive: KEEPALIVE_S,
        name: serverName,
      });
      try {
        await using clients = await createMcpMqttClientHost({
          mqtt: { url: broker.url },
          serverNameFilters: ['doomed/#'],
        });
        await clients.waitForServer(serverName, { timeoutMs: 10_000 });
        const client = new Client({ name: 'survivor', version: '1.0.0' });
        await clients.connect(client, serverName);
        // tools/call waits 60 s by default: it must end long before that.
        const pending = settle(client.callTool({ name: 'hang', arguments: {} }));
        const discovery = clients.discover();
        // Drain the initial 'online' of the instance, then wait for its 'offline'.
        const offline = nextChange<McpServerChange>(
          discovery,
          (change) => change.type === 'offline' && change.server.serverId === server.info.serverId,
          15_000,
        );
        const watcher = await willWatcher(
          broker.url,
          `$mcp-server/presence/${server.info.serverId}/${serverName}`,
          (payload) => payload.length === 0,
        );
        await new Promise((resolve) => setTimeout(resolve, 200));

        const killedAt = Date.now();
        server.kill(signal);
        const [offlineAt, willAt] = await Promise.all([offline, watcher.seen]);
        const outcome = await pending;
        await discovery.return?.();
        await watcher.close();

        expect(willAt - killedAt).toBeLessThanOrEqual(offlineWithin(signal));
        expect(offlineAt - willAt).toBeLessThanOrEqual(REPORTED_WITHIN_MS);
        if (signal === 'SIGSTOP') {
          // Seen through the keep-alive expiry, not a closed socket: not before half a keep alive.
          expect(offlineAt - killedAt).toBeGreaterThanOrEqual(KEEPALIVE_S * 500 - 100);
        }
        expect(outcome.ok).toBe(false);
        expect(outcome.error).toMatchObject({ code: ErrorCode.ConnectionClosed });
        expect(outcome.settledAt - willAt).toBeLessThanOrEqual(REPORTED_WITHIN_MS);
        expect(clients.instancesOf(serverName)).toEqual([]);
      } finally {
        server.kill('SIGKILL');
        await server.exited;
      }
    },
  );

  it(
    'A2A: the registry sees the card offline (source lwt) within 1.5x keep-alive, and a pending request fails within its retry budget',
    { timeout: 30_000 },
    async () => {
      const org = unique('org');
      const server = await spawnServerProcess('a2a', {
        url: broker.url,
        keepalive: KEEPALIVE_S,
        name: `${org}/u/doomed`,
      });
      let registry: AgentRegistry | undefined;
      try {
        registry = await discoverAgents({ mqtt: { url: broker.url }, org, unit: 'u' });
        const { card } = await registry.waitFor('doomed', { online: true, timeoutMs: 10_000 });
        const retry = { replyFirstTimeoutMs: 1_000, maxAttempts: 2, initialBackoffMs: 100 };
        await using transports = mqttTransportFactory({
          mqtt: { url: broker.url },
          org,
          unit: 'u',
          agentId: 'requester',
          retry,
        });
        const client = await new ClientFactory({ transports: [transports] }).createFromAgentCard(card);
        const sentAt = Date.now();
        const pending = settle(
          client.sendMessage({
            tenant: '',
            message: userMessage('are you there?'),
            configuration: undefined,
            metadata: undefined,
          }),
        );
        const changes = registry.changes();
        const offline = nextChange<AgentRegistryChange>(
          changes,
          (change) =>
            change.type === 'updated' &&
            change.agent.agentId === 'doomed' &&
            change.agent.status === 'offline' &&
            change.agent.statusSource === 'lwt',
          15_000,
        );
        const watcher = await willWatcher(
          broker.url,
          `$a2a/v1/discovery/${org}/u/doomed`,
          (_payload, properties) => properties['a2a-status-source'] === 'lwt',
        );
        await new Promise((resolve) => setTimeout(resolve, 200));

        const killedAt = Date.now();
        server.kill(signal);
        const [offlineAt, willAt] = await Promise.all([offline, watcher.seen]);
        const outcome = await pending;
        await changes.return?.();
        await watcher.close();

        expect(willAt - killedAt).toBeLessThanOrEqual(offlineWithin(signal));
        expect(offlineAt - willAt).toBeLessThanOrEqual(REPORTED_WITHIN_MS);
        if (signal === 'SIGSTOP')
          expect(offlineAt - killedAt).toBeGreaterThanOrEqual(KEEPALIVE_S * 500 - 100);
        // Liveness is advisory for A2A requesters: the request ends with its retry budget (two attempts of 1 s
        // and one backoff of 100 ms +/-20%, counted from when it was sent), not with the default 3 x 15 s.
        expect(outcome.ok).toBe(false);
        expect(outcome.error).toMatchObject({ code: 'REQUEST_TIMEOUT' });
        expect(outcome.settledAt - sentAt).toBeLessThanOrEqual(2 * 1_000 + 120 + 1_000);
      } finally {
        await registry?.close();
        server.kill('SIGKILL');
        await server.exited;
      }
    },
  );
});
