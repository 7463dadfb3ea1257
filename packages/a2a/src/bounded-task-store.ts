import { TaskState } from '@a2a-js/sdk';
import type { ListTasksRequest, ListTasksResponse, Task } from '@a2a-js/sdk';
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import { resolveUserScope } from '@a2a-js/sdk/server';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';
import { createLogger } from '@mqtt-agents/core';
import type { Logger } from '@mqtt-agents/core';
import { isStreamFinalState, isTerminalState } from './stream-states.js';

/** Limits of a {@link BoundedTaskStore}. Every field has a default. */
export interface BoundedTaskStoreOptions {
  /** Most tasks kept, in every state. Default 10,000. */
  maxTasks?: number;
  /** Most bytes kept: the tasks' estimated size (text at one byte a character, binary at its length). Default 64 MiB. */
  maxBytes?: number;
  /** How long a task in a terminal state is kept after its last update, in ms. Default 1 hour. */
  ttlMs?: number;
  /**
   * Most tasks in non-terminal states (working, or waiting for input): from there on `admitsNewTask()` is
   * false and `serveA2AOverMqtt` refuses new tasks with `responder_unavailable` (retryable; they never ran).
   * Default half of `maxTasks`.
   */
  maxActiveTasks?: number;
  /** How long a task in a non-terminal state is kept after its last update (an abandoned task), in ms. Default 24 hours. */
  activeTtlMs?: number;
  /** Who owns a task (tasks are scoped by tenant and owner). Default the SDK's `resolveUserScope` (`context.user.userName`). */
  ownerResolver?: (context: ServerCallContext) => string;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
  logger?: Logger;
}

/** The defaults of {@link BoundedTaskStoreOptions}. */
export const DEFAULT_TASK_STORE_LIMITS = Object.freeze({
  maxTasks: 10_000,
  maxBytes: 64 * 1024 * 1024,
  ttlMs: 60 * 60_000,
  activeTtlMs: 24 * 60 * 60_000,
});

type TaskClass = 'terminal' | 'interrupted' | 'working';

interface Entry {
  readonly key: string;
  readonly scope: string;
  readonly task: Task;
  readonly bytes: number;
  readonly updatedAt: number;
  readonly kind: TaskClass;
}

const DEFAULT_PAGE_SIZE = 50;
/** Fixed cost of one stored task beyond its content (entry, map slots, clone headers). */
const TASK_OVERHEAD_BYTES = 512;

/**
 * The estimated memory of a value: strings at one byte a character, binary at its length, numbers and
 * booleans at 8, plus a fixed cost per object, array and property. Iterative, so deep values cannot
 * overflow the stack.
 */
export function estimateBytes(value: unknown): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') total += 16 + item.length;
    else if (typeof item === 'number' || typeof item === 'boolean' || typeof item === 'bigint') total += 8;
    else if (item instanceof Uint8Array) total += 64 + item.byteLength;
    else if (item instanceof Date) total += 32;
    else if (Array.isArray(item)) {
      total += 16 + 8 * item.length;
      for (const element of item) stack.push(element);
    } else if (typeof item === 'object' && item !== null) {
      total += 32;
      for (const [name, child] of Object.entries(item)) {
        total += 16 + name.length;
        stack.push(child);
      }
    } else total += 8;
  }
  return total;
}

function classOf(task: Task): TaskClass {
  const state = task.status?.state;
  if (isTerminalState(state)) return 'terminal';
  return isStreamFinalState(state) ? 'interrupted' : 'working';
}

function encodePageToken(timestamp: string, id: string): string {
  const bytes = new TextEncoder().encode(JSON.stringify([timestamp, id]));
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function decodePageToken(token: string): { timestamp: string; id: string } {
  try {
    const bytes = Uint8Array.from(atob(token), (character) => character.charCodeAt(0));
    const decoded = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
    if (Array.isArray(decoded) && decoded.length === 2 && decoded.every((part) => typeof part === 'string')) {
      return { timestamp: decoded[0] as string, id: decoded[1] as string };
    }
  } catch {
    // Falls through to the error below.
  }
  throw new RequestMalformedError('Invalid page token format.');
}

/**
 * A `TaskStore` whose memory stays bounded: the default of `serveA2AOverMqtt`. Tasks are scoped by tenant
 * and owner like the SDK's `InMemoryTaskStore`. Limits (see {@link BoundedTaskStoreOptions}): a terminal
 * task lives `ttlMs` after its last update, an unfinished one `activeTtlMs`; beyond `maxTasks` or
 * `maxBytes` the least recently updated terminal tasks go first, then tasks waiting for input, and only
 * then, with a warning, working tasks (never the one being saved). New tasks stop being admitted at
 * `maxActiveTasks` unfinished tasks, so working tasks are evicted only when tasks grow past `maxBytes`
 * while working. A single task larger than `maxBytes` is kept alone while it is the one being saved.
 */
export class BoundedTaskStore implements TaskStore {
  private readonly maxTasks: number;
  private readonly maxBytes: number;
  private readonly ttlMs: number;
  private readonly maxActiveTasks: number;
  private readonly activeTtlMs: number;
  private readonly ownerResolver: (context: ServerCallContext) => string;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly entries = new Map<string, Entry>();
  /** One map per class, each in the order of last update (oldest first). */
  private readonly classes: Record<TaskClass, Map<string, Entry>> = {
    terminal: new Map(),
    interrupted: new Map(),
    working: new Map(),
  };
  private totalBytes = 0;

  constructor(options: BoundedTaskStoreOptions = {}) {
    this.maxTasks = Math.max(1, options.maxTasks ?? DEFAULT_TASK_STORE_LIMITS.maxTasks);
    this.maxBytes = Math.max(1, options.maxBytes ?? DEFAULT_TASK_STORE_LIMITS.maxBytes);
    this.ttlMs = options.ttlMs ?? DEFAULT_TASK_STORE_LIMITS.ttlMs;
    this.maxActiveTasks = Math.max(1, options.maxActiveTasks ?? Math.ceil(this.maxTasks / 2));
    this.activeTtlMs = options.activeTtlMs ?? DEFAULT_TASK_STORE_LIMITS.activeTtlMs;
    this.ownerResolver = options.ownerResolver ?? resolveUserScope;
    this.now = options.now ?? Date.now;
    this.logger = createLogger('mqtt-agents:a2a', options.logger);
  }

  /** Tasks held, in every state. */
  get size(): number {
    return this.entries.size;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Tasks held in non-terminal states. */
  get activeSize(): number {
    this.prune();
    return this.classes.interrupted.size + this.classes.working.size;
  }

  /** False once `maxActiveTasks` unfinished tasks are held: a new task would have to wait. */
  admitsNewTask(): boolean {
    return this.activeSize < this.maxActiveTasks;
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    this.prune();
    const entry = this.entries.get(this.keyOf(this.scopeOf(context), taskId));
    return entry ? structuredClone(entry.task) : undefined;
  }

  async save(task: Task, context: ServerCallContext): Promise<void> {
    const scope = this.scopeOf(context);
    const key = this.keyOf(scope, task.id);
    const previous = this.entries.get(key);
    if (previous) this.remove(previous);
    const copy = structuredClone(task);
    const entry: Entry = {
      key,
      scope,
      task: copy,
      bytes: TASK_OVERHEAD_BYTES + estimateBytes(copy),
      updatedAt: this.now(),
      kind: classOf(copy),
    };
    this.entries.set(key, entry);
    this.classes[entry.kind].set(key, entry);
    this.totalBytes += entry.bytes;
    this.prune();
    this.evict(key);
  }

  async list(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    this.prune();
    const scope = this.scopeOf(context);
    const { contextId, status, pageToken, statusTimestampAfter } = params;
    const pageSize = params.pageSize ?? DEFAULT_PAGE_SIZE;
    let tasks = [...this.entries.values()]
      .filter((entry) => entry.scope === scope)
      .map((entry) => entry.task);
    if (contextId) tasks = tasks.filter((task) => task.contextId === contextId);
    if (status !== undefined && status !== TaskState.TASK_STATE_UNSPECIFIED) {
      tasks = tasks.filter((task) => task.status?.state === status);
    }
    if (statusTimestampAfter) {
      const after = new Date(statusTimestampAfter).getTime();
      tasks = tasks.filter(
        (task) => task.status?.timestamp && new Date(task.status.timestamp).getTime() > after,
      );
    }
    tasks.sort((left, right) => {
      const a = left.status?.timestamp ?? '';
      const b = right.status?.timestamp ?? '';
      return a !== b ? b.localeCompare(a) : right.id.localeCompare(left.id);
    });
    const totalSize = tasks.length;
    if (pageToken) {
      const cursor = decodePageToken(pageToken);
      const index = tasks.findIndex(
        (task) => (task.status?.timestamp ?? '') === cursor.timestamp && task.id === cursor.id,
      );
      tasks = index === -1 ? [] : tasks.slice(index + 1);
    }
    const page = tasks.slice(0, pageSize);
    const last = page[page.length - 1];
    return {
      tasks: page.map((task) => {
        const copy = structuredClone(task);
        if (!params.includeArtifacts) copy.artifacts = [];
        return copy;
      }),
      nextPageToken:
        last && tasks.length > page.length ? encodePageToken(last.status?.timestamp ?? '', last.id) : '',
      pageSize,
      totalSize,
    };
  }

  private scopeOf(context: ServerCallContext): string {
    return `${context.tenant ?? ''}\n${this.ownerResolver(context)}`;
  }

  private keyOf(scope: string, taskId: string): string {
    return `${scope}\n${taskId}`;
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.key);
    this.classes[entry.kind].delete(entry.key);
    this.totalBytes -= entry.bytes;
  }

  /** Forget tasks whose time is up: each class map is in update order, so only its head needs looking at. */
  private prune(): void {
    const now = this.now();
    for (const kind of ['terminal', 'interrupted', 'working'] as const) {
      const ttl = kind === 'terminal' ? this.ttlMs : this.activeTtlMs;
      for (const entry of this.classes[kind].values()) {
        if (entry.updatedAt + ttl > now) break;
        this.remove(entry);
      }
    }
  }

  /** Bring the store back within `maxTasks` and `maxBytes`, sparing `keep`. */
  private evict(keep: string): void {
    while (this.entries.size > this.maxTasks || this.totalBytes > this.maxBytes) {
      const victim =
        this.oldest('terminal', keep) ?? this.oldest('interrupted', keep) ?? this.oldest('working', keep);
      if (!victim) return;
      if (victim.kind !== 'terminal') {
        this.logger.warn(
          `task store full: forgot unfinished task ${victim.task.id} (${victim.kind}, last updated ${new Date(victim.updatedAt).toISOString()})`,
        );
      }
      this.remove(victim);
    }
  }

  private oldest(kind: TaskClass, keep: string): Entry | undefined {
    for (const entry of this.classes[kind].values()) if (entry.key !== keep) return entry;
    return undefined;
  }
}

/** A {@link BoundedTaskStore} with `options`. */
export function createBoundedTaskStore(options: BoundedTaskStoreOptions = {}): BoundedTaskStore {
  return new BoundedTaskStore(options);
}
