import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IConnectPacket } from 'mqtt-packet';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import {
  closeAllClients,
  delay,
  embedded,
  itFailsOn,
  mosquitto,
  RawClient,
  subscriber,
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

type Will = NonNullable<IConnectPacket['will']>;

/** A subscriber on a fresh will topic, and a raw client connected with a will on it. */
async function willScenario(
  will: Partial<Will> = {},
  connect: Partial<IConnectPacket> = {},
): Promise<{ topic: string; client: RawClient; watcher: Awaited<ReturnType<typeof subscriber>> }> {
  const topic = `will/${unique('t')}`;
  const watcher = await subscriber(broker.url, topic, { qos: 1 });
  const { client } = await RawClient.connect(broker.url, {
    ...connect,
    will: { topic, payload: Buffer.from('gone'), qos: 1, retain: false, ...will },
  });
  return { topic, client, watcher };
}

describe.concurrent('will message', () => {
  it('is published with its properties when the socket is destroyed', async () => {
    const correlationData = Buffer.from([0x00, 0xff, 0x10]);
    const { topic, client, watcher } = await willScenario({
      payload: Buffer.from('{"state":"offline"}'),
      properties: {
        contentType: 'application/json',
        responseTopic: 'replies/here',
        correlationData,
        payloadFormatIndicator: true,
        messageExpiryInterval: 120,
        userProperties: { reason: 'crash', tag: ['a', 'b'] },
      },
    });
    client.destroy();
    const [will] = await watcher.inbox.waitFor(1);
    expect(will!.topic).toBe(topic);
    expect(will!.payload.toString()).toBe('{"state":"offline"}');
    const properties = will!.packet.properties ?? {};
    expect(properties.contentType).toBe('application/json');
    expect(properties.responseTopic).toBe('replies/here');
    expect(Buffer.from(properties.correlationData ?? []).equals(correlationData)).toBe(true);
    expect(properties.payloadFormatIndicator).toBe(true);
    expect(properties.messageExpiryInterval).toBeGreaterThan(0);
    expect(properties.messageExpiryInterval).toBeLessThanOrEqual(120);
    expect(properties.userProperties).toEqual({ reason: 'crash', tag: ['a', 'b'] });
  });

  it('is suppressed by DISCONNECT 0x00 (normal disconnection)', async () => {
    const { client, watcher } = await willScenario();
    await client.disconnect(0x00);
    expect(await watcher.inbox.quiet(300)).toEqual([]);
  });

  it('is published on DISCONNECT 0x04 (Disconnect with Will Message)', async () => {
    const { topic, client, watcher } = await willScenario({ payload: Buffer.from('asked for it') });
    await client.disconnect(0x04);
    const [will] = await watcher.inbox.waitFor(1);
    expect(will!.topic).toBe(topic);
    expect(will!.payload.toString()).toBe('asked for it');
  });

  it('is stored as retained when Will Retain is set', async () => {
    const { topic, client, watcher } = await willScenario({
      retain: true,
      payload: Buffer.from('last words'),
    });
    client.destroy();
    await watcher.inbox.waitFor(1);
    const later = await subscriber(broker.url, topic, { qos: 1 });
    const [retained] = await later.inbox.waitFor(1);
    expect(retained!.packet.retain).toBe(true);
    expect(retained!.payload.toString()).toBe('last words');
  });

  // Known limitation: Mosquitto 2.0.11 waits out the will delay even though a session with expiry 0 ends
  // with the connection (measured: will delay 5 s, will after 5.4 s; with session expiry 2 s it is sent at 2.9 s).
  itFailsOn('mosquitto')(
    'is published at once when the session ends before the will delay (session expiry 0)',
    async () => {
      const { client, watcher } = await willScenario({ properties: { willDelayInterval: 60 } });
      client.destroy();
      await watcher.inbox.waitFor(1, 1_500);
    },
  );
});

// Skipped on Mosquitto: 2.0.11 computes 1.5x keep alive in whole seconds with integer arithmetic (1 * 3 / 2 = 1 s,
// measured: a client pinging every 500 ms with keep alive 1 is dropped within 2 s) and checks it on a coarse timer
// (a silent client with keep alive 1 was dropped after anything from 2 s to 5.4 s). Neither bound holds there.
describe.concurrent('keep alive', () => {
  it.skipIf(mosquitto)(
    'disconnects a silent client after 1.5x its keep alive (1 s) and publishes its will',
    async () => {
      const { client, watcher } = await willScenario({}, { keepalive: 1 });
      const started = Date.now();
      await watcher.inbox.waitFor(1, 2_500);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(1_400);
      expect(elapsed).toBeLessThanOrEqual(2_300);
      await client.waitClosed(500);
      const disconnect = client.disconnectPacket();
      // The DISCONNECT is optional; if sent it says why.
      if (disconnect) expect(disconnect.reasonCode).toBe(0x8d);
    },
  );

  it.skipIf(mosquitto)(
    'keeps a client that sends PINGREQ within its keep alive connected, will unsent',
    async () => {
      const { client, watcher } = await willScenario({}, { keepalive: 1 });
      for (let round = 0; round < 4; round++) {
        await delay(500);
        client.send({ cmd: 'pingreq' });
        await client.next('pingresp');
      }
      expect(client.isClosed).toBe(false);
      expect(watcher.inbox.messages).toEqual([]);
    },
  );
});

describe.concurrent('will delay interval', () => {
  it('delays the will by the will delay interval', async () => {
    const { client, watcher } = await willScenario(
      { properties: { willDelayInterval: 1 } },
      { properties: { sessionExpiryInterval: 30 } },
    );
    const started = Date.now();
    client.destroy();
    await watcher.inbox.waitFor(1, 3_500);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    // Mosquitto works on a whole-second clock; the embedded broker is held to a tighter bound.
    expect(elapsed).toBeLessThanOrEqual(embedded ? 1_600 : 3_000);
  });

  it('cancels the delayed will when the client reconnects within the delay', async () => {
    const clientId = unique('will-cancel');
    const { client, watcher } = await willScenario(
      { properties: { willDelayInterval: 1 } },
      { clientId, properties: { sessionExpiryInterval: 30 } },
    );
    client.destroy();
    await client.closed;
    const { connack } = await RawClient.connect(broker.url, {
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: 30 },
    });
    expect(connack.sessionPresent).toBe(true);
    expect(await watcher.inbox.quiet(1_600)).toEqual([]);
  });
});
