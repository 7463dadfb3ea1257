// Defect 5 (issue 12): MCP session exhaustion. One MQTT connection sends initializes under fake client ids;
// a server host must keep at most `maxSessions` (default 1000) sessions, answer the refused with a clear
// JSON-RPC error, reap sessions that never finish initialization or go idle (notifications/disconnected,
// subscriptions removed), and, when it trusts the broker's sender stamps, cap the sessions of one sender.
// The default limit is checked in a child process, with its RSS measured from outside.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { BrokerOptions } from '@mqtt-agents/broker';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { SenderUserProperty } from '@mqtt-agents/core';
import type { MqttAgentsError } from '@mqtt-agents/core';
import {
  DEFAULT_INITIALIZATION_TIMEOUT_MS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_SESSIONS_PER_SENDER,
  DEFAULT_SESSION_IDLE_TIMEOUT_MS,
  createMcpMqttClientHost,
  serveMcpOverMqtt,
} from '@mqtt-agents/mcp';
import type { McpServerHost, McpServerSession, ServeMcpOverMqttOptions } from '@mqtt-agents/mcp';
import type { Packet } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ErrorSink,
  RawPeer,
  buildTestServer,
  initializeRequest,
  nextEvent,
} from '../../packages/mcp/test/helpers.js';
import { embeddedLane, eventually, unique } from './helpers.js';

/**
 * What an identity-stamping broker does (the embedded broker's `agentTopicAcl` in production): every
 * client authenticates as the principal named by its user name, and every routed message carries the
 * verified sender, client copies removed.
 */
const stampingBroker: BrokerOptions = {
  authenticate: (context) => ({
    principal: { name: context.username ?? context.id, method: 'test', roles: ['agent'] },
  }),
  rewritePublish: (client, message) => {
    const userProperties = { ...message.properties.userProperties };
    for (const name of Object.values(SenderUserProperty)) delete userProperties[name];
    userProperties[SenderUserProperty.ClientId] = client.id;
    if (client.principal) {
      userProperties[SenderUserProperty.Principal] = client.principal.name;
      userProperties[SenderUserProperty.Roles] = client.principal.roles.join(',');
    }
    return { ...message.properties, userProperties };
  },
};

/** Initializes of the default-limit flood (the issue measured 5,000: `SECURITY_MCP_FLOOD=5000`). */
const FLOOD = Number(process.env.SECURITY_MCP_FLOOD ?? 1_500);

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker(embeddedLane ? { embedded: stampingBroker } : {});
});
afterAll(async () => {
  await broker.close();
});

function serve(overrides: Partial<ServeMcpOverMqttOptions> = {}): Promise<McpServerHost> {
  return serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `sessions/${unique('press')}`,
    description: 'a server under a session flood',
    createServer: () => buildTestServer(),
    ...overrides,
  });
}

/** Every initialize answer (result or error) the flooding connection receives, by fake client id. */
interface Flood {
  peer: RawPeer;
  ids: string[];
  answers: Map<string, Record<string, unknown>>;
  disconnects: Set<string>;
}

/** One connection, `count` initializes, each claiming a different client id. Resolves once all are answered. */
async function flood(
  url: string,
  host: { serverId: string; serverName: string },
  count: number,
): Promise<Flood> {
  const peer = await RawPeer.connect(url);
  const answers = new Map<string, Record<string, unknown>>();
  const disconnects = new Set<string>();
  const prefix = `$mcp-rpc/`;
  peer.client.on('message', (topic, payload) => {
    const mcpClientId = topic.slice(prefix.length, topic.indexOf('/', prefix.length));
    const message = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    if (message.method === 'notifications/disconnected') disconnects.add(mcpClientId);
    else if (message.id === 1) answers.set(mcpClientId, message);
  });
  await peer.subscribe(`$mcp-rpc/+/${host.serverId}/${host.serverName}`);
  const ids = Array.from({ length: count }, (_, index) => `fake-${index}-${unique('c')}`);
  const control = `$mcp-server/${host.serverId}/${host.serverName}`;
  await Promise.all(
    ids.map((clientId) => peer.publishAs('mcp-client', control, initializeRequest(1), { clientId })),
  );
  await eventually(() => answers.size === count, `${count} initialize answers`, 20_000);
  return { peer, ids, answers, disconnects };
}

function refusals(answers: Map<string, Record<string, unknown>>): Array<{ code: unknown; message: unknown }> {
  return [...answers.values()]
    .filter((answer) => answer.error !== undefined)
    .map((answer) => answer.error as { code: unknown; message: unknown });
}

describe('session limits', () => {
  it('a flood of initializes from fake client ids leaves at most maxSessions open; the refused get a clear error', async () => {
    const errors = new ErrorSink();
    await using host = await serve({ maxSessions: 20, onerror: errors.onerror });
    const subscriptionsBefore = broker.broker?.subscriptionCount ?? 0;
    const attack = await flood(broker.url, host, 60);
    expect(host.sessions.size).toBe(20);
    const refused = refusals(attack.answers);
    expect(refused).toHaveLength(40);
    for (const error of refused) {
      expect(error).toMatchObject({
        code: -32000,
        message: 'server instance has no room for another session',
      });
    }
    expect(errors.matching(/sessions already open \(maxSessions\)/)).toHaveLength(40);
    // Three subscriptions per session (rpc, client presence, client capability), none for the refused;
    // plus the flooding peer's own.
    if (broker.broker) expect(broker.broker.subscriptionCount - subscriptionsBefore).toBe(3 * 20 + 1);
    await attack.peer.close();
  });

  it('the default limits are bounded and documented', () => {
    expect(DEFAULT_MAX_SESSIONS).toBe(1000);
    expect(DEFAULT_MAX_SESSIONS_PER_SENDER).toBe(16);
    expect(DEFAULT_SESSION_IDLE_TIMEOUT_MS).toBe(30 * 60_000);
    expect(DEFAULT_INITIALIZATION_TIMEOUT_MS).toBe(30_000);
  });

  it('bad limits are refused before connecting', async () => {
    await expect(serve({ maxSessions: 0 })).rejects.toThrow(/maxSessions must be a positive integer/);
    await expect(serve({ sessionIdleTimeoutMs: -1 })).rejects.toThrow(/sessionIdleTimeoutMs/);
  });

  it(`with the default limit, ${FLOOD.toLocaleString('en-US')} initializes leave 1,000 sessions and the server process grows < 96 MiB`, async () => {
    const child = await spawnServer(broker.url, `sessions/${unique('press')}`, {});
    try {
      const before = await child.stats();
      const attack = await flood(broker.url, child.info, FLOOD);
      const after = await child.stats();
      const growth = after.rss - before.rss;
      process.stderr.write(
        `mcp-sessions: ${FLOOD} initializes -> ${after.sessions} sessions, rss +${(growth / 2 ** 20).toFixed(1)} MiB, heap +${((after.heapUsed - before.heapUsed) / 2 ** 20).toFixed(1)} MiB\n`,
      );
      expect(after.sessions).toBe(DEFAULT_MAX_SESSIONS);
      expect(refusals(attack.answers)).toHaveLength(FLOOD - DEFAULT_MAX_SESSIONS);
      expect(growth).toBeLessThan(96 * 2 ** 20);
      await attack.peer.close();
    } finally {
      await child.close();
    }
  });
});

describe('session reaping', () => {
  it('sessions whose client never sends notifications/initialized are closed, with notifications/disconnected and their subscriptions removed', async () => {
    const closed: Array<{ session: McpServerSession; reason: MqttAgentsError | undefined }> = [];
    await using host = await serve({ initializationTimeoutMs: 150 });
    host.on('session-close', (session, reason) => closed.push({ session, reason }));
    const unsubscribed: string[] = [];
    host.connection.client.on('packetsend', (packet: Packet) => {
      if (packet.cmd === 'unsubscribe') unsubscribed.push(...(packet.unsubscriptions as string[]));
    });
    const subscriptionsBefore = broker.broker?.subscriptionCount ?? 0;
    const attack = await flood(broker.url, host, 30);
    expect(refusals(attack.answers)).toHaveLength(0);
    await eventually(() => closed.length === 30, 'every half-open session reaped');
    expect(host.sessions.size).toBe(0);
    for (const { reason } of closed) {
      expect(reason?.code).toBe('REQUEST_TIMEOUT');
      expect(reason?.message).toMatch(/did not send notifications\/initialized within 150 ms/);
    }
    await eventually(
      () => attack.disconnects.size === 30,
      'notifications/disconnected to every reaped client',
    );
    await eventually(() => unsubscribed.length === 3 * 30, 'the reaped sessions unsubscribed');
    for (const clientId of attack.ids) expect(unsubscribed).toContain(`$mcp-client/presence/${clientId}`);
    if (broker.broker) {
      const embedded = broker.broker;
      await eventually(
        () => embedded.subscriptionCount === subscriptionsBefore + 1,
        'the broker holds no subscription of a reaped session',
      );
    }
    await attack.peer.close();
  });

  it('an initialized session whose client goes silent is closed after sessionIdleTimeoutMs; a busy one stays', async () => {
    let holding: () => void = () => {};
    const held = new Promise<void>((resolve) => (holding = resolve));
    await using host = await serve({
      sessionIdleTimeoutMs: 300,
      createServer: () => {
        const server = buildTestServer();
        server.registerTool('hold', { description: 'holds until cancelled' }, async (extra) => {
          holding();
          await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve()));
          return { content: [] };
        });
        return server;
      },
    });
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: [host.serverName],
      // The reaped session is to close, not to wait for another instance of a one-instance server.
      failover: false,
    });
    const busy = new Client({ name: 'busy', version: '1.0.0' });
    const idle = new Client({ name: 'idle', version: '1.0.0' });
    const busyTransport = await clients.connect(busy, host.serverName, { dedicatedConnection: true });
    // A request the server works on keeps its session, however long it takes.
    const hanging = busy.callTool({ name: 'hold', arguments: {} }, undefined, { timeout: 60_000 });
    hanging.catch(() => {});
    await held;
    const idleTransport = await clients.connect(idle, host.serverName, { dedicatedConnection: true });
    const idleClosed = new Promise<void>((resolve) => {
      const previous = idle.onclose;
      idle.onclose = () => {
        previous?.();
        resolve();
      };
    });
    const reaped = await nextEvent<[McpServerSession, MqttAgentsError | undefined]>(
      (listener) => host.on('session-close', (session, reason) => listener([session, reason])),
      ([session]) => session.mcpClientId === idleTransport.mcpClientId,
      'the idle session reaped',
    );
    expect(reaped[1]?.message).toMatch(/silent for 300 ms: idle session closed/);
    await idleClosed; // the client was told (notifications/disconnected) and its SDK Client closed
    // The busy session went quiet earlier than the idle one, yet is still there: its request is in progress.
    expect(host.sessions.has(busyTransport.mcpClientId)).toBe(true);
    await busy.close();
  });
});

describe.skipIf(!embeddedLane)('sessions per verified sender (trustBrokerIdentity)', () => {
  it('one principal holds at most maxSessionsPerSender sessions, whatever client ids it uses; others still get in', async () => {
    const errors = new ErrorSink();
    await using host = await serve({
      trustBrokerIdentity: true,
      maxSessionsPerSender: 3,
      onerror: errors.onerror,
    });
    const hosts = await Promise.all(
      Array.from({ length: 4 }, () =>
        createMcpMqttClientHost({
          mqtt: { url: broker.url, username: 'mallory' },
          serverNameFilters: [host.serverName],
        }),
      ),
    );
    try {
      const outcomes = [];
      for (const clients of hosts) {
        const client = new Client({ name: 'mallory', version: '1.0.0' });
        outcomes.push(
          await clients.connect(client, host.serverName).then(
            () => 'open',
            (error: unknown) => (error as Error).message,
          ),
        );
      }
      expect(outcomes.slice(0, 3)).toEqual(['open', 'open', 'open']);
      expect(outcomes[3]).toMatch(/too many sessions from this sender/);
      await errors.waitFor(/its sender already holds 3 sessions \(maxSessionsPerSender\)/);
      await using other = await createMcpMqttClientHost({
        mqtt: { url: broker.url, username: 'alice' },
        serverNameFilters: [host.serverName],
      });
      await other.connect(new Client({ name: 'alice', version: '1.0.0' }), host.serverName);
      expect(host.sessions.size).toBe(4);
    } finally {
      await Promise.all(hosts.map((clients) => clients.close()));
    }
  });
});

interface ServerChild {
  info: { serverId: string; serverName: string };
  stats(): Promise<{ sessions: number; rss: number; heapUsed: number }>;
  close(): Promise<void>;
}

/** Start mcp-server-child.ts (a server host in its own process) and talk to it over stdin/stdout. */
async function spawnServer(
  url: string,
  serverName: string,
  options: Partial<ServeMcpOverMqttOptions>,
): Promise<ServerChild> {
  const script = fileURLToPath(new URL('./mcp-server-child.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--conditions=@mqtt-agents/source',
      '--import',
      import.meta.resolve('tsx'),
      script,
      url,
      serverName,
      JSON.stringify(options),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const nextLine = (what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server child: no ${what}: ${stderr}`)), 20_000);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
      void exited.then(() => reject(new Error(`server child exited: ${stderr}`)));
    });
  const info = JSON.parse(await nextLine('start line')) as ServerChild['info'];
  return {
    info,
    stats: async () => {
      const answer = nextLine('stats');
      child.stdin.write('stats\n');
      return JSON.parse(await answer) as Awaited<ReturnType<ServerChild['stats']>>;
    },
    close: async () => {
      child.stdin.write('close\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
