import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import {
  closeAllClients,
  assertBrokerServes,
  connectClient,
  disconnectReason,
  itFailsOn,
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

describe.concurrent('No Local', () => {
  it('does not send a client its own messages on a No Local subscription', async () => {
    const topic = `nolocal/${unique('t')}`;
    const { client: self, inbox } = await subscriber(broker.url, topic, { qos: 1, nl: true });
    const other = await connectClient(broker.url);
    await self.publishAsync(topic, 'mine', { qos: 1 });
    await other.publishAsync(topic, 'theirs', { qos: 1 });
    await inbox.waitFor(1);
    expect(await inbox.quiet()).toEqual([]);
    expect(inbox.payloads()).toEqual(['theirs']);
  });

  it('sends a client its own messages without No Local', async () => {
    const topic = `nolocal/${unique('t')}`;
    const { client: self, inbox } = await subscriber(broker.url, topic, { qos: 1, nl: false });
    await self.publishAsync(topic, 'mine', { qos: 1 });
    await inbox.waitFor(1);
    expect(inbox.payloads()).toEqual(['mine']);
  });

  it('applies No Local per subscription: an overlapping subscription without it still delivers', async () => {
    const base = `nolocal/${unique('t')}`;
    const { client: self, inbox } = await subscriber(broker.url, `${base}/x`, { qos: 1, nl: true });
    await self.subscribeAsync(`${base}/+`, { qos: 1, nl: false });
    await self.publishAsync(`${base}/x`, 'via the wildcard', { qos: 1 });
    await inbox.waitFor(1);
    expect(await inbox.quiet()).toEqual([]);
    expect(inbox.payloads()).toEqual(['via the wildcard']);
  });

  // Known limitation: Mosquitto 2.0.11 grants a shared subscription with No Local set (measured: SUBACK, no
  // DISCONNECT), although MQTT 5 (3.8.3.1) makes it a Protocol Error.
  itFailsOn('mosquitto')(
    'treats No Local on a shared subscription as a protocol error (DISCONNECT 0x82)',
    async () => {
      const { client } = await RawClient.connect(broker.url);
      client.send({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [{ topic: `$share/g/nolocal/${unique('t')}`, qos: 1, nl: true }],
      });
      expect(await disconnectReason(client, 1_000)).toBe(0x82);
      await assertBrokerServes(broker.url);
    },
  );
});
