import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ISubscription } from 'mqtt-packet';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import { closeAllClients, connectClient, RawClient, unique } from './helpers.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await closeAllClients();
  await broker?.close();
});

async function retain(topic: string, payload: string, qos: 0 | 1 | 2 = 1): Promise<void> {
  const publisher = await connectClient(broker.url);
  await publisher.publishAsync(topic, payload, { qos, retain: true });
  await publisher.endAsync();
}

async function rawSubscriber(subscription: ISubscription): Promise<RawClient> {
  const { client } = await RawClient.connect(broker.url);
  await client.subscribe(subscription);
  return client;
}

describe.concurrent('retained messages', () => {
  it('stores a retained message and sends it to a later subscriber with RETAIN set', async () => {
    const topic = `retained/${unique('t')}`;
    await retain(topic, 'kept');
    const client = await rawSubscriber({ topic, qos: 1 });
    const publish = await client.next('publish');
    expect(publish.retain).toBe(true);
    expect(publish.payload.toString()).toBe('kept');
  });

  it('replaces the retained message of a topic with the newer one', async () => {
    const topic = `retained/${unique('t')}`;
    await retain(topic, 'old');
    await retain(topic, 'new');
    const client = await rawSubscriber({ topic, qos: 1 });
    expect((await client.next('publish')).payload.toString()).toBe('new');
    expect(await client.quiet('publish')).toEqual([]);
  });

  it('keeps the retained message when a non-retained message is published on the topic', async () => {
    const topic = `retained/${unique('t')}`;
    await retain(topic, 'retained one');
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, 'not retained', { qos: 1 });
    const client = await rawSubscriber({ topic, qos: 1 });
    expect((await client.next('publish')).payload.toString()).toBe('retained one');
    expect(await client.quiet('publish')).toEqual([]);
  });

  it('clears the retained message on an empty retained payload, and still forwards that message', async () => {
    const topic = `retained/${unique('t')}`;
    await retain(topic, 'soon gone');
    const existing = await rawSubscriber({ topic, qos: 1 });
    expect((await existing.next('publish')).payload.toString()).toBe('soon gone');
    await retain(topic, '');
    // Current subscribers get the empty message like any other.
    const cleared = await existing.next('publish');
    expect(cleared.payload.length).toBe(0);
    const later = await rawSubscriber({ topic, qos: 1 });
    expect(await later.quiet('publish')).toEqual([]);
  });

  it('sends every retained message that matches a wildcard filter', async () => {
    const base = `retained/${unique('t')}`;
    await retain(`${base}/a`, 'a');
    await retain(`${base}/b`, 'b');
    await retain(`${base}/c/d`, 'c/d');
    const all = await rawSubscriber({ topic: `${base}/#`, qos: 1 });
    const received = await all.nextN('publish', 3);
    expect(received.map((publish) => publish.topic).sort()).toEqual([
      `${base}/a`,
      `${base}/b`,
      `${base}/c/d`,
    ]);
    const level = await rawSubscriber({ topic: `${base}/+`, qos: 1 });
    const oneLevel = await level.nextN('publish', 2);
    expect(oneLevel.map((publish) => publish.topic).sort()).toEqual([`${base}/a`, `${base}/b`]);
    expect(await level.quiet('publish')).toEqual([]);
  });

  it('sends a retained message at the lower of its QoS and the granted QoS', async () => {
    const topic = `retained/${unique('t')}`;
    await retain(`${topic}/two`, 'qos 2', 2);
    await retain(`${topic}/zero`, 'qos 0', 0);
    const one = await rawSubscriber({ topic: `${topic}/two`, qos: 1 });
    expect((await one.next('publish')).qos).toBe(1);
    const two = await rawSubscriber({ topic: `${topic}/zero`, qos: 2 });
    expect((await two.next('publish')).qos).toBe(0);
  });
});

describe.concurrent('Retain Handling', () => {
  it('0: sends retained messages at every subscribe, also when the subscription exists', async () => {
    const topic = `retained/${unique('t')}`;
    await retain(topic, 'rh0');
    const client = await rawSubscriber({ topic, qos: 1, rh: 0 });
    expect((await client.next('publish')).retain).toBe(true);
    await client.subscribe({ topic, qos: 1, rh: 0 });
    const again = await client.next('publish');
    expect(again.retain).toBe(true);
    expect(again.payload.toString()).toBe('rh0');
  });

  it('1: sends retained messages only if the subscription did not exist', async () => {
    const topic = `retained/${unique('t')}`;
    await retain(topic, 'rh1');
    const client = await rawSubscriber({ topic, qos: 1, rh: 1 });
    expect((await client.next('publish')).payload.toString()).toBe('rh1');
    await client.subscribe({ topic, qos: 1, rh: 1 });
    expect(await client.quiet('publish')).toEqual([]);
  });

  it('2: never sends retained messages at subscribe, but live messages flow', async () => {
    const topic = `retained/${unique('t')}`;
    await retain(topic, 'rh2');
    const client = await rawSubscriber({ topic, qos: 1, rh: 2 });
    expect(await client.quiet('publish')).toEqual([]);
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, 'live', { qos: 1 });
    expect((await client.next('publish')).payload.toString()).toBe('live');
  });
});

describe.concurrent('RETAIN flag on live forwarding', () => {
  it('clears RETAIN on live delivery without Retain As Published', async () => {
    const topic = `retained/${unique('t')}`;
    const client = await rawSubscriber({ topic, qos: 1, rap: false });
    await retain(topic, 'live retained');
    const publish = await client.next('publish');
    expect(publish.payload.toString()).toBe('live retained');
    expect(publish.retain).toBe(false);
  });

  it('keeps RETAIN as published on live delivery with Retain As Published', async () => {
    const topic = `retained/${unique('t')}`;
    const client = await rawSubscriber({ topic, qos: 1, rap: true });
    await retain(topic, 'kept flag');
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, 'plain', { qos: 1 });
    const [retained, plain] = await client.nextN('publish', 2);
    expect(retained!.retain).toBe(true);
    expect(plain!.retain).toBe(false);
  });
});
