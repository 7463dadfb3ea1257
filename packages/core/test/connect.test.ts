import { expect, it } from 'vitest';
import { startTestBroker } from '../../broker/src/vitest.js';
it('resolves', async () => {
  const b = await startTestBroker();
  expect(b.url).toMatch(/^mqtt:/);
  expect(b.kind).toBe('mosquitto');
  await b.close();
});
