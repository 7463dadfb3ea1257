import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IPublishPacket } from 'mqtt-packet';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import { closeAllClients, connectClient, embedded, RawClient, unique } from './helpers.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await closeAllClients();
  await broker?.close();
});

type Properties = NonNullable<IPublishPacket['properties']>;

/** Publish from a raw client with exactly these properties; return what a raw subscriber receives. */
async function roundTrip(
  properties: Properties,
  options: { qos?: 0 | 1 | 2; subscriberQos?: 0 | 1 | 2; payload?: Buffer } = {},
): Promise<IPublishPacket> {
  const topic = `props/${unique('t')}`;
  const { client: receiver } = await RawClient.connect(broker.url);
  await receiver.subscribe({ topic, qos: options.subscriberQos ?? 1 });
  const { client: sender } = await RawClient.connect(broker.url);
  await sender.publish({
    topic,
    payload: options.payload ?? Buffer.from('body'),
    qos: options.qos ?? 1,
    properties,
  });
  const publish = await receiver.next('publish');
  await receiver.ack(publish);
  return publish;
}

describe.concurrent('forwarded unchanged', () => {
  it('user properties, with repeated names in their order and empty values', async () => {
    const userProperties = { a: '1', repeated: ['x', 'y', 'z'], empty: '', 'ünïcode ✓': 'värde' };
    const publish = await roundTrip({ userProperties });
    expect(publish.properties?.userProperties).toEqual(userProperties);
  });

  it('content type', async () => {
    const publish = await roundTrip({ contentType: 'application/json; charset=utf-8' });
    expect(publish.properties?.contentType).toBe('application/json; charset=utf-8');
  });

  it('payload format indicator (UTF-8)', async () => {
    const publish = await roundTrip({ payloadFormatIndicator: true });
    expect(publish.properties?.payloadFormatIndicator).toBe(true);
  });

  it('payload format indicator 0 (unspecified bytes) sent explicitly', async () => {
    const publish = await roundTrip({ payloadFormatIndicator: false });
    expect(publish.properties?.payloadFormatIndicator ?? false).toBe(false);
  });

  it('response topic', async () => {
    const responseTopic = `$a2a/v1/reply/org/unit/${unique('agent')}/r1`;
    const publish = await roundTrip({ responseTopic });
    expect(publish.properties?.responseTopic).toBe(responseTopic);
  });

  it('correlation data, as opaque bytes that are not UTF-8', async () => {
    const correlationData = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x01, 0xc3]);
    const publish = await roundTrip({ correlationData });
    expect(Buffer.from(publish.properties?.correlationData ?? []).equals(correlationData)).toBe(true);
  });

  it('all of them together at QoS 0, 1 and 2', async () => {
    const properties: Properties = {
      userProperties: { 'mcp-client': 'c1', trace: ['t1', 't2'] },
      contentType: 'application/json',
      payloadFormatIndicator: true,
      responseTopic: 'reply/here',
      correlationData: Buffer.from('corr-42'),
    };
    for (const qos of [0, 1, 2] as const) {
      const publish = await roundTrip(properties, { qos, subscriberQos: qos });
      expect(publish.qos).toBe(qos);
      const { correlationData, ...rest } = publish.properties ?? {};
      expect(rest).toEqual({
        userProperties: properties.userProperties,
        contentType: 'application/json',
        payloadFormatIndicator: true,
        responseTopic: 'reply/here',
      });
      expect(Buffer.from(correlationData ?? []).toString()).toBe('corr-42');
    }
  });

  it('properties of a retained message, when it is sent at subscribe', async () => {
    const topic = `props/${unique('t')}`;
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, 'retained', {
      qos: 1,
      retain: true,
      properties: {
        contentType: 'text/plain',
        userProperties: { kept: 'yes' },
        correlationData: Buffer.from('c'),
      },
    });
    const { client } = await RawClient.connect(broker.url);
    await client.subscribe({ topic, qos: 1 });
    const publish = await client.next('publish');
    expect(publish.properties?.contentType).toBe('text/plain');
    expect(publish.properties?.userProperties).toEqual({ kept: 'yes' });
    expect(Buffer.from(publish.properties?.correlationData ?? []).toString()).toBe('c');
  });
});

// Embedded only: a broker MAY check that a payload marked UTF-8 is UTF-8 (MQTT 5 3.3.2.3.2); ours does,
// Mosquitto 2.0.11 forwards it.
describe.concurrent('payload format indicator', () => {
  it.skipIf(!embedded)(
    'refuses a QoS 1 payload marked UTF-8 that is not, with PUBACK 0x99 (Payload format invalid)',
    async () => {
      const topic = `props/${unique('t')}`;
      const { client: receiver } = await RawClient.connect(broker.url);
      await receiver.subscribe({ topic, qos: 1 });
      const { client: sender } = await RawClient.connect(broker.url);
      const puback = await sender.publish({
        topic,
        payload: Buffer.from([0xff, 0xfe]),
        qos: 1,
        properties: { payloadFormatIndicator: true },
      });
      expect(puback?.reasonCode).toBe(0x99);
      expect(await receiver.quiet('publish')).toEqual([]);
    },
  );
});

describe.concurrent('payloads', () => {
  it('forwards an empty payload', async () => {
    const publish = await roundTrip({}, { payload: Buffer.alloc(0) });
    expect(publish.payload.length).toBe(0);
  });

  it('forwards a 256 KiB binary payload byte for byte', async () => {
    const payload = randomBytes(256 * 1024);
    const publish = await roundTrip({}, { payload });
    expect(Buffer.from(publish.payload).equals(payload)).toBe(true);
  });

  it('adds no properties of its own to a message published without any', async () => {
    const publish = await roundTrip({});
    const properties = publish.properties ?? {};
    expect(properties.userProperties).toBeUndefined();
    expect(properties.contentType).toBeUndefined();
    expect(properties.responseTopic).toBeUndefined();
    expect(properties.correlationData).toBeUndefined();
    expect(properties.topicAlias).toBeUndefined();
  });
});
