import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import {
  closeAllClients,
  assertBrokerServes,
  connectClient,
  disconnectReason,
  mosquitto,
  RawClient,
  unique,
} from './helpers.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await closeAllClients();
  await broker?.close();
});

async function rawSubscriber(topic: string, topicAliasMaximum?: number): Promise<RawClient> {
  const { client } = await RawClient.connect(
    broker.url,
    topicAliasMaximum ? { properties: { topicAliasMaximum } } : {},
  );
  await client.subscribe({ topic, qos: 0 });
  return client;
}

/** A raw publisher and the Topic Alias Maximum the broker granted it (at least 1 is needed here). */
async function aliasPublisher(): Promise<{ client: RawClient; maximum: number }> {
  const { client, connack } = await RawClient.connect(broker.url);
  const maximum = connack.properties?.topicAliasMaximum ?? 0;
  expect(maximum).toBeGreaterThanOrEqual(1);
  return { client, maximum };
}

describe.concurrent('topic aliases', () => {
  it('resolves an alias the client set for later messages sent with an empty topic', async () => {
    const topic = `alias/${unique('t')}`;
    const receiver = await rawSubscriber(topic);
    const { client } = await aliasPublisher();
    await client.publish({
      topic,
      payload: Buffer.from('sets alias'),
      qos: 1,
      properties: { topicAlias: 1 },
    });
    await client.publish({
      topic: '',
      payload: Buffer.from('uses alias'),
      qos: 1,
      properties: { topicAlias: 1 },
    });
    const [first, second] = await receiver.nextN('publish', 2);
    expect([first!.topic, first!.payload.toString()]).toEqual([topic, 'sets alias']);
    expect([second!.topic, second!.payload.toString()]).toEqual([topic, 'uses alias']);
    // The publisher's alias is its own connection's business: the subscriber allowed none.
    expect(first!.properties?.topicAlias).toBeUndefined();
    expect(second!.properties?.topicAlias).toBeUndefined();
  });

  it('remaps an alias when the client sends it with a new topic', async () => {
    const base = `alias/${unique('t')}`;
    const receiver = await rawSubscriber(`${base}/#`);
    const { client } = await aliasPublisher();
    await client.publish({
      topic: `${base}/one`,
      payload: Buffer.from('1'),
      qos: 1,
      properties: { topicAlias: 1 },
    });
    await client.publish({
      topic: `${base}/two`,
      payload: Buffer.from('2'),
      qos: 1,
      properties: { topicAlias: 1 },
    });
    await client.publish({ topic: '', payload: Buffer.from('3'), qos: 1, properties: { topicAlias: 1 } });
    const received = await receiver.nextN('publish', 3);
    expect(received.map((packet) => [packet.topic, packet.payload.toString()])).toEqual([
      [`${base}/one`, '1'],
      [`${base}/two`, '2'],
      [`${base}/two`, '3'],
    ]);
  });

  it('keeps aliases per connection: an alias set on another connection is unknown (DISCONNECT 0x82)', async () => {
    const topic = `alias/${unique('t')}`;
    const { client: setter } = await aliasPublisher();
    await setter.publish({ topic, payload: Buffer.from('x'), qos: 1, properties: { topicAlias: 1 } });
    const { client: other } = await aliasPublisher();
    other.send({
      cmd: 'publish',
      topic: '',
      payload: Buffer.from('y'),
      qos: 0,
      dup: false,
      retain: false,
      properties: { topicAlias: 1 },
    });
    expect(await disconnectReason(other)).toBe(0x82);
    expect(setter.isClosed).toBe(false);
  });

  it('treats an empty topic without an alias as a protocol error (DISCONNECT 0x82)', async () => {
    const { client } = await aliasPublisher();
    client.send({ cmd: 'publish', topic: '', payload: Buffer.from('y'), qos: 0, dup: false, retain: false });
    expect(await disconnectReason(client)).toBe(0x82);
    await assertBrokerServes(broker.url);
  });

  it('rejects an alias above its Topic Alias Maximum (DISCONNECT 0x94)', async () => {
    const { client, maximum } = await aliasPublisher();
    const topic = `alias/${unique('t')}`;
    client.send({
      cmd: 'publish',
      topic,
      payload: Buffer.from('too high'),
      qos: 0,
      dup: false,
      retain: false,
      properties: { topicAlias: maximum + 1 },
    });
    expect(await disconnectReason(client)).toBe(0x94);
    await assertBrokerServes(broker.url);
  });

  it('rejects topic alias 0 (DISCONNECT 0x94)', async () => {
    const { client } = await aliasPublisher();
    // mqtt-packet refuses to encode alias 0: write PUBLISH "a/b", properties { Topic Alias (0x23) = 0 } by hand.
    client.write(Buffer.from([0x30, 0x09, 0x00, 0x03, 0x61, 0x2f, 0x62, 0x03, 0x23, 0x00, 0x00]));
    const reason = await disconnectReason(client);
    // Mosquitto 2.0.11 reports it as Malformed Packet (0x81); MQTT 5 (3.3.2.3.4) names 0x94.
    expect(reason).toBe(mosquitto ? 0x81 : 0x94);
  });

  it('never sends a client an alias above its Topic Alias Maximum, and every alias it sends resolves', async () => {
    const base = `alias/${unique('t')}`;
    const receiver = await rawSubscriber(`${base}/#`, 2);
    const publisher = await connectClient(broker.url);
    const sent: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const leaf of ['a', 'b', 'c', 'd']) {
        sent.push(`${base}/${leaf}`);
        await publisher.publishAsync(`${base}/${leaf}`, `${round}`, { qos: 0 });
      }
    }
    const received = await receiver.nextN('publish', sent.length);
    const aliases = new Map<number, string>();
    const resolved = received.map((packet) => {
      const alias = packet.properties?.topicAlias;
      if (alias === undefined) return packet.topic;
      expect(alias).toBeGreaterThanOrEqual(1);
      expect(alias).toBeLessThanOrEqual(2);
      if (packet.topic) aliases.set(alias, packet.topic);
      return packet.topic || aliases.get(alias);
    });
    expect(resolved).toEqual(sent);
  });
});
