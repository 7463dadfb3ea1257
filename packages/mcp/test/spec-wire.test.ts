// Spec rules about what goes on the wire: topics, user properties, session expiry, No Local, presence and
// wills, and the order of subscriptions around `initialize`. One test per rule, named after it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import type { ClientInfo } from '@mqtt-agents/broker';
import type { Packet } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '../src/index.js';
import type { McpClientHost, McpServerHost, McpServerSession } from '../src/index.js';
import {
  RawPeer,
  buildTestServer,
  embedded,
  json,
  nextEvent,
  quiet,
  sessionTopics,
  unique,
} from './helpers.js';

let broker: TestBroker;
const connects: ClientInfo[] = [];
beforeAll(async () => {
  broker = await startTestBroker();
  broker.broker?.on('client-connect', (client) => connects.push(client));
});
afterAll(async () => {
  await broker.close();
});

function serve(overrides: Partial<Parameters<typeof serveMcpOverMqtt>[0]> = {}): Promise<McpServerHost> {
  return serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `wire/${unique('press')}`,
    description: 'Press controls',
    createServer: () => buildTestServer(),
    ...overrides,
  });
}

function clientHost(): Promise<McpClientHost> {
  return createMcpMqttClientHost({ mqtt: { url: broker.url }, serverNameFilters: ['wire/#'] });
}

function packetLog(host: {
  connection: { client: { on(event: string, listener: (packet: Packet) => void): unknown } };
}) {
  const log: Array<{ direction: 'out' | 'in'; packet: Packet }> = [];
  host.connection.client.on('packetsend', (packet) => log.push({ direction: 'out', packet }));
  host.connection.client.on('packetreceive', (packet) => log.push({ direction: 'in', packet }));
  return log;
}

function subscriptionsIn(packet: Packet): Array<{ topic: string; nl?: boolean }> {
  return packet.cmd === 'subscribe' ? (packet.subscriptions as Array<{ topic: string; nl?: boolean }>) : [];
}

describe('topics', () => {
  it('server publishes its retained online presence on $mcp-server/presence/{server-id}/{server-name}', async () => {
    await using server = await serve();
    const observer = await RawPeer.connect(broker.url);
    await observer.subscribe('$mcp-server/presence/+/wire/#');
    const presence = await observer.next(
      (message) => message.topic === `$mcp-server/presence/${server.serverId}/${server.serverName}`,
    );
    expect(presence.retain).toBe(true);
    expect(json(presence)?.method).toBe('notifications/server/online');
    await observer.close();
  });

  it('initialize goes to the control topic and everything after it to the rpc topic', async () => {
    await using server = await serve();
    await using clients = await clientHost();
    const observer = await RawPeer.connect(broker.url);
    const topics = sessionTopics({
      mcpClientId: clients.mcpClientId,
      serverId: server.serverId,
      serverName: server.serverName,
    });
    await observer.subscribe([topics.control, topics.rpc]);
    const client = new Client({ name: 'wire', version: '1.0.0' });
    await clients.connect(client, server.serverName);
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    await observer.next(
      (message) =>
        json(message)?.result !== undefined &&
        (json(message)?.result as { content?: unknown }).content !== undefined,
    );
    const flow = observer.messages.map((message) => ({ topic: message.topic, body: json(message) }));
    const initialize = flow.find((entry) => entry.body?.method === 'initialize');
    expect(initialize?.topic).toBe(topics.control);
    const after = flow.filter((entry) => entry.body?.method !== 'initialize');
    expect(after.map((entry) => entry.body?.method ?? 'response')).toEqual([
      'response',
      'notifications/initialized',
      'tools/call',
      'response',
    ]);
    expect(after.every((entry) => entry.topic === topics.rpc)).toBe(true);
    await client.close();
    await observer.close();
  });

  it('the session id is the mcp-client-id on the server and unset on the client until initialize completes', async () => {
    await using server = await serve();
    await using clients = await clientHost();
    const transport = await clients.createTransport(server.serverName);
    expect(transport.sessionId).toBeUndefined();
    const client = new Client({ name: 'wire', version: '1.0.0' });
    await client.connect(transport);
    expect(transport.sessionId).toBe(clients.mcpClientId);
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: clients.mcpClientId }]);
    await client.close();
  });
});

describe('user properties and connection settings', () => {
  it.skipIf(!embedded)(
    'CONNECT carries MCP-COMPONENT-TYPE and MCP-META with clean start and session expiry 0',
    async () => {
      await using server = await serve({ componentMeta: { version: '1.2.3', location: 'hall 7' } });
      await using clients = await clientHost();
      const serverConnect = connects.find((client) => client.id === server.serverId);
      const clientConnect = connects.find((client) => client.id === clients.mcpClientId);
      expect(serverConnect?.userProperties['MCP-COMPONENT-TYPE']).toBe('mcp-server');
      expect(JSON.parse(String(serverConnect?.userProperties['MCP-META']))).toEqual({
        version: '1.2.3',
        location: 'hall 7',
      });
      expect(clientConnect?.userProperties['MCP-COMPONENT-TYPE']).toBe('mcp-client');
      expect(JSON.parse(String(clientConnect?.userProperties['MCP-META']))).toEqual({
        implementation: '@mqtt-agents/mcp',
      });
      for (const info of [serverConnect, clientConnect]) {
        expect(info?.protocolVersion).toBe(5);
        expect(info?.cleanStart).toBe(true);
        expect(info?.properties.sessionExpiryInterval ?? 0).toBe(0);
      }
    },
  );

  it('session expiry interval is 0 on both sides', async () => {
    await using server = await serve();
    await using clients = await clientHost();
    for (const host of [server, clients]) {
      expect(host.connection.client.options.protocolVersion).toBe(5);
      expect(host.connection.client.options.clean).toBe(true);
      expect(host.connection.client.options.properties?.sessionExpiryInterval).toBe(0);
    }
  });

  it('every PUBLISH carries MCP-COMPONENT-TYPE and MCP-MQTT-CLIENT-ID, retained presence included', async () => {
    const observer = await RawPeer.connect(broker.url);
    await observer.subscribe(['$mcp-server/#', '$mcp-rpc/#', '$mcp-client/#']);
    await using server = await serve();
    await using clients = await clientHost();
    const client = new Client(
      { name: 'wire', version: '1.0.0' },
      { capabilities: { roots: { listChanged: true } } },
    );
    await clients.connect(client, server.serverName);
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    await client.sendRootsListChanged();
    await server.notifyToolListChanged();
    await observer.next((message) => json(message)?.method === 'notifications/tools/list_changed');
    await observer.next((message) => json(message)?.method === 'notifications/roots/list_changed');
    await client.close();
    await observer.next((message) => json(message)?.method === 'notifications/disconnected');
    const ours = observer.messages.filter(
      (message) => message.topic.includes(server.serverName) || message.topic.includes(clients.mcpClientId),
    );
    expect(ours.length).toBeGreaterThanOrEqual(8);
    for (const message of ours) {
      const fromServer = message.userProperties['MCP-COMPONENT-TYPE'] === 'mcp-server';
      expect(message.userProperties['MCP-COMPONENT-TYPE'], message.topic).toMatch(/^mcp-(client|server)$/);
      expect(message.userProperties['MCP-MQTT-CLIENT-ID'], message.topic).toBe(
        fromServer ? server.serverId : clients.mcpClientId,
      );
    }
    await observer.close();
  });

  it('rpc topic subscriptions use No Local on both sides', async () => {
    await using server = await serve();
    await using clients = await clientHost();
    const serverLog = packetLog(server);
    const clientLog = packetLog(clients);
    const client = new Client({ name: 'wire', version: '1.0.0' });
    const serverErrors: Error[] = [];
    await clients.connect(client, server.serverName);
    client.onerror = (error) => serverErrors.push(error);
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    const rpc = sessionTopics({
      mcpClientId: clients.mcpClientId,
      serverId: server.serverId,
      serverName: server.serverName,
    }).rpc;
    const serverRpc = serverLog
      .flatMap((entry) => (entry.direction === 'out' ? subscriptionsIn(entry.packet) : []))
      .find((s) => s.topic === rpc);
    const clientRpc = clientLog
      .flatMap((entry) => (entry.direction === 'out' ? subscriptionsIn(entry.packet) : []))
      .find((s) => s.topic === rpc);
    expect(serverRpc?.nl).toBe(true);
    expect(clientRpc?.nl).toBe(true);
    // With No Local neither side receives its own publishes: no response arrives for an unknown request id.
    expect(
      serverLog.filter(
        (entry) =>
          entry.direction === 'in' &&
          entry.packet.cmd === 'publish' &&
          (entry.packet as { topic?: string }).topic === rpc,
      ).length,
    ).toBe(2);
    expect(serverErrors).toEqual([]);
    await client.close();
  });
});

describe('quality of service', () => {
  it('QoS 1 by default and configurable: the qos option applies to every publish and subscription', async () => {
    await using server = await serve({ qos: 0 });
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['wire/#'],
      qos: 0,
    });
    await using defaults = await clientHost();
    const serverLog = packetLog(server);
    const clientLog = packetLog(clients);
    const defaultLog = packetLog(defaults);
    const client = new Client({ name: 'wire', version: '1.0.0' });
    await clients.connect(client, server.serverName);
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    const other = new Client({ name: 'wire', version: '1.0.0' });
    await defaults.connect(other, server.serverName);
    const outbound = (log: ReturnType<typeof packetLog>, cmd: string) =>
      log
        .filter((entry) => entry.direction === 'out' && entry.packet.cmd === cmd)
        .map((entry) => entry.packet);
    for (const log of [serverLog, clientLog]) {
      expect(outbound(log, 'publish').length).toBeGreaterThan(0);
      expect(outbound(log, 'publish').every((packet) => (packet as { qos: number }).qos === 0)).toBe(true);
      expect(
        outbound(log, 'subscribe')
          .flatMap(subscriptionsIn)
          .every((s) => (s as { qos?: number }).qos === 0),
      ).toBe(true);
    }
    expect(outbound(defaultLog, 'publish').every((packet) => (packet as { qos: number }).qos === 1)).toBe(
      true,
    );
    expect(
      outbound(defaultLog, 'subscribe')
        .flatMap(subscriptionsIn)
        .every((s) => (s as { qos?: number }).qos === 1),
    ).toBe(true);
    await client.close();
    await other.close();
  });
});

describe('subscribe before initialize', () => {
  it('client subscribes to the rpc and capability topics (SUBACK received) before sending initialize', async () => {
    await using server = await serve();
    await using clients = await clientHost();
    const log = packetLog(clients);
    const client = new Client({ name: 'wire', version: '1.0.0' });
    await clients.connect(client, server.serverName);
    const topics = sessionTopics({
      mcpClientId: clients.mcpClientId,
      serverId: server.serverId,
      serverName: server.serverName,
    });
    const subscribe = log.find(
      (entry) =>
        entry.direction === 'out' && subscriptionsIn(entry.packet).some((s) => s.topic === topics.rpc),
    );
    const subscribed = subscriptionsIn(subscribe!.packet).map((s) => s.topic);
    expect(subscribed).toEqual(expect.arrayContaining([topics.rpc, topics.serverCapability]));
    const suback = log.findIndex(
      (entry) =>
        entry.direction === 'in' &&
        entry.packet.cmd === 'suback' &&
        entry.packet.messageId === subscribe!.packet.messageId,
    );
    const initialize = log.findIndex(
      (entry) =>
        entry.direction === 'out' &&
        entry.packet.cmd === 'publish' &&
        (entry.packet as { topic: string }).topic === topics.control,
    );
    expect(suback).toBeGreaterThan(-1);
    expect(initialize).toBeGreaterThan(suback);
    await client.close();
  });

  it("server subscribes to the client's rpc, capability and presence topics (SUBACK received) before answering initialize", async () => {
    await using server = await serve();
    await using clients = await clientHost();
    const log = packetLog(server);
    const client = new Client({ name: 'wire', version: '1.0.0' });
    await clients.connect(client, server.serverName);
    const topics = sessionTopics({
      mcpClientId: clients.mcpClientId,
      serverId: server.serverId,
      serverName: server.serverName,
    });
    const subscribe = log.find(
      (entry) =>
        entry.direction === 'out' && subscriptionsIn(entry.packet).some((s) => s.topic === topics.rpc),
    );
    expect(subscriptionsIn(subscribe!.packet).map((s) => s.topic)).toEqual(
      expect.arrayContaining([topics.rpc, topics.clientCapability, topics.clientPresence]),
    );
    const suback = log.findIndex(
      (entry) =>
        entry.direction === 'in' &&
        entry.packet.cmd === 'suback' &&
        entry.packet.messageId === subscribe!.packet.messageId,
    );
    const response = log.findIndex(
      (entry) =>
        entry.direction === 'out' &&
        entry.packet.cmd === 'publish' &&
        (entry.packet as { topic: string }).topic === topics.rpc,
    );
    expect(suback).toBeGreaterThan(-1);
    expect(response).toBeGreaterThan(suback);
    await client.close();
  });
});

describe('presence and wills', () => {
  it('presence notification carries server_name, description and meta with rbac roles', async () => {
    const rbac = {
      roles: [
        {
          name: 'admin',
          description: 'everything',
          allowed_methods: ['tools/call'],
          allowed_tools: 'all' as const,
          allowed_resources: 'all' as const,
        },
        { name: 'viewer', allowed_methods: ['tools/list'], allowed_tools: ['echo'], allowed_resources: [] },
      ],
    };
    await using server = await serve({ meta: { site: 'hall 7' }, rbac });
    const observer = await RawPeer.connect(broker.url);
    await observer.subscribe(`$mcp-server/presence/${server.serverId}/${server.serverName}`);
    const presence = json(await observer.next(() => true));
    expect(presence).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/server/online',
      params: {
        server_name: server.serverName,
        description: 'Press controls',
        meta: { site: 'hall 7', rbac },
      },
    });
    await using clients = await clientHost();
    const [instance] = await clients.waitForServer(server.serverName);
    expect(instance).toMatchObject({ serverId: server.serverId, description: 'Press controls', rbac });
    await observer.close();
  });

  it('presence meta is {} when the server gives none', async () => {
    await using server = await serve();
    const observer = await RawPeer.connect(broker.url);
    await observer.subscribe(`$mcp-server/presence/${server.serverId}/${server.serverName}`);
    expect((json(await observer.next(() => true))?.params as { meta?: unknown }).meta).toEqual({});
    await observer.close();
  });

  it('server will is the retained empty presence', async () => {
    const server = await serve({ mqtt: { url: broker.url, reconnectPeriodMs: 0 } });
    const topic = `$mcp-server/presence/${server.serverId}/${server.serverName}`;
    const observer = await RawPeer.connect(broker.url);
    await observer.subscribe(topic);
    await observer.next((message) => message.payload.length > 0, 'the online presence');
    (server.connection.client as unknown as { stream: { destroy(): void } }).stream.destroy();
    const will = await observer.next((message) => message.payload.length === 0, 'the will');
    expect(will.userProperties['MCP-MQTT-CLIENT-ID']).toBe(server.serverId);
    // Retained: a late subscriber finds nothing.
    const late = await RawPeer.connect(broker.url);
    await late.subscribe(topic);
    await quiet();
    expect(late.messages).toEqual([]);
    await Promise.all([late.close(), observer.close(), server.close()]);
  });

  it('graceful server close clears the retained presence', async () => {
    const server = await serve();
    const topic = `$mcp-server/presence/${server.serverId}/${server.serverName}`;
    const observer = await RawPeer.connect(broker.url);
    await observer.subscribe(topic);
    await observer.next((message) => message.payload.length > 0, 'the online presence');
    await server.close();
    const cleared = await observer.next((message) => message.payload.length === 0, 'the empty presence');
    expect(cleared.retain).toBe(false); // live delivery of a retained publish (retain as published is off)
    const late = await RawPeer.connect(broker.url);
    await late.subscribe(topic);
    await quiet();
    expect(late.messages).toEqual([]);
    await Promise.all([late.close(), observer.close()]);
  });

  it('client will is notifications/disconnected on its presence topic and ends its sessions', async () => {
    await using server = await serve();
    const clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url, reconnectPeriodMs: 0 },
      serverNameFilters: ['wire/#'],
    });
    const observer = await RawPeer.connect(broker.url);
    await observer.subscribe(`$mcp-client/presence/${clients.mcpClientId}`);
    const client = new Client({ name: 'wire', version: '1.0.0' });
    await clients.connect(client, server.serverName);
    expect(server.sessions.has(clients.mcpClientId)).toBe(true);
    const closed = nextEvent<McpServerSession>((listener) => server.on('session-close', listener));
    (clients.connection.client as unknown as { stream: { destroy(): void } }).stream.destroy();
    const will = await observer.next(() => true, 'the client will');
    expect(json(will)).toEqual({ jsonrpc: '2.0', method: 'notifications/disconnected' });
    expect(will.userProperties['MCP-MQTT-CLIENT-ID']).toBe(clients.mcpClientId);
    expect((await closed).mcpClientId).toBe(clients.mcpClientId);
    await Promise.all([observer.close(), clients.close()]);
  });

  it('graceful client close announces notifications/disconnected on the client presence topic', async () => {
    await using server = await serve();
    const clients = await clientHost();
    const observer = await RawPeer.connect(broker.url);
    await observer.subscribe(`$mcp-client/presence/${clients.mcpClientId}`);
    const client = new Client({ name: 'wire', version: '1.0.0' });
    await clients.connect(client, server.serverName);
    const closed = nextEvent<McpServerSession>((listener) => server.on('session-close', listener));
    await clients.close();
    expect(json(await observer.next(() => true))).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/disconnected',
    });
    await closed;
    await observer.close();
  });
});
