import { connect as netConnect } from 'node:net';
import { Duplex } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker } from '../src/start-broker.js';
import type { Broker, BrokerOptions, ClientInfo, PublishedMessage } from '../src/types.js';

/** Two connected in-memory duplex streams. */
function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk, _encoding, callback) {
        peer().push(chunk);
        callback();
      },
      final(callback) {
        peer().push(null);
        callback();
      },
      destroy(error, callback) {
        peer().push(null);
        callback(error);
      },
    });
  ends.push(
    make(() => ends[1] as Duplex),
    make(() => ends[0] as Duplex),
  );
  return [ends[0] as Duplex, ends[1] as Duplex];
}

const open: Array<{ close(): unknown }> = [];

async function start(options: BrokerOptions = {}): Promise<Broker> {
  const broker = await startBroker(options);
  open.push(broker);
  return broker;
}

async function client(broker: Broker, options: IClientOptions = {}): Promise<MqttClient> {
  const connection = await mqtt.connectAsync(broker.url, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    ...options,
  });
  open.unshift({ close: () => connection.endAsync(true) });
  return connection;
}

function nextMessage(
  connection: MqttClient,
): Promise<{ topic: string; payload: string; packet: mqtt.IPublishPacket }> {
  return new Promise((resolve) =>
    connection.once('message', (topic, payload, packet) =>
      resolve({ topic, payload: payload.toString(), packet }),
    ),
  );
}

afterEach(async () => {
  for (const item of open.splice(0)) await item.close();
});

describe('broker.handle()', () => {
  it('serves an MQTT connection over any duplex stream', async () => {
    const broker = await start();
    const [serverSide, clientSide] = duplexPair();
    broker.handle(serverSide);
    const connection = new mqtt.MqttClient(() => clientSide as never, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId: 'in-memory',
    });
    open.unshift({ close: () => connection.endAsync(true) });
    await new Promise((resolve) => connection.once('connect', resolve));
    await connection.subscribeAsync('memory/#', { qos: 1 });
    const received = nextMessage(connection);
    await connection.publishAsync('memory/a', 'over a stream', { qos: 1 });
    expect((await received).payload).toBe('over a stream');
    expect(broker.clientIds).toContain('in-memory');
  });
});

describe('hooks', () => {
  it('authenticate sees the credentials and can refuse with a reason code', async () => {
    const seen: Array<{ id: string; username: string | undefined; password: string | undefined }> = [];
    const broker = await start({
      authenticate: async (context) => {
        seen.push({ id: context.id, username: context.username, password: context.password?.toString() });
        return context.password?.toString() === 'secret' ? true : 0x86;
      },
    });
    await client(broker, { clientId: 'good', username: 'u', password: 'secret' });
    await expect(client(broker, { clientId: 'bad', username: 'u', password: 'wrong' })).rejects.toMatchObject(
      {
        code: 0x86,
      },
    );
    expect(seen).toEqual([
      { id: 'good', username: 'u', password: 'secret' },
      { id: 'bad', username: 'u', password: 'wrong' },
    ]);
  });

  it('authorizePublish may be slow without reordering a client messages', async () => {
    let calls = 0;
    const broker = await start({
      authorizePublish: async (_client, message) => {
        calls++;
        if (message.payload.toString() === '0') await new Promise((resolve) => setTimeout(resolve, 50));
        return message.topic.endsWith('denied') ? 0x87 : true;
      },
    });
    const subscriber = await client(broker);
    await subscriber.subscribeAsync('ordered/#', { qos: 1 });
    const received: string[] = [];
    const done = new Promise<void>((resolve) =>
      subscriber.on('message', (_topic, payload) => {
        received.push(payload.toString());
        if (received.length === 5) resolve();
      }),
    );
    const publisher = await client(broker);
    await Promise.all(
      [0, 1, 2, 3, 4].map((index) =>
        publisher.publishAsync('ordered/x', String(index), { qos: index % 2 ? 1 : 0 }),
      ),
    );
    await done;
    expect(received).toEqual(['0', '1', '2', '3', '4']);
    await expect(publisher.publishAsync('ordered/denied', 'no', { qos: 1 })).rejects.toMatchObject({
      code: 0x87,
    });
    expect(calls).toBe(6);
  });

  it('authorizeSubscribe can lower the granted QoS or refuse', async () => {
    const broker = await start({
      authorizeSubscribe: (_client, subscription) =>
        subscription.filter.startsWith('secret') ? 0x87 : subscription.filter === 'low' ? 0 : true,
    });
    const connection = await client(broker);
    const granted = await connection.subscribeAsync({ low: { qos: 2 }, high: { qos: 2 } });
    expect(granted.map((grant) => [grant.topic, grant.qos])).toEqual([
      ['low', 0],
      ['high', 2],
    ]);
    await expect(connection.subscribeAsync('secret/#', { qos: 1 })).rejects.toMatchObject({
      packet: { granted: [0x87] },
    });
    expect(
      broker
        .getSubscriptions(connection.options.clientId as string)
        .map((s) => s.topicFilter)
        .sort(),
    ).toEqual(['high', 'low']);
  });

  it('connackUserProperties puts broker-suggested values in CONNACK', async () => {
    const broker = await start({
      connackUserProperties: (info) => ({ 'MCP-SERVER-NAME': `server/${info.id}`, multi: ['a', 'b'] }),
    });
    const fresh = mqtt.connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0, clientId: 'named-2' });
    open.unshift({ close: () => fresh.endAsync(true) });
    const packet = await new Promise<mqtt.IConnackPacket>((resolve) => fresh.once('connect', resolve));
    expect(packet.properties?.userProperties).toEqual({
      'MCP-SERVER-NAME': 'server/named-2',
      multi: ['a', 'b'],
    });
    expect(packet.properties).toMatchObject({
      retainAvailable: true,
      wildcardSubscriptionAvailable: true,
      sharedSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
    });
  });
});

describe('events and introspection', () => {
  it('reports connects, publishes and disconnects', async () => {
    const broker = await start();
    const events: string[] = [];
    broker.on('client-connect', (info: ClientInfo, details) =>
      events.push(`connect ${info.id} ${details.sessionPresent}`),
    );
    broker.on('message-publish', (message: PublishedMessage, info) =>
      events.push(`publish ${message.topic} ${info?.id}`),
    );
    broker.on('client-disconnect', (info, details) =>
      events.push(`disconnect ${info.id} ${details.cause} ${details.reasonCode}`),
    );
    const connection = await client(broker, { clientId: 'watched' });
    await connection.publishAsync('events/a', 'x', { qos: 1, retain: true });
    expect(broker.retainedCount).toBe(1);
    expect(broker.getRetained('events/a')?.payload.toString()).toBe('x');
    expect(broker.clientCount).toBe(1);
    expect(broker.sessionCount).toBe(1);
    const gone = new Promise((resolve) => broker.once('client-disconnect', resolve));
    await connection.endAsync();
    await gone;
    expect(events).toEqual([
      'connect watched false',
      'publish events/a watched',
      'disconnect watched client-disconnect 0',
    ]);
    expect(broker.clientCount).toBe(0);
    expect(broker.sessionCount).toBe(0);
  });

  it('publishes from the broker itself', async () => {
    const broker = await start();
    const connection = await client(broker);
    await connection.subscribeAsync('server/#', { qos: 1 });
    const received = nextMessage(connection);
    broker.publish({
      topic: 'server/note',
      payload: 'hello',
      qos: 1,
      properties: { contentType: 'text/plain' },
    });
    const { payload, packet } = await received;
    expect(payload).toBe('hello');
    expect(packet.properties?.contentType).toBe('text/plain');
    expect(() => broker.publish({ topic: 'bad/#' })).toThrow(/invalid topic/);
  });

  it('close() sends DISCONNECT 0x8B to clients, is idempotent, and refuses new work', async () => {
    const broker = await start();
    const connection = await client(broker);
    const disconnect = new Promise<mqtt.IDisconnectPacket>((resolve) =>
      connection.once('disconnect', resolve),
    );
    const first = broker.close();
    expect(broker.close()).toBe(first);
    await first;
    expect((await disconnect).reasonCode).toBe(0x8b);
    expect(broker.closed).toBe(true);
    expect(() => broker.publish({ topic: 'x' })).toThrow(/closed/);
    await broker[Symbol.asyncDispose]();
  });
});

describe('protocol versions', () => {
  it('lets MQTT 3.1.1 and MQTT 5 clients talk to each other', async () => {
    const broker = await start();
    const legacy = await client(broker, { protocolVersion: 4 });
    const modern = await client(broker);
    await legacy.subscribeAsync('mixed/#', { qos: 1 });
    await modern.subscribeAsync('mixed/#', { qos: 1 });
    const toLegacy = nextMessage(legacy);
    await modern.publishAsync('mixed/from-5', 'five', { qos: 1, properties: { userProperties: { a: 'b' } } });
    expect((await toLegacy).payload).toBe('five');
    const toModern = new Promise<string>((resolve) =>
      modern.on('message', (topic, payload) => topic === 'mixed/from-4' && resolve(payload.toString())),
    );
    await legacy.publishAsync('mixed/from-4', 'four', { qos: 2 });
    expect(await toModern).toBe('four');
  });
});

describe('limits', () => {
  it('drops messages larger than the client maximum packet size for that client only', async () => {
    const broker = await start();
    const small = await client(broker, { properties: { maximumPacketSize: 200 } });
    const large = await client(broker);
    await small.subscribeAsync('size/#', { qos: 1 });
    await large.subscribeAsync('size/#', { qos: 1 });
    const smallInbox: string[] = [];
    small.on('message', (topic) => smallInbox.push(topic));
    const largeInbox: string[] = [];
    const bothArrived = new Promise<void>((resolve) =>
      large.on('message', (topic) => {
        largeInbox.push(topic);
        if (largeInbox.length === 2) resolve();
      }),
    );
    const publisher = await client(broker);
    await publisher.publishAsync('size/big', Buffer.alloc(500), { qos: 1 });
    await publisher.publishAsync('size/small', 'ok', { qos: 1 });
    await bothArrived;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(largeInbox).toEqual(['size/big', 'size/small']);
    expect(smallInbox).toEqual(['size/small']);
  });

  it('validates options', async () => {
    await expect(startBroker({ receiveMaximum: 0 })).rejects.toThrow(/receiveMaximum/);
    await expect(startBroker({ maximumQos: 3 as never })).rejects.toThrow(/maximumQos/);
  });
});

/** A raw MQTT 5 client that never acknowledges anything on its own. */
async function rawClient(broker: Broker, clientId: string, extra: Record<string, unknown> = {}) {
  const socket = netConnect(broker.port, '127.0.0.1');
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  const packets: Packet[] = [];
  const waiters: Array<() => void> = [];
  parser.on('packet', (packet: Packet) => {
    packets.push(packet);
    for (const waiter of waiters.splice(0)) waiter();
  });
  socket.on('data', (chunk) => parser.parse(chunk));
  socket.on('error', () => {});
  open.unshift({ close: () => socket.destroy() });
  const send = (packet: Packet): void => {
    socket.write(mqttPacket.generate(packet, { protocolVersion: 5 }));
  };
  const waitFor = async (count: (packets: Packet[]) => boolean): Promise<void> => {
    while (!count(packets)) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  send({ cmd: 'connect', clientId, protocolVersion: 5, clean: true, keepalive: 0, ...extra } as Packet);
  await waitFor((list) => list.some((packet) => packet.cmd === 'connack'));
  return { socket, packets, send, waitFor };
}

describe('shared subscriptions', () => {
  it('gives the unacknowledged QoS 1 messages of a member that goes away to another member', async () => {
    const broker = await start();
    const silent = await rawClient(broker, 'silent-member');
    silent.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/jobs/#', qos: 1 }] });
    await silent.waitFor((list) => list.some((packet) => packet.cmd === 'suback'));
    const worker = await client(broker, { clientId: 'worker' });
    await worker.subscribeAsync('$share/g/jobs/#', { qos: 1 });
    const done: string[] = [];
    const allDone = new Promise<void>((resolve) =>
      worker.on('message', (_topic, payload) => {
        done.push(payload.toString());
        if (done.length === 4) resolve();
      }),
    );
    const publisher = await client(broker);
    for (const job of ['1', '2', '3', '4']) await publisher.publishAsync('jobs/x', job, { qos: 1 });
    await silent.waitFor((list) => list.filter((packet) => packet.cmd === 'publish').length === 2);
    expect(done).toHaveLength(2);
    silent.socket.destroy();
    await allDone;
    expect(done.sort()).toEqual(['1', '2', '3', '4']);
  });
});

describe('wills and sessions', () => {
  it('publishes the will when the session expires before the will delay', async () => {
    const broker = await start();
    const watcher = await client(broker);
    await watcher.subscribeAsync('wills/#', { qos: 1 });
    const gone = await rawClient(broker, 'short-session', {
      properties: { sessionExpiryInterval: 1 },
      will: {
        topic: 'wills/short',
        payload: Buffer.from('bye'),
        qos: 1,
        properties: { willDelayInterval: 30 },
      },
    });
    const started = Date.now();
    const will = nextMessage(watcher);
    gone.socket.destroy();
    expect((await will).payload).toBe('bye');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThan(800);
    expect(elapsed).toBeLessThan(3000);
    expect(broker.sessionCount).toBe(1);
  });

  it('publishes the will at once when the session ends with the connection, whatever the delay', async () => {
    const broker = await start();
    const watcher = await client(broker);
    await watcher.subscribeAsync('wills/#', { qos: 1 });
    const gone = await rawClient(broker, 'no-session', {
      will: {
        topic: 'wills/now',
        payload: Buffer.from('now'),
        qos: 0,
        properties: { willDelayInterval: 30 },
      },
    });
    const will = nextMessage(watcher);
    gone.socket.destroy();
    expect((await will).payload).toBe('now');
  });

  it('publishes the old connection will on a takeover with clean start', async () => {
    const broker = await start();
    const watcher = await client(broker);
    await watcher.subscribeAsync('wills/#', { qos: 1 });
    const old = await rawClient(broker, 'taken', {
      properties: { sessionExpiryInterval: 60 },
      will: { topic: 'wills/taken', payload: Buffer.from('taken over'), qos: 1 },
    });
    const will = nextMessage(watcher);
    await client(broker, { clientId: 'taken', clean: true });
    expect((await will).payload).toBe('taken over');
    await old.waitFor((list) => list.some((packet) => packet.cmd === 'disconnect'));
    expect(old.packets.find((packet) => packet.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x8e });
  });

  it('accepts MQTT 3.1 (protocol level 3) clients', async () => {
    const broker = await start();
    const legacy = await client(broker, { protocolVersion: 3, protocolId: 'MQIsdp', clientId: 'level-3' });
    await legacy.subscribeAsync('old/#', { qos: 1 });
    const received = nextMessage(legacy);
    broker.publish({ topic: 'old/news', payload: 'still here', qos: 1 });
    expect((await received).payload).toBe('still here');
  });
});
