import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import {
  closeAllClients,
  connectClient,
  disconnectReason,
  embedded,
  Inbox,
  RawClient,
  rawPacket,
  subscriber,
  unique,
  utf8Field,
  varint,
} from './helpers.js';

// One broker with explicit limits, so CONNACK has something definite to announce.
const MAXIMUM_PACKET_SIZE = 4096;
const RECEIVE_MAXIMUM = 8;
const TOPIC_ALIAS_MAXIMUM = 5;
const MAXIMUM_SESSION_EXPIRY = 60;
const SERVER_KEEP_ALIVE = 30;

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({
    embedded: {
      maximumPacketSize: MAXIMUM_PACKET_SIZE,
      receiveMaximum: RECEIVE_MAXIMUM,
      topicAliasMaximum: TOPIC_ALIAS_MAXIMUM,
      maximumSessionExpiryInterval: MAXIMUM_SESSION_EXPIRY,
      serverKeepAlive: SERVER_KEEP_ALIVE,
    },
    mosquittoConfig: [
      `max_packet_size ${MAXIMUM_PACKET_SIZE}`,
      `max_inflight_messages ${RECEIVE_MAXIMUM}`,
      `max_topic_alias ${TOPIC_ALIAS_MAXIMUM}`,
      `max_keepalive ${SERVER_KEEP_ALIVE}`,
    ],
  });
});

afterAll(async () => {
  await closeAllClients();
  await broker?.close();
});

/** Send raw CONNECT bytes and collect everything the broker answers until it closes the connection. */
async function answerTo(bytes: Buffer): Promise<Buffer> {
  const client = await RawClient.open(broker.url);
  const chunks: Buffer[] = [];
  client.socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  client.write(bytes);
  await client.waitClosed();
  return Buffer.concat(chunks);
}

describe.concurrent('CONNACK', () => {
  it('accepts a clean start with reason 0 and no session present', async () => {
    const { connack } = await RawClient.connect(broker.url);
    expect(connack.reasonCode).toBe(0);
    expect(connack.sessionPresent).toBe(false);
  });

  it('announces retain, wildcard, shared subscriptions and subscription identifiers as available', async () => {
    const { connack } = await RawClient.connect(broker.url);
    const properties = connack.properties ?? {};
    // Absent means available; no broker under test may announce any of them as unavailable.
    expect(properties.retainAvailable).not.toBe(false);
    expect(properties.wildcardSubscriptionAvailable).not.toBe(false);
    expect(properties.sharedSubscriptionAvailable).not.toBe(false);
    expect(properties.subscriptionIdentifiersAvailable).not.toBe(false);
    // QoS 2 is supported: Maximum QoS must be absent (a value of 2 is a protocol error).
    expect(properties.maximumQoS).toBeUndefined();
    if (embedded) {
      // Mosquitto 2.0 omits these (absent = available); our broker states them explicitly.
      expect(properties.retainAvailable).toBe(true);
      expect(properties.wildcardSubscriptionAvailable).toBe(true);
      expect(properties.sharedSubscriptionAvailable).toBe(true);
      expect(properties.subscriptionIdentifiersAvailable).toBe(true);
    }
  });

  it('assigns a client identifier when the client sends an empty one', async () => {
    const first = await RawClient.connect(broker.url, { clientId: '' });
    const second = await RawClient.connect(broker.url, { clientId: '' });
    const assigned = first.connack.properties?.assignedClientIdentifier;
    expect(first.connack.reasonCode).toBe(0);
    expect(assigned).toEqual(expect.any(String));
    expect(assigned!.length).toBeGreaterThan(0);
    expect(second.connack.properties?.assignedClientIdentifier).not.toBe(assigned);
    // The assigned identifier really names the session: reusing it takes the first connection over.
    await RawClient.connect(broker.url, { clientId: assigned! });
    await first.client.waitClosed();
    expect(second.client.isClosed).toBe(false);
  });

  it('sends no assigned client identifier when the client chose one', async () => {
    const { connack } = await RawClient.connect(broker.url, { clientId: unique('named') });
    expect(connack.properties?.assignedClientIdentifier).toBeUndefined();
  });

  it.skipIf(!embedded)(
    'caps the session expiry interval and announces the cap (embedded: maximumSessionExpiryInterval option)',
    async () => {
      const capped = await RawClient.connect(broker.url, { properties: { sessionExpiryInterval: 3600 } });
      expect(capped.connack.properties?.sessionExpiryInterval).toBe(MAXIMUM_SESSION_EXPIRY);
      const within = await RawClient.connect(broker.url, { properties: { sessionExpiryInterval: 30 } });
      // Within the cap the client's value stands: absent, or echoed unchanged.
      expect([undefined, 30]).toContain(within.connack.properties?.sessionExpiryInterval);
    },
  );

  it('announces its receive maximum', async () => {
    const { connack } = await RawClient.connect(broker.url);
    expect(connack.properties?.receiveMaximum).toBe(RECEIVE_MAXIMUM);
  });

  it('announces its maximum packet size', async () => {
    const { connack } = await RawClient.connect(broker.url);
    expect(connack.properties?.maximumPacketSize).toBe(MAXIMUM_PACKET_SIZE);
  });

  it('announces its topic alias maximum', async () => {
    const { connack } = await RawClient.connect(broker.url);
    expect(connack.properties?.topicAliasMaximum).toBe(TOPIC_ALIAS_MAXIMUM);
  });
});

describe.concurrent('keep alive', () => {
  it('announces a Server Keep Alive that overrides a longer client keep alive', async () => {
    const { connack } = await RawClient.connect(broker.url, { keepalive: 60 });
    expect(connack.properties?.serverKeepAlive).toBe(SERVER_KEEP_ALIVE);
  });

  it.skipIf(!embedded)(
    'enforces the Server Keep Alive it announced (embedded: serverKeepAlive option)',
    async () => {
      const strict = await startTestBroker({ embedded: { serverKeepAlive: 1 } });
      try {
        const { client, connack } = await RawClient.connect(strict.url, { keepalive: 60 });
        expect(connack.properties?.serverKeepAlive).toBe(1);
        const started = Date.now();
        expect(await disconnectReason(client, 3_000)).toBe(0x8d);
        expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
      } finally {
        await strict.close();
      }
    },
  );

  it.skipIf(!embedded)(
    'closes a connection that sends no CONNECT within connectTimeout (embedded option)',
    async () => {
      const strict = await startTestBroker({ embedded: { connectTimeout: 300 } });
      try {
        const client = await RawClient.open(strict.url);
        const started = Date.now();
        await client.waitClosed(2_000);
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
        expect(client.received).toEqual([]);
      } finally {
        await strict.close();
      }
    },
  );
});

describe.concurrent('protocol versions', () => {
  it('accepts an MQTT 3.1.1 client and routes between 3.1.1 and 5 clients', async () => {
    const topic = `v311/${unique('t')}`;
    const old = await connectClient(broker.url, { protocolVersion: 4 });
    const oldInbox = new Inbox(old);
    await old.subscribeAsync(topic, { qos: 1 });
    const { client: modern, inbox: modernInbox } = await subscriber(broker.url, topic);
    await modern.publishAsync(topic, 'from v5', { qos: 1 });
    await old.publishAsync(topic, 'from v3.1.1', { qos: 1 });
    await oldInbox.waitFor(2);
    await modernInbox.waitFor(2);
    expect(oldInbox.payloads().sort()).toEqual(['from v3.1.1', 'from v5']);
    expect(modernInbox.payloads().sort()).toEqual(['from v3.1.1', 'from v5']);
  });

  it('accepts a raw MQTT 3.1.1 CONNECT with a 3.1.1 CONNACK', async () => {
    const { connack } = await RawClient.connect(broker.url, { protocolVersion: 4 });
    expect(connack.returnCode ?? connack.reasonCode).toBe(0);
    expect(connack.properties).toBeUndefined();
  });

  it('refuses an unsupported protocol version and closes the connection', async () => {
    // CONNECT with protocol level 6: "MQTT", level, flags (clean start), keep alive 0, no properties, client id.
    const answer = await answerTo(
      rawPacket(
        0x10,
        Buffer.concat([utf8Field('MQTT'), Buffer.from([6, 0x02, 0, 0]), varint(0), utf8Field('c')]),
      ),
    );
    // Either nothing, or a refusal: 0x84 Unsupported Protocol Version (MQTT 5 form) or 0x01 (3.1.1 form).
    if (answer.length > 0 || embedded) {
      expect(answer[0]).toBe(0x20);
      const code = answer[3];
      expect([0x01, 0x84]).toContain(code);
    }
  });

  it('refuses a wrong protocol name and closes the connection', async () => {
    const answer = await answerTo(
      rawPacket(
        0x10,
        Buffer.concat([utf8Field('MQTX'), Buffer.from([5, 0x02, 0, 0]), varint(0), utf8Field('c')]),
      ),
    );
    // Nothing, or a refusing CONNACK: never a success.
    if (answer.length > 0) {
      expect(answer[0]).toBe(0x20);
      expect(answer[3]).not.toBe(0);
    }
  });

  it('refuses a CONNECT whose reserved flag bit is set (malformed)', async () => {
    // Connect flags 0x03: clean start plus the reserved bit 0.
    const answer = await answerTo(
      rawPacket(
        0x10,
        Buffer.concat([utf8Field('MQTT'), Buffer.from([5, 0x03, 0, 0]), varint(0), utf8Field('c')]),
      ),
    );
    if (answer.length > 0) {
      expect(answer[0]).toBe(0x20);
      expect(answer[3]).toBeGreaterThanOrEqual(0x80);
    }
  });
});
