import { afterAll, beforeAll, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import { RawClient, unique, subscriber } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => { broker = await startTestBroker(); });
afterAll(async () => { await broker.close(); });

it('probe', async () => {
  for (const [delayS, expiry] of [[5, 0], [5, 2], [60, undefined]] as const) {
  const topic = unique('w');
  const w = await subscriber(broker.url, topic);
  const { client } = await RawClient.connect(broker.url, { properties: expiry === undefined ? {} : { sessionExpiryInterval: expiry }, will: { topic, payload: Buffer.from('x'), qos: 1, retain: false, properties: { willDelayInterval: delayS } } });
  const t = Date.now();
  client.destroy();
  await w.inbox.waitFor(1, 12000).catch(() => {});
  console.log('delay', delayS, 'expiry', expiry, 'will after', Date.now() - t, w.inbox.messages.length);
  }
}, 60000);
