import { TaskState } from '@a2a-js/sdk';
import type { Task } from '@a2a-js/sdk';
import { ServerCallContext } from '@a2a-js/sdk/server';
import { describe, expect, it } from 'vitest';
import { BrokerIdentityUser } from './caller-identity.js';
import { BoundedTaskStore, estimateBytes } from './bounded-task-store.js';
import type { BoundedTaskStoreOptions } from './bounded-task-store.js';

const context = new ServerCallContext({ tenant: 'acme/line' });

function task(id: string, state: TaskState, text = ''): Task {
  return {
    id,
    contextId: 'c',
    status: { state, message: undefined, timestamp: new Date(0).toISOString() },
    artifacts: text
      ? [
          {
            artifactId: 'a',
            name: 'a',
            description: '',
            parts: [
              { content: { $case: 'text', value: text }, mediaType: '', filename: '', metadata: undefined },
            ],
            metadata: undefined,
            extensions: [],
          },
        ]
      : [],
    history: [],
    metadata: undefined,
  };
}

function storeWith(options: BoundedTaskStoreOptions = {}) {
  let now = 0;
  const warnings: string[] = [];
  const store = new BoundedTaskStore({
    now: () => now,
    logger: { debug() {}, info() {}, warn: (message) => warnings.push(message), error() {} },
    ...options,
  });
  return { store, warnings, advance: (ms: number) => (now += ms) };
}

const { COMPLETED, WORKING, INPUT } = {
  COMPLETED: TaskState.TASK_STATE_COMPLETED,
  WORKING: TaskState.TASK_STATE_WORKING,
  INPUT: TaskState.TASK_STATE_INPUT_REQUIRED,
};

describe('BoundedTaskStore', () => {
  it('saves and loads copies, scoped by tenant and owner', async () => {
    const { store } = storeWith();
    const original = task('t1', WORKING);
    await store.save(original, context);
    original.status!.state = COMPLETED;
    expect((await store.load('t1', context))?.status?.state).toBe(WORKING);
    const other = new ServerCallContext({
      tenant: 'acme/line',
      user: new BrokerIdentityUser({ clientId: 'acme/line/x', roles: [] }),
    });
    expect(await store.load('t1', other)).toBeUndefined();
    expect(await store.load('t1', new ServerCallContext({ tenant: 'other/unit' }))).toBeUndefined();
  });

  it('forgets terminal tasks after ttlMs and unfinished ones after activeTtlMs', async () => {
    const { store, advance } = storeWith({ ttlMs: 1_000, activeTtlMs: 5_000 });
    await store.save(task('done', COMPLETED), context);
    await store.save(task('waiting', INPUT), context);
    advance(1_000);
    expect(await store.load('done', context)).toBeUndefined();
    expect(await store.load('waiting', context)).toBeDefined();
    advance(4_000);
    expect(await store.load('waiting', context)).toBeUndefined();
    expect(store.size).toBe(0);
    expect(store.bytes).toBe(0);
  });

  it('evicts the oldest terminal tasks first when full, then waiting ones, then working ones with a warning', async () => {
    const { store, warnings } = storeWith({ maxTasks: 3 });
    await store.save(task('working', WORKING), context);
    await store.save(task('waiting', INPUT), context);
    await store.save(task('done-1', COMPLETED), context);
    await store.save(task('done-2', COMPLETED), context);
    expect(await store.load('done-1', context)).toBeUndefined();
    expect(await store.load('working', context)).toBeDefined();
    await store.save(task('working-2', WORKING), context);
    expect(await store.load('done-2', context)).toBeUndefined();
    expect(warnings).toEqual([]);
    await store.save(task('working-3', WORKING), context);
    expect(await store.load('waiting', context)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(store.size).toBe(3);
  });

  it('bounds the estimated bytes, sparing the task being saved', async () => {
    const big = 'x'.repeat(10_000);
    const { store } = storeWith({ maxBytes: 25_000 });
    await store.save(task('a', COMPLETED, big), context);
    await store.save(task('b', COMPLETED, big), context);
    await store.save(task('c', COMPLETED, big), context);
    expect(store.bytes).toBeLessThanOrEqual(25_000);
    expect(await store.load('a', context)).toBeUndefined();
    expect(await store.load('c', context)).toBeDefined();
    await store.save(task('huge', WORKING, 'y'.repeat(50_000)), context);
    expect(store.size).toBe(1);
    expect(await store.load('huge', context)).toBeDefined();
  });

  it('stops admitting new tasks at maxActiveTasks unfinished ones', async () => {
    const { store } = storeWith({ maxTasks: 10, maxActiveTasks: 2 });
    await store.save(task('a', WORKING), context);
    expect(store.admitsNewTask()).toBe(true);
    await store.save(task('b', INPUT), context);
    expect(store.admitsNewTask()).toBe(false);
    await store.save(task('a', COMPLETED), context);
    expect(store.admitsNewTask()).toBe(true);
    expect(store.activeSize).toBe(1);
  });

  it('lists like the SDK store: newest first, filtered, paged, artifacts only when asked', async () => {
    const { store } = storeWith();
    for (let index = 0; index < 5; index++) {
      const entry = task(`t${index}`, index % 2 ? COMPLETED : WORKING, 'art');
      entry.status!.timestamp = new Date(index * 1000).toISOString();
      await store.save(entry, context);
    }
    const request = {
      tenant: '',
      contextId: '',
      status: TaskState.TASK_STATE_UNSPECIFIED,
      pageToken: '',
      statusTimestampAfter: undefined,
    };
    const first = await store.list({ ...request, pageSize: 2 }, context);
    expect(first.tasks.map((entry) => entry.id)).toEqual(['t4', 't3']);
    expect(first.totalSize).toBe(5);
    expect(first.tasks[0]?.artifacts).toEqual([]);
    const second = await store.list({ ...request, pageSize: 2, pageToken: first.nextPageToken }, context);
    expect(second.tasks.map((entry) => entry.id)).toEqual(['t2', 't1']);
    const done = await store.list({ ...request, status: COMPLETED, includeArtifacts: true }, context);
    expect(done.tasks.map((entry) => entry.id)).toEqual(['t3', 't1']);
    expect(done.tasks[0]?.artifacts).toHaveLength(1);
    await expect(store.list({ ...request, pageToken: '!!' }, context)).rejects.toThrow(/page token/);
  });

  it('estimates text at its length and binary at its byte length', () => {
    expect(estimateBytes('x'.repeat(1000))).toBeGreaterThanOrEqual(1000);
    expect(estimateBytes(new Uint8Array(5000))).toBeGreaterThanOrEqual(5000);
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let level = 0; level < 100_000; level++) cursor = (cursor.next = {}) as Record<string, unknown>;
    expect(estimateBytes(deep)).toBeGreaterThan(100_000);
  });
});
