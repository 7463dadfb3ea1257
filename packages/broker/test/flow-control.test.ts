import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import {
  assertBrokerServes,
  closeAllClients,
  connectClient,
  disconnectReason,
  embedded,
  itFailsOn,
  RawClient,
  unique,
} from './helpers.js';

const BROKER_RECEIVE_MAXIMUM = 5;

let broker: TestBroker;

beforeAll(async () => {
  // Mosquitto keeps its default (20): its `max_inflight_messages` would also override the clients' Receive
  // Maximum towards them (measured with 2.0.11), which the first tests need intact.
  broker = await startTestBroker({ embedded: { receiveMaximum: BROKER_RECEIVE_MAXIMUM } });
});

afterAll(async () => {
  await closeAllClients();
  await broker?.close();
});

async function slowSubscriber(topic: string, receiveMaximum: number, qos: 1 | 2): Promise<RawClient> {
  const { client } = await RawClient.connect(broker.url, { properties: { receiveMaximum } });
  await client.subscribe({ topic, qos });
  return client;
}

async function publishMany(topic: string, count: number, qos: 0 | 1 | 2): Promise<void> {
  const publisher = await connectClient(broker.url);
  for (let index = 0; index < count; index++) await publisher.publishAsync(topic, `m${index}`, { qos });
}

describe.concurrent('client Receive Maximum', () => {
  it('sends at most Receive Maximum unacknowledged QoS 1 messages, the rest as acknowledgements come', async () => {
    const topic = `flow/${unique('t')}`;
    const client = await slowSubscriber(topic, 3, 1);
    await publishMany(topic, 10, 1);
    const received = await client.nextN('publish', 3);
    expect(await client.quiet('publish', 300)).toEqual([]);
    for (const publish of received) client.send({ cmd: 'puback', messageId: publish.messageId });
    while (received.length < 10) {
      const next = await client.next('publish');
      received.push(next);
      client.send({ cmd: 'puback', messageId: next.messageId });
    }
    expect(received.map((publish) => publish.payload.toString())).toEqual(
      Array.from({ length: 10 }, (_, index) => `m${index}`),
    );
  });

  // Known limitation: Mosquitto 2.0.11 respects the window until the first acknowledgement, then sends more than
  // one message per freed slot (measured: Receive Maximum 3, one PUBACK, 5 unacknowledged in flight).
  itFailsOn('mosquitto')('sends exactly one more message per PUBACK while the window is full', async () => {
    const topic = `flow/${unique('t')}`;
    const client = await slowSubscriber(topic, 3, 1);
    await publishMany(topic, 10, 1);
    const inFlight = await client.nextN('publish', 3);
    for (let round = 0; round < 3; round++) {
      client.send({ cmd: 'puback', messageId: inFlight.shift()!.messageId });
      inFlight.push(await client.next('publish'));
      expect(await client.quiet('publish', 150)).toEqual([]);
    }
  });

  it('counts a QoS 2 message as in flight until its PUBCOMP', async () => {
    const topic = `flow/${unique('t')}`;
    const client = await slowSubscriber(topic, 2, 2);
    await publishMany(topic, 4, 2);
    const [a, b] = await client.nextN('publish', 2);
    client.send({ cmd: 'pubrec', messageId: a!.messageId });
    client.send({ cmd: 'pubrec', messageId: b!.messageId });
    await client.nextN('pubrel', 2);
    expect(await client.quiet('publish', 300)).toEqual([]);
    client.send({ cmd: 'pubcomp', messageId: a!.messageId });
    const third = await client.next('publish');
    expect(third.payload.toString()).toBe('m2');
  });

  it('does not hold back QoS 0 messages while the QoS 1 window is full', async () => {
    const topic = `flow/${unique('t')}`;
    const client = await slowSubscriber(topic, 1, 1);
    await publishMany(topic, 1, 1);
    const held = await client.next('publish');
    expect(held.qos).toBe(1);
    await publishMany(topic, 5, 0);
    const free = await client.nextN('publish', 5);
    expect(free.every((publish) => publish.qos === 0)).toBe(true);
  });
});

describe.concurrent('broker Receive Maximum', () => {
  // Known limitation: Mosquitto 2.0.11 answers the extra message with PUBREC 0x97 (Quota exceeded) and keeps
  // the connection; MQTT 5 (3.3.4) asks for DISCONNECT 0x93.
  itFailsOn('mosquitto')(
    'disconnects a client that sends more unacknowledged QoS 2 messages than allowed (DISCONNECT 0x93)',
    async () => {
      const { client, connack } = await RawClient.connect(broker.url);
      const maximum = connack.properties?.receiveMaximum ?? 65_535;
      if (embedded) expect(maximum).toBe(BROKER_RECEIVE_MAXIMUM);
      const topic = `flow/${unique('t')}`;
      // QoS 2 publishes stay in flight until the client sends PUBREL, which it never does here.
      for (let messageId = 1; messageId <= maximum; messageId++) {
        client.send({
          cmd: 'publish',
          topic,
          payload: Buffer.from('x'),
          qos: 2,
          messageId,
          dup: false,
          retain: false,
        });
      }
      await client.nextN('pubrec', maximum);
      expect(client.isClosed).toBe(false);
      client.send({
        cmd: 'publish',
        topic,
        payload: Buffer.from('x'),
        qos: 2,
        messageId: maximum + 1,
        dup: false,
        retain: false,
      });
      expect(await disconnectReason(client, 1_000)).toBe(0x93);
      await assertBrokerServes(broker.url);
    },
  );
});
