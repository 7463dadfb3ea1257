// Bad input from the wire: each case is reported through onerror / the logger with a clear message, and
// never breaks the session it arrived on, other sessions, or discovery.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { MqttAgentsError, publishPacketSize } from '@mqtt-agents/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '../src/index.js';
import type { McpServerHost } from '../src/index.js';
import {
  ErrorSink,
  RawPeer,
  buildTestServer,
  failure,
  json,
  quiet,
  rawInitialize,
  recordingLogger,
  unique,
} from './helpers.js';

const MAX_PACKET = 8 * 1024;
let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker({
    embedded: { maximumPacketSize: MAX_PACKET },
    mosquittoConfig: [`max_packet_size ${MAX_PACKET}`],
  });
});
afterAll(async () => {
  await broker.close();
});

interface Fixture {
  server: McpServerHost;
  errors: ErrorSink;
  sessionErrors: ErrorSink;
  logger: ReturnType<typeof recordingLogger>;
}

async function serve(overrides: Partial<Parameters<typeof serveMcpOverMqtt>[0]> = {}): Promise<Fixture> {
  const errors = new ErrorSink();
  const sessionErrors = new ErrorSink();
  const logger = recordingLogger();
  const server = await serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `bad/${unique('press')}`,
    description: 'Press controls',
    createServer: () => {
      const built = buildTestServer();
      built.registerTool(
        'big',
        { description: 'A large answer', inputSchema: { bytes: z.number() } },
        async ({ bytes }) => ({ content: [{ type: 'text', text: 'x'.repeat(bytes) }] }),
      );
      built.server.onerror = sessionErrors.onerror;
      return built;
    },
    onerror: errors.onerror,
    logger,
    ...overrides,
  });
  return { server, errors, sessionErrors, logger };
}

/** A raw client with an initialized session, plus an SDK client on another connection as a bystander. */
async function sessions(fixture: Fixture) {
  const peer = await RawPeer.connect(broker.url);
  const { topics } = await rawInitialize(peer, fixture.server);
  await peer.publishAs('mcp-client', topics.rpc, { jsonrpc: '2.0', method: 'notifications/initialized' });
  const bystanderHost = await createMcpMqttClientHost({
    mqtt: { url: broker.url },
    serverNameFilters: ['bad/#'],
  });
  const bystander = new Client({ name: 'bystander', version: '1.0.0' });
  await bystanderHost.connect(bystander, fixture.server.serverName);
  let nextId = 100;
  const call = async (method: string, params: Record<string, unknown> = {}) => {
    const id = nextId++;
    await peer.publishAs('mcp-client', topics.rpc, { jsonrpc: '2.0', id, method, params });
    return json(await peer.next((message) => json(message)?.id === id, `the answer to ${method}`));
  };
  const stillWorks = async () => {
    expect((await call('ping'))?.result).toEqual({});
    expect((await bystander.callTool({ name: 'echo', arguments: { text: 'fine' } })).content).toEqual([
      { type: 'text', text: 'fine' },
    ]);
  };
  const close = async () => {
    await bystander.close();
    await bystanderHost.close();
    await peer.close();
    await fixture.server.close();
  };
  return { peer, topics, call, stillWorks, close };
}

describe('inbound on a session', () => {
  it('malformed json on the rpc topic is reported and the session goes on', async () => {
    const fixture = await serve();
    const world = await sessions(fixture);
    await world.peer.publishAs('mcp-client', world.topics.rpc, '{"jsonrpc":"2.0","id":1,"method":');
    const error = await fixture.errors.waitFor(
      /dropped a message from client '.*': payload is not valid json/,
    );
    expect(MqttAgentsError.hasCode(error, 'PROTOCOL_ERROR')).toBe(true);
    await fixture.sessionErrors.waitFor(/not valid json/);
    expect(
      fixture.logger.lines.some((line) => line.level === 'warn' && /not valid json/.test(line.message)),
    ).toBe(true);
    await world.stillWorks();
    await world.close();
  });

  it('a non-utf-8 payload is reported and the session goes on', async () => {
    const fixture = await serve();
    const world = await sessions(fixture);
    await world.peer.publishAs('mcp-client', world.topics.rpc, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    await fixture.errors.waitFor(/not valid utf-8/);
    await world.stillWorks();
    await world.close();
  });

  it('an empty payload or a non-json-rpc object on the rpc topic is reported', async () => {
    const fixture = await serve();
    const world = await sessions(fixture);
    await world.peer.publishAs('mcp-client', world.topics.rpc, '');
    await fixture.errors.waitFor(/empty payload/);
    await world.peer.publishAs('mcp-client', world.topics.rpc, { jsonrpc: '2.0', hello: 'world' });
    await fixture.errors.waitFor(/invalid json-rpc message: message has no method, result or error/);
    await world.stillWorks();
    await world.close();
  });

  it('an inbound json-rpc batch is reported, split, and answered one message at a time (never as a batch)', async () => {
    const fixture = await serve();
    const world = await sessions(fixture);
    await world.peer.publishAs('mcp-client', world.topics.rpc, [
      { jsonrpc: '2.0', id: 'b1', method: 'ping' },
      { jsonrpc: '2.0', id: 'b2', method: 'tools/list' },
      { nonsense: true },
    ]);
    const first = await world.peer.next((message) => json(message)?.id === 'b1');
    const second = await world.peer.next((message) => json(message)?.id === 'b2');
    for (const answer of [first, second]) expect(Array.isArray(JSON.parse(answer.text))).toBe(false);
    await fixture.errors.waitFor(/sent a json-rpc batch: split into 2 messages/);
    await fixture.errors.waitFor(/invalid json-rpc message/);
    await world.stillWorks();
    await world.close();
  });

  it('an unknown method gets a method-not-found error and the session goes on', async () => {
    const fixture = await serve();
    const world = await sessions(fixture);
    const answer = await world.call('press/explode');
    expect((answer?.error as { code: number }).code).toBe(ErrorCode.MethodNotFound);
    await world.stillWorks();
    await world.close();
  });

  it('json-rpc ids are kept as sent: 0, strings and numbers', async () => {
    const fixture = await serve();
    const world = await sessions(fixture);
    for (const id of [0, '0', 'abc', -3, 2 ** 40]) {
      await world.peer.publishAs('mcp-client', world.topics.rpc, { jsonrpc: '2.0', id, method: 'ping' });
      const answer = await world.peer.next(
        (message) => {
          const body = json(message);
          return body !== undefined && 'result' in body && body.id === id;
        },
        `the answer to id ${JSON.stringify(id)}`,
      );
      expect(json(answer)?.id).toStrictEqual(id);
    }
    await world.close();
  });

  it('an inbound payload over maxInboundBytes is dropped and reported', async () => {
    const fixture = await serve({ maxInboundBytes: 1024 });
    const world = await sessions(fixture);
    await world.peer.publishAs('mcp-client', world.topics.rpc, {
      jsonrpc: '2.0',
      id: 'huge',
      method: 'ping',
      params: { pad: 'x'.repeat(2000) },
    });
    await fixture.errors.waitFor(/exceeds 1024 bytes/);
    expect(world.peer.messages.some((message) => json(message)?.id === 'huge')).toBe(false);
    await world.stillWorks();
    await world.close();
  });
});

describe('ordinary property names', () => {
  // `constructor` is ordinary data in tool arguments and JSON Schemas; only `__proto__` and the
  // `constructor.prototype` shape are refused by the wire decoder.
  it('a tool argument named constructor is delivered and answered', async () => {
    const fixture = await serve();
    const world = await sessions(fixture);
    try {
      await world.peer.publishAs('mcp-client', world.topics.rpc, {
        jsonrpc: '2.0',
        id: 'ctor',
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'x', constructor: 'y' } },
      });
      await world.peer.next((message) => json(message)?.id === 'ctor', 'an answer', 1_500);
    } finally {
      await world.close();
    }
  });
});

describe('sessions that do not exist, and spoofing', () => {
  it('a request for a session that does not exist is answered with an error and reported', async () => {
    const fixture = await serve();
    const peer = await RawPeer.connect(broker.url);
    const rpc = `$mcp-rpc/${peer.clientId}/${fixture.server.serverId}/${fixture.server.serverName}`;
    await peer.subscribe(rpc, { nl: true });
    await peer.publishAs(
      'mcp-client',
      `$mcp-server/${fixture.server.serverId}/${fixture.server.serverName}`,
      {
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/list',
      },
    );
    const answer = json(await peer.next((message) => json(message)?.id === 9));
    expect(answer?.error).toMatchObject({ code: -32600, message: expect.stringMatching(/initialize/) });
    await fixture.errors.waitFor(/tools\/list from client '.*' without a session: send initialize first/);
    await peer.close();
    await fixture.server.close();
  });

  it('a message on the rpc topic of a session that does not exist is reported', async () => {
    const fixture = await serve();
    const ghost = unique('ghost');
    const rpc = `$mcp-rpc/${ghost}/${fixture.server.serverId}/${fixture.server.serverName}`;
    // Make the server receive it (as after a session ended while a message was in flight).
    await fixture.server.connection.subscribe(rpc);
    const peer = await RawPeer.connect(broker.url, { clientId: ghost });
    await peer.publishAs('mcp-client', rpc, { jsonrpc: '2.0', id: 1, method: 'ping' });
    await fixture.errors.waitFor(new RegExp(`session that does not exist: client '${ghost}'`));
    await peer.close();
    await fixture.server.close();
  });

  it('a capability message from a client id the binding does not allow is reported', async () => {
    const fixture = await serve();
    // Sessions subscribe to their own client's topics; an application sharing the connection may not.
    await fixture.server.connection.subscribe('$mcp-client/capability/+');
    const peer = await RawPeer.connect(broker.url);
    await peer.publishAs('mcp-client', '$mcp-client/capability/not a valid id', {
      jsonrpc: '2.0',
      method: 'notifications/roots/list_changed',
    });
    await fixture.errors.waitFor(/'not a valid id' is not a valid mcp-client-id/);
    await peer.close();
    await fixture.server.close();
  });

  it('initialize without MCP-MQTT-CLIENT-ID is reported and not answered', async () => {
    const fixture = await serve();
    const peer = await RawPeer.connect(broker.url);
    await peer.publish(
      `$mcp-server/${fixture.server.serverId}/${fixture.server.serverName}`,
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    );
    await fixture.errors.waitFor(/initialize without an MCP-MQTT-CLIENT-ID user property/);
    expect(fixture.server.sessions.size).toBe(0);
    await peer.close();
    await fixture.server.close();
  });

  it('a spoofed MCP-MQTT-CLIENT-ID on a session topic is dropped and reported; the session goes on', async () => {
    const fixture = await serve();
    const world = await sessions(fixture);
    const attacker = await RawPeer.connect(broker.url);
    // Someone else posts into the session, and someone tries to end it through its presence topic.
    await attacker.publishAs('mcp-client', world.topics.rpc, {
      jsonrpc: '2.0',
      id: 'evil',
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'pwned' } },
    });
    await fixture.errors.waitFor(
      new RegExp(`MCP-MQTT-CLIENT-ID '${attacker.clientId}' does not match client '${world.peer.clientId}'`),
    );
    await attacker.publishAs('mcp-client', world.topics.clientPresence, {
      jsonrpc: '2.0',
      method: 'notifications/disconnected',
    });
    await eventuallyErrors(fixture.errors, 2);
    // The raw client sees the attacker's publish on the shared topic, but no answer to it ever comes.
    expect(
      world.peer.messages.some(
        (message) => json(message)?.id === 'evil' && 'result' in (json(message) ?? {}),
      ),
    ).toBe(false);
    expect(fixture.server.sessions.has(world.peer.clientId)).toBe(true);
    await world.stillWorks();
    await attacker.close();
    await world.close();
  });

  it('a spoofed server message on the client side is dropped and reported', async () => {
    const fixture = await serve();
    const errors = new ErrorSink();
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['bad/#'],
      onerror: errors.onerror,
    });
    const client = new Client({ name: 'victim', version: '1.0.0' });
    const closed = { value: false };
    client.onclose = () => (closed.value = true);
    await clients.connect(client, fixture.server.serverName);
    const attacker = await RawPeer.connect(broker.url);
    const rpc = `$mcp-rpc/${clients.mcpClientId}/${fixture.server.serverId}/${fixture.server.serverName}`;
    await attacker.publishAs('mcp-server', rpc, { jsonrpc: '2.0', method: 'notifications/disconnected' });
    await errors.waitFor(
      new RegExp(
        `MCP-MQTT-CLIENT-ID '${attacker.clientId}' does not match server '${fixture.server.serverId}'`,
      ),
    );
    expect(closed.value).toBe(false);
    expect((await client.callTool({ name: 'echo', arguments: { text: 'ok' } })).content).toEqual([
      { type: 'text', text: 'ok' },
    ]);
    await client.close();
    await attacker.close();
    await fixture.server.close();
  });
});

describe('packet size', () => {
  it("send() rejects a message over the broker's maximum packet size with PAYLOAD_TOO_LARGE; the connection stays", async () => {
    const fixture = await serve();
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['bad/#'],
    });
    expect(clients.connection.connack.maximumPacketSize).toBe(MAX_PACKET);
    const client = new Client({ name: 'big', version: '1.0.0' });
    await clients.connect(client, fixture.server.serverName);
    const error = await failure(
      client.callTool({ name: 'echo', arguments: { text: 'y'.repeat(MAX_PACKET) } }),
    );
    expect(MqttAgentsError.hasCode(error, 'PAYLOAD_TOO_LARGE')).toBe(true);
    expect((error as Error).message).toMatch(/exceeds the broker's maximum packet size of 8192 bytes/);
    expect(clients.connection.connected).toBe(true);
    expect((await client.callTool({ name: 'echo', arguments: { text: 'small' } })).content).toEqual([
      { type: 'text', text: 'small' },
    ]);
    await client.close();
    await fixture.server.close();
  });

  it('a response over the maximum packet size becomes an error response the client sees, and is reported', async () => {
    const fixture = await serve();
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['bad/#'],
    });
    const client = new Client({ name: 'big', version: '1.0.0' });
    await clients.connect(client, fixture.server.serverName);
    const error = await failure(client.callTool({ name: 'big', arguments: { bytes: MAX_PACKET * 2 } }));
    expect((error as { code?: number }).code).toBe(-32603);
    expect((error as Error).message).toMatch(/response too large for the broker/);
    await fixture.sessionErrors.waitFor(/maximum packet size/);
    expect(fixture.server.connection.connected).toBe(true);
    expect((await client.callTool({ name: 'big', arguments: { bytes: 100 } })).content).toEqual([
      { type: 'text', text: 'x'.repeat(100) },
    ]);
    await client.close();
    await fixture.server.close();
  });
});

describe('packet size accounting', () => {
  it('the size check counts a publish as the broker does: exactly the maximum passes, one byte more is refused', async () => {
    const fixture = await serve();
    const observer = await RawPeer.connect(broker.url);
    const topic = `$mcp-server/capability/${fixture.server.serverId}/${fixture.server.serverName}`;
    await observer.subscribe(topic);
    const userProperties = {
      'MCP-COMPONENT-TYPE': 'mcp-server',
      'MCP-MQTT-CLIENT-ID': fixture.server.serverId,
    };
    const sizeFor = (uri: string) =>
      publishPacketSize({
        topic,
        payloadBytes: Buffer.byteLength(
          JSON.stringify({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri } }),
        ),
        qos: 1,
        userProperties,
      });
    let uri = 'file:///';
    while (sizeFor(uri) < MAX_PACKET) uri += 'x';
    expect(sizeFor(uri)).toBe(MAX_PACKET);
    await fixture.server.notifyResourceUpdated(uri);
    await observer.next((message) => (json(message)?.params as { uri?: string } | undefined)?.uri === uri);
    expect(fixture.server.connection.connected).toBe(true);
    await expect(fixture.server.notifyResourceUpdated(`${uri}x`)).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    // The broker kept the connection: the packet of exactly the maximum size was not too large for it.
    await fixture.server.notifyToolListChanged();
    await observer.next((message) => json(message)?.method === 'notifications/tools/list_changed');
    expect(fixture.server.connection.connected).toBe(true);
    await observer.close();
    await fixture.server.close();
  });
});

describe('presence', () => {
  it('retained garbage on presence topics is reported and ignored; real servers are still discovered', async () => {
    const garbage = await RawPeer.connect(broker.url);
    const base = `bad/${unique('garbage')}`;
    await garbage.publish(`$mcp-server/presence/${unique('g1')}/${base}/json`, '{oops', { retain: true });
    await garbage.publish(`$mcp-server/presence/${unique('g2')}/${base}/binary`, Buffer.from([0xff, 0x00]), {
      retain: true,
    });
    await garbage.publish(
      `$mcp-server/presence/${unique('g3')}/${base}/method`,
      JSON.stringify({ jsonrpc: '2.0', method: 'hello' }),
      { retain: true },
    );
    await garbage.publish(`$mcp-server/presence/${unique('g4')}/${base}/array`, '[1,2]', { retain: true });
    const real = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName: `${base}/real`,
      description: 'real',
      createServer: () => buildTestServer(),
    });
    const errors = new ErrorSink();
    const logger = recordingLogger();
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: [`${base}/#`],
      onerror: errors.onerror,
      logger,
    });
    await clients.waitForServer(`${base}/real`);
    await errors.waitFor(/json\): payload is not valid json/);
    await errors.waitFor(/binary\): payload is not valid utf-8/);
    await errors.waitFor(/method\): unexpected presence method "hello"/);
    await errors.waitFor(/array\): presence payload is not a json object/);
    expect([...clients.servers().keys()]).toEqual([`${base}/real`]);
    expect(logger.lines.filter((line) => line.level === 'warn').length).toBeGreaterThanOrEqual(4);
    await real.close();
    await garbage.close();
  });

  it('a presence notification whose MCP-MQTT-CLIENT-ID is not the topic server-id is ignored and reported', async () => {
    const errors = new ErrorSink();
    const base = `bad/${unique('spoof')}`;
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: [`${base}/#`],
      onerror: errors.onerror,
    });
    const attacker = await RawPeer.connect(broker.url);
    await attacker.publishAs('mcp-server', `$mcp-server/presence/victim/${base}/x`, {
      jsonrpc: '2.0',
      method: 'notifications/server/online',
      params: { server_name: `${base}/x`, description: 'fake', meta: {} },
    });
    await errors.waitFor(/does not match server 'victim'/);
    await quiet();
    expect(clients.servers().size).toBe(0);
    await attacker.close();
  });
});

async function eventuallyErrors(sink: ErrorSink, count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (sink.matching(/does not match client/).length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} spoofing reports`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
