import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IPublishPacket } from 'mqtt-packet';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import {
  closeAllClients,
  assertBrokerServes,
  connectClient,
  disconnectReason,
  RawClient,
  rawPacket,
  unique,
  utf8Field,
  varint,
} from './helpers.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await closeAllClients();
  await broker?.close();
});

function identifiers(publish: IPublishPacket): number[] {
  const value = publish.properties?.subscriptionIdentifier;
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

async function publish(topic: string, payload: string, retain = false): Promise<void> {
  const publisher = await connectClient(broker.url);
  await publisher.publishAsync(topic, payload, { qos: 1, retain });
}

describe.concurrent('subscription identifiers', () => {
  it('sends the subscription identifier with each message the subscription matched', async () => {
    const topic = `subid/${unique('t')}`;
    const { client } = await RawClient.connect(broker.url);
    await client.subscribe({ topic, qos: 1 }, { subscriptionIdentifier: 7 });
    await publish(topic, 'hello');
    expect(identifiers(await client.next('publish'))).toEqual([7]);
  });

  it('sends no subscription identifier for a subscription made without one', async () => {
    const topic = `subid/${unique('t')}`;
    const { client } = await RawClient.connect(broker.url);
    await client.subscribe({ topic, qos: 1 });
    await publish(topic, 'plain');
    expect(identifiers(await client.next('publish'))).toEqual([]);
  });

  it('reports the identifiers of all overlapping subscriptions that matched', async () => {
    const base = `subid/${unique('t')}`;
    const { client } = await RawClient.connect(broker.url);
    await client.subscribe({ topic: `${base}/x`, qos: 1 }, { subscriptionIdentifier: 1 });
    await client.subscribe({ topic: `${base}/+`, qos: 1 }, { subscriptionIdentifier: 2 });
    await client.subscribe({ topic: `${base}/#`, qos: 1 });
    await publish(`${base}/x`, 'overlap');
    // One copy carrying both identifiers, or one copy per subscription each carrying its own: either way
    // every identifier is reported, and no copy carries an identifier of a subscription that did not match.
    const first = await client.next('publish');
    const copies = [first, ...(await client.quiet('publish', 200))];
    const all = copies.flatMap(identifiers).sort();
    expect(all).toEqual([1, 2]);
    if (copies.length > 1) expect(copies.every((copy) => identifiers(copy).length <= 1)).toBe(true);
  });

  it('replaces the identifier when the same filter is subscribed again', async () => {
    const topic = `subid/${unique('t')}`;
    const { client } = await RawClient.connect(broker.url);
    await client.subscribe({ topic, qos: 1 }, { subscriptionIdentifier: 10 });
    await client.subscribe({ topic, qos: 1 }, { subscriptionIdentifier: 11 });
    await publish(topic, 'second id');
    expect(identifiers(await client.next('publish'))).toEqual([11]);
    expect(await client.quiet('publish')).toEqual([]);
  });

  it('sends the subscription identifier with retained messages sent at subscribe', async () => {
    const topic = `subid/${unique('t')}`;
    await publish(topic, 'retained', true);
    const { client } = await RawClient.connect(broker.url);
    await client.subscribe({ topic, qos: 1 }, { subscriptionIdentifier: 268_435_455 });
    const retained = await client.next('publish');
    expect(retained.retain).toBe(true);
    expect(identifiers(retained)).toEqual([268_435_455]);
  });

  it('sends each subscriber its own identifier', async () => {
    const topic = `subid/${unique('t')}`;
    const { client: a } = await RawClient.connect(broker.url);
    const { client: b } = await RawClient.connect(broker.url);
    await a.subscribe({ topic, qos: 1 }, { subscriptionIdentifier: 3 });
    await b.subscribe({ topic, qos: 1 }, { subscriptionIdentifier: 4 });
    await publish(topic, 'both');
    expect(identifiers(await a.next('publish'))).toEqual([3]);
    expect(identifiers(await b.next('publish'))).toEqual([4]);
  });

  it('treats a subscription identifier of 0 as an error and closes the connection', async () => {
    const { client } = await RawClient.connect(broker.url);
    // SUBSCRIBE, packet id 1, properties: Subscription Identifier (0x0B) = 0, filter, options QoS 1.
    client.write(
      rawPacket(
        0x82,
        Buffer.concat([
          Buffer.from([0, 1]),
          varint(2),
          Buffer.from([0x0b, 0]),
          utf8Field('a/b'),
          Buffer.from([1]),
        ]),
      ),
    );
    // Protocol Error (0x82) by MQTT 5 3.8.2.1.2; Mosquitto reports it as Malformed Packet (0x81).
    expect([0x81, 0x82]).toContain(await disconnectReason(client));
    await assertBrokerServes(broker.url);
  });
});
