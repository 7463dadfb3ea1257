import { describe, expect, it } from 'vitest';
import { HashGate } from './hash-gate.js';

function held(): { promise: Promise<void>; release(): void } {
  let release = (): void => {};
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

describe('hash gate', () => {
  it('runs at most `concurrency` tasks, queues at most `maxQueued`, and refuses the rest', async () => {
    const gate = new HashGate({ concurrency: 1, maxQueued: 2 });
    const tasks = [held(), held(), held(), held()];
    const started: number[] = [];
    const runs = tasks.map((task, index) =>
      gate.run(async () => {
        started.push(index);
        await task.promise;
        return index;
      }),
    );
    expect(runs[3]).toBeUndefined(); // one running, two queued: the fourth is refused at once
    expect(gate.load).toBe(3);
    await Promise.resolve();
    expect(started).toEqual([0]);
    tasks[0]?.release();
    expect(await runs[0]).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);
    tasks[1]?.release();
    tasks[2]?.release();
    expect(await Promise.all([runs[1], runs[2]])).toEqual([1, 2]);
    expect(gate.load).toBe(0);
    expect(gate.run(async () => 'again')).toBeDefined();
  });

  it('frees its slot when a task fails', async () => {
    const gate = new HashGate({ concurrency: 1, maxQueued: 0 });
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'ok')).toBe('ok');
  });
});
