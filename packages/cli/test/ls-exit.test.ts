import { startTestBroker } from '@mqtt-agents/broker/vitest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cliInProcess } from './cli-process.js';

interface PendingTimer {
  stack: string;
  done: boolean;
}

/**
 * Record the timers our packages (not the broker of the test) start while `run` runs, and return the ones
 * still pending when it finished: each of them keeps a real `mqtt-agents` process alive after it printed.
 */
async function pendingTimersAfter(run: () => Promise<unknown>): Promise<PendingTimer[]> {
  const timers = new Map<unknown, PendingTimer>();
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
    callback: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ) => {
    const entry: PendingTimer = { stack: new Error().stack ?? '', done: false };
    const handle = realSet(
      (...callbackArgs: unknown[]) => {
        entry.done = true;
        callback(...callbackArgs);
      },
      ms,
      ...args,
    );
    timers.set(handle, entry);
    return handle;
  }) as typeof setTimeout);
  vi.spyOn(globalThis, 'clearTimeout').mockImplementation(((handle?: unknown) => {
    const entry = timers.get(handle);
    if (entry) entry.done = true;
    realClear(handle as Parameters<typeof clearTimeout>[0]);
  }) as typeof clearTimeout);
  try {
    await run();
  } finally {
    vi.restoreAllMocks();
  }
  return [...timers.values()].filter(
    (timer) =>
      !timer.done && timer.stack.includes('/packages/') && !timer.stack.includes('/packages/broker/'),
  );
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('mqtt-agents ls exits as soon as it printed', () => {
  it('leaves no timer of its own running when it returns', { timeout: 60_000 }, async () => {
    await using broker = await startTestBroker();
    let result: Awaited<ReturnType<typeof cliInProcess>> | undefined;
    const pending = await pendingTimersAfter(async () => {
      result = await cliInProcess(['ls', '--json', '--url', broker.url, '--filter', 'nobody-here/#']);
    });
    expect(result?.code).toBe(0);
    expect(JSON.parse(result?.stdout ?? '')).toMatchObject({ mcpServers: [] });
    expect(pending.map((timer) => timer.stack)).toEqual([]);
  });
});
