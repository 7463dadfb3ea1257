import { afterAll, beforeAll, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import { RawClient, unique, connectClient } from './helpers.js';
let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});
it('probe', async () => {
  for (const rm of [1, 3, 10]) {
    const topic = unique('t');
    const { client } = await RawClient.connect(broker.url, { properties: { receiveMaximum: rm } });
    await client.subscribe({ topic, qos: 1 });
    const c = await connectClient(broker.url);
    for (let i = 0; i < 30; i++) await c.publishAsync(topic, 'x', { qos: 1 });
    const got = await client.quiet('publish', 300);
    console.log('receiveMaximum', rm, 'in flight', got.length);
  }
});
