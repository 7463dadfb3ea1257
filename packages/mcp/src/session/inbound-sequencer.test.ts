import { expect, it } from 'vitest';
import { InboundSequencer } from './inbound-sequencer.js';

it('delivers in order and lets a notification settle before a response that follows it', async () => {
  const log: string[] = [];
  const sequencer = new InboundSequencer((message) => {
    const label =
      'method' in message ? String(message.method) : `response ${String((message as { id: unknown }).id)}`;
    log.push(label);
    // What the SDK does with a notification: handle it a microtask later.
    if ('method' in message) void Promise.resolve().then(() => log.push(`handled ${label}`));
  });
  sequencer.push({ jsonrpc: '2.0', method: 'notifications/progress' });
  sequencer.push({ jsonrpc: '2.0', id: 1, result: {} });
  sequencer.push({ jsonrpc: '2.0', id: 2, result: {} });
  expect(log).toEqual(['notifications/progress']);
  await new Promise((resolve) => setTimeout(resolve, 5));
  expect(log).toEqual([
    'notifications/progress',
    'handled notifications/progress',
    'response 1',
    'response 2',
  ]);
});

it('delivers responses and requests at once when no notification is pending', () => {
  const log: unknown[] = [];
  const sequencer = new InboundSequencer((message) => log.push((message as { id: unknown }).id));
  sequencer.push({ jsonrpc: '2.0', id: 1, result: {} });
  sequencer.push({ jsonrpc: '2.0', id: 2, method: 'ping' });
  expect(log).toEqual([1, 2]);
});
