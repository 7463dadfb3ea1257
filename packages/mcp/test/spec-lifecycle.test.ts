// Spec rules about the life of a session: de-initialization by either side while the MQTT connection stays,
// offline detection, repeated initialize, duplicate sessions, timeouts and health checks.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { MqttAgentsError } from '@mqtt-agents/core';
import type { Packet } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MCP_MQTT_DEFAULT_TIMEOUTS,
  createMcpMqttClientHost,
  serveMcpOverMqtt,
  sessionRefusalReason,
} from '../src/index.js';
import type {
  CreateMcpMqttClientHostOptions,
  McpServerChange,
  McpServerHost,
  McpServerSession,
  ServeMcpOverMqttOptions,
} from '../src/index.js';
import { HEALTH_PING_ID_PREFIX } from '../src/index.js';
import {
  ErrorSink,
  RawPeer,
  failure,
  buildTestServer,
  json,
  nextEvent,
  quiet,
  rawInitialize,
  sessionTopics,
  unique,
} from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

function serve(overrides: Partial<ServeMcpOverMqttOptions> = {}): Promise<McpServerHost> {
  return serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `life/${unique('press')}`,
    description: 'Press controls',
    createServer: () => buildTestServer(),
    ...overrides,
  });
}

function clientHost(overrides: Partial<CreateMcpMqttClientHostOptions> = {}) {
  return createMcpMqttClientHost({ mqtt: { url: broker.url }, serverNameFilters: ['life/#'], ...overrides });
}

function unsubscribedTopics(log: Packet[]): string[] {
  return log.flatMap((packet) => (packet.cmd === 'unsubscribe' ? (packet.unsubscriptions as string[]) : []));
}

function closedPromise(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const previous = client.onclose;
    client.onclose = () => {
      previous?.();
      resolve();
    };
  });
}

describe('de-initialization', () => {
  it('client de-initializes with notifications/disconnected on the rpc topic while the mqtt connection stays', async () => {
    await using server = await serve();
    await using clients = await clientHost();
    const sent: Packet[] = [];
    clients.connection.client.on('packetsend', (packet: Packet) => sent.push(packet));
    const serverSent: Packet[] = [];
    server.connection.client.on('packetsend', (packet: Packet) => serverSent.push(packet));
    const observer = await RawPeer.connect(broker.url);
    const topics = sessionTopics({
      mcpClientId: clients.mcpClientId,
      serverId: server.serverId,
      serverName: server.serverName,
    });
    await observer.subscribe(topics.rpc);
    const client = new Client({ name: 'life', version: '1.0.0' });
    await clients.connect(client, server.serverName);
    const ended = nextEvent<McpServerSession>((listener) => server.on('session-close', listener));
    await client.close();
    expect(
      json(await observer.next((message) => json(message)?.method === 'notifications/disconnected')),
    ).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/disconnected',
    });
    expect((await ended).mcpClientId).toBe(clients.mcpClientId);
    // The client unsubscribes from the session's topics; so does the server from the client's topics.
    expect(unsubscribedTopics(sent)).toEqual(expect.arrayContaining([topics.rpc, topics.serverCapability]));
    await expect
      .poll(() => unsubscribedTopics(serverSent))
      .toEqual(expect.arrayContaining([topics.rpc, topics.clientCapability, topics.clientPresence]));
    expect(clients.connection.connected).toBe(true);
    // The connection is still good for a new session.
    const again = new Client({ name: 'life', version: '1.0.0' });
    await clients.connect(again, server.serverName);
    expect((await again.callTool({ name: 'echo', arguments: { text: 'back' } })).content).toEqual([
      { type: 'text', text: 'back' },
    ]);
    await again.close();
    await observer.close();
  });

  it('server de-initializes a session while the mqtt connection stays: the client session closes and pending requests reject', async () => {
    await using server = await serve();
    await using clients = await clientHost({ failover: false });
    const observer = await RawPeer.connect(broker.url);
    const topics = sessionTopics({
      mcpClientId: clients.mcpClientId,
      serverId: server.serverId,
      serverName: server.serverName,
    });
    await observer.subscribe(topics.rpc);
    const client = new Client({ name: 'life', version: '1.0.0' });
    const transport = await clients.connect(client, server.serverName);
    const sent: Packet[] = [];
    clients.connection.client.on('packetsend', (packet: Packet) => sent.push(packet));
    const closed = closedPromise(client);
    const pending = failure(client.callTool({ name: 'hang', arguments: {} }));
    await observer.next((message) => json(message)?.method === 'tools/call');
    await server.closeSession(clients.mcpClientId);
    expect(await pending).toMatchObject({ code: ErrorCode.ConnectionClosed });
    await closed;
    expect(transport.isClosed).toBe(true);
    await observer.next((message) => json(message)?.method === 'notifications/disconnected');
    await expect
      .poll(() => unsubscribedTopics(sent))
      .toEqual(expect.arrayContaining([topics.rpc, topics.serverCapability]));
    expect(server.connection.connected).toBe(true);
    expect(server.sessions.size).toBe(0);
    await observer.close();
  });

  it('closing the sdk server of a session de-initializes it', async () => {
    const servers: McpServer[] = [];
    await using server = await serve({
      createServer: () => {
        const built = buildTestServer();
        servers.push(built);
        return built;
      },
    });
    await using clients = await clientHost({ failover: false });
    const client = new Client({ name: 'life', version: '1.0.0' });
    await clients.connect(client, server.serverName);
    const closed = closedPromise(client);
    await servers[0]!.close();
    await closed;
    expect(server.sessions.size).toBe(0);
  });
});

describe('offline detection', () => {
  it('an empty presence closes the client session and pending requests reject', async () => {
    await using server = await serve();
    await using clients = await clientHost({ failover: false });
    const client = new Client({ name: 'life', version: '1.0.0' });
    await clients.connect(client, server.serverName);
    const errors = new ErrorSink();
    client.onerror = errors.onerror;
    const closed = closedPromise(client);
    const pending = failure(client.callTool({ name: 'hang', arguments: {} }));
    const offline = nextEvent<McpServerChange>(
      (listener) => {
        const iterator = clients.discover();
        let stop = false;
        void (async () => {
          for await (const change of iterator) {
            if (stop) break;
            listener(change);
          }
        })();
        return () => {
          stop = true;
          void iterator.return?.();
        };
      },
      (change) => change.type === 'offline',
    );
    // Anyone may clear a retained presence (here a raw peer, as the broker does with the will).
    const peer = await RawPeer.connect(broker.url);
    await peer.publish(`$mcp-server/presence/${server.serverId}/${server.serverName}`, '', { retain: true });
    expect(await pending).toMatchObject({ code: ErrorCode.ConnectionClosed });
    await closed;
    expect((await offline).server.serverId).toBe(server.serverId);
    await errors.waitFor(/went offline/);
    expect(clients.instancesOf(server.serverName)).toEqual([]);
    await peer.close();
  });

  it('a server that disconnects without a word is detected through its will', async () => {
    const server = await serve({ mqtt: { url: broker.url, reconnectPeriodMs: 0 } });
    await using clients = await clientHost();
    const client = new Client({ name: 'life', version: '1.0.0' });
    await clients.connect(client, server.serverName);
    const pending = failure(client.callTool({ name: 'hang', arguments: {} }));
    (server.connection.client as unknown as { stream: { destroy(): void } }).stream.destroy();
    expect(await pending).toMatchObject({ code: ErrorCode.ConnectionClosed });
    await server.close();
  });
});

describe('sessions', () => {
  it('a second initialize from the same mcp-client-id closes the old session and starts a fresh server', async () => {
    let built = 0;
    const closedServers: number[] = [];
    await using server = await serve({
      createServer: () => {
        const index = ++built;
        const instance = buildTestServer();
        instance.server.onclose = () => closedServers.push(index);
        return instance;
      },
    });
    const peer = await RawPeer.connect(broker.url);
    const first = await rawInitialize(peer, server, 'a');
    expect(first.response.result).toBeDefined();
    const second = await rawInitialize(peer, server, 'b');
    expect(second.response.result).toBeDefined();
    expect(built).toBe(2);
    expect(closedServers).toEqual([1]);
    expect(server.sessions.size).toBe(1);
    // The fresh session answers on the same topics; nothing told the client it was disconnected.
    await peer.publishAs('mcp-client', first.topics.rpc, {
      jsonrpc: '2.0',
      method: 'notifications/initialized',
    });
    await peer.publishAs('mcp-client', first.topics.rpc, { jsonrpc: '2.0', id: 0, method: 'tools/list' });
    const list = await peer.next((message) => json(message)?.id === 0, 'tools/list response');
    expect((json(list)?.result as { tools: unknown[] }).tools.length).toBeGreaterThan(0);
    expect(peer.messages.some((message) => json(message)?.method === 'notifications/disconnected')).toBe(
      false,
    );
    await peer.close();
  });

  it('a second session with the same instance gets a connection on demand; maxConnections bounds them with a DUPLICATE_SESSION that explains', async () => {
    await using server = await serve();
    await using clients = await clientHost();
    const first = new Client({ name: 'life', version: '1.0.0' });
    await clients.connect(first, server.serverName);
    const second = new Client({ name: 'life', version: '1.0.0' });
    const onDemand = await clients.connect(second, server.serverName);
    expect(onDemand.mcpClientId).not.toBe(clients.mcpClientId);
    expect(server.sessions.size).toBe(2);
    expect((await second.callTool({ name: 'whoami', arguments: {} })).content).toEqual([
      { type: 'text', text: onDemand.mcpClientId },
    ]);
    const closed = nextEvent<McpServerSession>(
      (listener) => server.on('session-close', listener),
      (session) => session.mcpClientId === onDemand.mcpClientId,
    );
    await second.close();
    await closed;

    await using bounded = await clientHost({ maxConnections: 0 });
    await bounded.connect(new Client({ name: 'life', version: '1.0.0' }), server.serverName);
    const refused = bounded.connect(new Client({ name: 'life', version: '1.0.0' }), server.serverName, {
      serverId: server.serverId,
    });
    await expect(refused).rejects.toSatisfy(
      (error) =>
        MqttAgentsError.hasCode(error, 'DUPLICATE_SESSION') && /maxConnections \(0\)/.test(error.message),
    );
    const dedicated = await bounded.connect(
      new Client({ name: 'life', version: '1.0.0' }),
      server.serverName,
      {
        dedicatedConnection: true,
      },
    );
    expect(dedicated.mcpClientId).not.toBe(bounded.mcpClientId);
    await first.close();
  });
});

describe('transport contract', () => {
  it('a second start() throws ALREADY_STARTED with a hint, on both sides', async () => {
    await using server = await serve();
    await using clients = await clientHost();
    const client = new Client({ name: 'life', version: '1.0.0' });
    const transport = await clients.connect(client, server.serverName);
    await expect(transport.start()).rejects.toMatchObject({
      code: 'ALREADY_STARTED',
      message: expect.stringMatching(/connect\(\)/),
    });
    const session = server.sessions.get(clients.mcpClientId)!;
    await expect(session.transport.start()).rejects.toMatchObject({ code: 'ALREADY_STARTED' });
    await client.close();
    await expect(transport.start()).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(
      transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    ).rejects.toMatchObject({
      code: 'CONNECTION_CLOSED',
    });
  });

  it('close() is idempotent and fires onclose once', async () => {
    await using server = await serve();
    await using clients = await clientHost();
    const client = new Client({ name: 'life', version: '1.0.0' });
    const transport = await clients.connect(client, server.serverName);
    let closes = 0;
    const previous = transport.onclose;
    transport.onclose = () => {
      closes++;
      previous?.();
    };
    await Promise.all([transport.close(), transport.close(), transport[Symbol.asyncDispose]()]);
    await transport.close();
    expect(closes).toBe(1);
    await Promise.all([clients.close(), clients.close()]);
    await Promise.all([server.close(), server[Symbol.asyncDispose]()]);
  });

  it('maxSessions refuses sessions beyond the limit with an error response', async () => {
    const errors = new ErrorSink();
    await using server = await serve({ maxSessions: 1, onerror: errors.onerror });
    await using first = await clientHost();
    await using second = await clientHost();
    const a = new Client({ name: 'a', version: '1.0.0' });
    await first.connect(a, server.serverName);
    const b = new Client({ name: 'b', version: '1.0.0' });
    const refused = await failure(second.connect(b, server.serverName));
    expect((refused as Error).message).toMatch(/no room for another session/);
    expect(sessionRefusalReason(refused)).toBe('session-limit');
    await errors.waitFor(/1 sessions already open/);
    expect(server.sessions.size).toBe(1);
    await a.close();
  });
});

describe('timeouts', () => {
  it("the spec's per-method default timeouts are exported as a constant", () => {
    expect(MCP_MQTT_DEFAULT_TIMEOUTS).toEqual({
      initialize: 30_000,
      ping: 10_000,
      'roots/list': 30_000,
      'resources/list': 30_000,
      'tools/list': 30_000,
      'prompts/list': 30_000,
      'prompts/get': 30_000,
      'sampling/createMessage': 60_000,
      'resources/read': 30_000,
      'resources/templates/list': 30_000,
      'resources/subscribe': 30_000,
      'tools/call': 60_000,
      'completion/complete': 60_000,
      'logging/setLevel': 30_000,
    });
    expect(Object.isFrozen(MCP_MQTT_DEFAULT_TIMEOUTS)).toBe(true);
  });

  it('per-method timeouts apply to requests: a timed-out request rejects with RequestTimeout and is cancelled on the server', async () => {
    let aborted: () => void = () => {};
    const serverSawAbort = new Promise<void>((resolve) => (aborted = resolve));
    await using server = await serve({
      createServer: () => {
        const built = buildTestServer();
        built.registerTool('slow', { description: 'slow' }, async (extra) => {
          await new Promise<void>((resolve) =>
            extra.signal.addEventListener('abort', () => resolve(), { once: true }),
          );
          aborted();
          return { content: [] };
        });
        return built;
      },
    });
    await using clients = await clientHost({ requestTimeouts: { 'tools/call': 150 } });
    const client = new Client({ name: 'life', version: '1.0.0' });
    await clients.connect(client, server.serverName);
    const started = Date.now();
    const error = await client.callTool({ name: 'slow', arguments: {} }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(ErrorCode.RequestTimeout);
    expect((error as McpError).message).toMatch(/tools\/call timed out after 150 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await serverSawAbort;
    // The session goes on.
    expect((await client.callTool({ name: 'echo', arguments: { text: 'still here' } })).content).toEqual([
      { type: 'text', text: 'still here' },
    ]);
    await client.close();
  });

  it('progress notifications restart the per-method timeout', async () => {
    await using server = await serve({
      createServer: () => {
        const built = buildTestServer();
        built.registerTool('ticking', { description: 'ticks' }, async (extra) => {
          for (let tick = 1; tick <= 5; tick++) {
            await new Promise((resolve) => setTimeout(resolve, 60));
            await extra.sendNotification({
              method: 'notifications/progress',
              params: { progressToken: extra._meta?.progressToken ?? 0, progress: tick, total: 5 },
            });
          }
          return { content: [{ type: 'text', text: 'done' }] };
        });
        return built;
      },
    });
    await using clients = await clientHost({ requestTimeouts: { 'tools/call': 150 } });
    const client = new Client({ name: 'life', version: '1.0.0' });
    await clients.connect(client, server.serverName);
    const progress: number[] = [];
    const result = await client.callTool({ name: 'ticking', arguments: {} }, undefined, {
      onprogress: (update) => progress.push(update.progress),
      resetTimeoutOnProgress: true,
    });
    expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    await client.close();
  });

  it('initialize times out with the connect timeout when no server answers', async () => {
    await using clients = await clientHost();
    const client = new Client({ name: 'life', version: '1.0.0' });
    const error = await clients
      .connect(client, 'life/nobody', { serverId: unique('ghost'), timeoutMs: 200 })
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(ErrorCode.RequestTimeout);
  });
});

describe('health checks', () => {
  it('health pings use private ids and never reach the sdk', async () => {
    await using server = await serve({ healthCheck: { intervalMs: 40 } });
    await using clients = await clientHost({ healthCheck: { intervalMs: 40 } });
    const observer = await RawPeer.connect(broker.url);
    const topics = sessionTopics({
      mcpClientId: clients.mcpClientId,
      serverId: server.serverId,
      serverName: server.serverName,
    });
    await observer.subscribe(topics.rpc);
    const client = new Client({ name: 'life', version: '1.0.0' });
    const errors = new ErrorSink();
    client.onerror = errors.onerror;
    await clients.connect(client, server.serverName);
    const fromClient = await observer.next(
      (message) =>
        message.userProperties['MCP-COMPONENT-TYPE'] === 'mcp-client' && json(message)?.method === 'ping',
      'a health ping from the client',
    );
    const fromServer = await observer.next(
      (message) =>
        message.userProperties['MCP-COMPONENT-TYPE'] === 'mcp-server' && json(message)?.method === 'ping',
      'a health ping from the server',
    );
    for (const ping of [fromClient, fromServer]) {
      expect(String(json(ping)?.id)).toMatch(new RegExp(`^${HEALTH_PING_ID_PREFIX}`));
      await observer.next(
        (message) => json(message)?.id === json(ping)?.id && 'result' in (json(message) ?? {}),
        'the pong',
      );
    }
    await quiet(120);
    expect(errors.errors).toEqual([]);
    expect(server.sessions.size).toBe(1);
    await client.close();
    await observer.close();
  });

  it('a client that fails a health ping loses its session, and the server sends it no more requests', async () => {
    const errors = new ErrorSink();
    await using server = await serve({
      healthCheck: { intervalMs: 30, timeoutMs: 100 },
      onerror: errors.onerror,
    });
    const peer = await RawPeer.connect(broker.url);
    const closed = nextEvent<McpServerSession>((listener) => server.on('session-close', listener));
    const { topics } = await rawInitialize(peer, server);
    // The raw client never answers pings.
    await peer.next(
      (message) => message.topic === topics.rpc && json(message)?.method === 'ping',
      'a health ping',
    );
    expect((await closed).mcpClientId).toBe(peer.clientId);
    await peer.next(
      (message) => json(message)?.method === 'notifications/disconnected',
      'the de-initialization',
    );
    const count = peer.messages.length;
    await quiet(150);
    expect(peer.messages.length).toBe(count);
    await peer.close();
  });

  it('a server that fails a health ping closes the client session', async () => {
    const serverName = `life/${unique('mute')}`;
    const serverId = unique('mute-server');
    // A hand-made server that answers initialize and then goes quiet.
    const fake = await RawPeer.connect(broker.url, { clientId: serverId });
    await fake.subscribe(`$mcp-server/${serverId}/${serverName}`);
    await fake.publishAs(
      'mcp-server',
      `$mcp-server/presence/${serverId}/${serverName}`,
      {
        jsonrpc: '2.0',
        method: 'notifications/server/online',
        params: { server_name: serverName, description: 'mute', meta: {} },
      },
      { retain: true },
    );
    fake.client.on('message', (topic, payload, packet) => {
      const request = JSON.parse(payload.toString()) as { id?: number; method?: string };
      if (request.method !== 'initialize') return;
      const clientId = String(packet.properties?.userProperties?.['MCP-MQTT-CLIENT-ID']);
      void fake.publishAs('mcp-server', `$mcp-rpc/${clientId}/${serverId}/${serverName}`, {
        jsonrpc: '2.0',
        id: request.id,
        result: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          serverInfo: { name: 'mute', version: '1' },
        },
      });
    });
    await using clients = await clientHost({
      healthCheck: { intervalMs: 30, timeoutMs: 100 },
      failover: false,
    });
    const client = new Client({ name: 'life', version: '1.0.0' });
    const errors = new ErrorSink();
    client.onerror = errors.onerror;
    const closed = closedPromise(client);
    await clients.connect(client, serverName);
    await closed;
    await errors.waitFor(/failed a health check/);
    await fake.publish(`$mcp-server/presence/${serverId}/${serverName}`, '', { retain: true });
    await fake.close();
  });

  it('checkHealth() pings the peer on demand', async () => {
    await using server = await serve();
    await using clients = await clientHost();
    const client = new Client({ name: 'life', version: '1.0.0' });
    const transport = await clients.connect(client, server.serverName);
    await transport.checkHealth({ timeoutMs: 2_000 });
    await server.sessions.get(clients.mcpClientId)!.transport.checkHealth({ timeoutMs: 2_000 });
    await client.close();
  });
});
