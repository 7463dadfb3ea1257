import { expect, it } from 'vitest';
import { stopSignalHandler } from './io.js';

it('the first signal asks the command to stop, a second one exits at once', () => {
  const calls: string[] = [];
  const onSignal = stopSignalHandler({
    stop: () => calls.push('stop'),
    exit: (code) => calls.push(`exit ${code}`),
  });
  onSignal('SIGTERM');
  expect(calls).toEqual(['stop']);
  onSignal('SIGINT');
  expect(calls).toEqual(['stop', 'exit 130']);
  onSignal('SIGTERM');
  expect(calls).toEqual(['stop', 'exit 130', 'exit 143']);
});
