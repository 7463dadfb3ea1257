import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import {
  assertBrokerServes,
  closeAllClients,
  connectClient,
  disconnectReason,
  encode,
  itFailsOn,
  RawClient,
  subscriber,
  unique,
} from './helpers.js';

const BROKER_MAXIMUM = 1024;

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({
    embedded: { maximumPacketSize: BROKER_MAXIMUM },
    mosquittoConfig: [`max_packet_size ${BROKER_MAXIMUM}`],
  });
});

afterAll(async () => {
  await closeAllClients();
  await broker?.close();
});

/** A QoS 0 PUBLISH without properties whose encoded size is exactly `size` bytes. */
function publishOfSize(topic: string, size: number) {
  const bare = {
    cmd: 'publish',
    topic,
    payload: Buffer.alloc(0),
    qos: 0,
    dup: false,
    retain: false,
  } as const;
  let payloadLength = size - encode(bare).length;
  // The remaining-length field grows by a byte past 127 and 16383: shrink the payload to compensate.
  while (encode({ ...bare, payload: Buffer.alloc(payloadLength) }).length > size) payloadLength--;
  const packet = { ...bare, payload: Buffer.alloc(payloadLength, 0x61) };
  expect(encode(packet).length).toBe(size);
  return packet;
}

describe.concurrent('inbound', () => {
  it('accepts a packet of exactly the maximum packet size', async () => {
    const topic = `size/${unique('t')}`;
    const { inbox } = await subscriber(broker.url, topic, { qos: 0 });
    const { client } = await RawClient.connect(broker.url);
    client.send(publishOfSize(topic, BROKER_MAXIMUM));
    const [message] = await inbox.waitFor(1);
    expect(message!.payload.length).toBeGreaterThan(BROKER_MAXIMUM - 50);
    expect(client.isClosed).toBe(false);
  });

  it('disconnects a client that sends a larger packet with DISCONNECT 0x95 (Packet too large)', async () => {
    const topic = `size/${unique('t')}`;
    const { inbox } = await subscriber(broker.url, topic, { qos: 0 });
    const { client } = await RawClient.connect(broker.url);
    client.send(publishOfSize(topic, 2 * BROKER_MAXIMUM));
    expect(await disconnectReason(client)).toBe(0x95);
    expect(await inbox.quiet(100)).toEqual([]);
    await assertBrokerServes(broker.url);
  });

  // Known limitation: Mosquitto 2.0.11 leaves the fixed header out of the count (measured: 1025 and 1026 bytes
  // accepted with max_packet_size 1024, 1027 refused); MQTT 5 counts the whole packet.
  itFailsOn('mosquitto')('counts the whole packet: one byte over the maximum is refused', async () => {
    const { client } = await RawClient.connect(broker.url);
    client.send(publishOfSize(`size/${unique('t')}`, BROKER_MAXIMUM + 1));
    expect(await disconnectReason(client, 1_000)).toBe(0x95);
  });
});

describe.concurrent('outbound', () => {
  it('does not send a client a message larger than its Maximum Packet Size, and goes on with smaller ones', async () => {
    const topic = `size/${unique('t')}`;
    const { client: small } = await RawClient.connect(broker.url, { properties: { maximumPacketSize: 512 } });
    await small.subscribe({ topic, qos: 1 });
    const { inbox: unlimited } = await subscriber(broker.url, topic, { qos: 1 });
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, Buffer.alloc(800, 0x62), { qos: 1 });
    await publisher.publishAsync(topic, 'small', { qos: 1 });
    // Everyone else still gets the big one.
    await unlimited.waitFor(2);
    const publish = await small.next('publish');
    expect(publish.payload.toString()).toBe('small');
    expect(await small.quiet('publish')).toEqual([]);
    expect(small.isClosed).toBe(false);
  });

  // Known limitation: Mosquitto 2.0.11 also sends a PUBLISH one byte over the client's maximum (measured: 301 bytes
  // sent to a client with Maximum Packet Size 300, 302 not).
  itFailsOn('mosquitto')('sends a PUBLISH of exactly the client maximum but not one byte more', async () => {
    const topic = `size/${unique('t')}`;
    const { client: small } = await RawClient.connect(broker.url, { properties: { maximumPacketSize: 300 } });
    await small.subscribe({ topic, qos: 0 });
    const { client: sender } = await RawClient.connect(broker.url);
    const exact = publishOfSize(topic, 300);
    sender.send(exact);
    sender.send(publishOfSize(topic, 301));
    const publish = await small.next('publish');
    expect(publish.payload.length).toBe(exact.payload.length);
    expect(await small.quiet('publish')).toEqual([]);
  });
});
