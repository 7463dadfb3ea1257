import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import { closeAllClients, connectClient, delay, embedded, RawClient, subscriber, unique } from './helpers.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await closeAllClients();
  await broker?.close();
});

/** A session subscribed to `topic` at QoS 1 whose client is offline; `reconnect()` resumes it. */
async function offlineSession(topic: string): Promise<{ reconnect: () => Promise<RawClient> }> {
  const clientId = unique('offline');
  const properties = { sessionExpiryInterval: 300 };
  const { client } = await RawClient.connect(broker.url, { clientId, properties });
  await client.subscribe({ topic, qos: 1 });
  await client.disconnect();
  return {
    reconnect: async () => {
      const { client: resumed, connack } = await RawClient.connect(broker.url, {
        clientId,
        clean: false,
        properties,
      });
      expect(connack.sessionPresent).toBe(true);
      return resumed;
    },
  };
}

// The waits below are for time to pass inside the broker (no event says "expired"); the tests run
// concurrently so the file costs one wait, not four. Mosquitto keeps time in whole seconds, so it gets a
// second of slack that the embedded broker does not need.
const AGING = embedded ? 1_300 : 2_200;
/** The most a 60 s expiry interval may have left after AGING. */
const LEFT_AT_MOST = 60 - Math.floor(AGING / 1000);
describe.concurrent('message expiry', () => {
  it('drops a message that expired while queued for an offline session', async () => {
    const topic = `expiry/${unique('t')}`;
    const session = await offlineSession(topic);
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, 'expires', { qos: 1, properties: { messageExpiryInterval: 1 } });
    await publisher.publishAsync(topic, 'stays', { qos: 1 });
    await delay(AGING);
    const client = await session.reconnect();
    const publish = await client.next('publish');
    expect(publish.payload.toString()).toBe('stays');
    expect(await client.quiet('publish')).toEqual([]);
  });

  it('forwards a queued message with its expiry interval decreased by the time it waited', async () => {
    const topic = `expiry/${unique('t')}`;
    const session = await offlineSession(topic);
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, 'waited', { qos: 1, properties: { messageExpiryInterval: 60 } });
    await delay(AGING);
    const client = await session.reconnect();
    const publish = await client.next('publish');
    expect(publish.payload.toString()).toBe('waited');
    const remaining = publish.properties?.messageExpiryInterval;
    expect(remaining).toBeGreaterThanOrEqual(55);
    expect(remaining).toBeLessThanOrEqual(LEFT_AT_MOST);
  });

  it('stops sending a retained message once it expired', async () => {
    const topic = `expiry/${unique('t')}`;
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, 'short-lived', {
      qos: 1,
      retain: true,
      properties: { messageExpiryInterval: 1 },
    });
    await delay(AGING);
    const { inbox } = await subscriber(broker.url, topic, { qos: 1 });
    expect(await inbox.quiet()).toEqual([]);
  });

  it('sends a retained message with the expiry interval it has left', async () => {
    const topic = `expiry/${unique('t')}`;
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, 'aging', {
      qos: 1,
      retain: true,
      properties: { messageExpiryInterval: 60 },
    });
    await delay(AGING);
    const { client } = await RawClient.connect(broker.url);
    await client.subscribe({ topic, qos: 1 });
    const publish = await client.next('publish');
    expect(publish.retain).toBe(true);
    const remaining = publish.properties?.messageExpiryInterval;
    expect(remaining).toBeGreaterThanOrEqual(55);
    expect(remaining).toBeLessThanOrEqual(LEFT_AT_MOST);
  });
});

describe.concurrent('live delivery', () => {
  it('forwards the message expiry interval of a live message, never more than published', async () => {
    const topic = `expiry/${unique('t')}`;
    const { client } = await RawClient.connect(broker.url);
    await client.subscribe({ topic, qos: 1 });
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, 'live', { qos: 1, properties: { messageExpiryInterval: 30 } });
    const publish = await client.next('publish');
    expect(publish.properties?.messageExpiryInterval).toBeGreaterThanOrEqual(29);
    expect(publish.properties?.messageExpiryInterval).toBeLessThanOrEqual(30);
  });

  it('adds no message expiry interval to a message published without one', async () => {
    const topic = `expiry/${unique('t')}`;
    const { client } = await RawClient.connect(broker.url);
    await client.subscribe({ topic, qos: 1 });
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, 'forever', { qos: 1 });
    const publish = await client.next('publish');
    expect(publish.properties?.messageExpiryInterval).toBeUndefined();
  });
});
