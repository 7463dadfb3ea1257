// Stage: dedup. SendMessage/SendStreamingMessage are remembered by (taskId, messageId) in a bounded duplicate
// window: a retry or replay waits for (or reads) the first attempt's answer, and the task never runs twice.
import { printable } from '@mqtt-agents/core';
import type { JsonRpcPayload, Logger } from '@mqtt-agents/core';
import { bindingErrorObject } from '../binding-errors.js';
import type { JsonRpcErrorObject } from '../binding-errors.js';
import { estimateBytes } from '../bounded-task-store.js';
import { DuplicateWindow } from '../duplicate-window.js';
import type { WindowRefusal } from '../duplicate-window.js';
import { DEFAULT_DUPLICATE_WINDOW } from './api.js';
import type { ResponderLimits } from './api.js';
import { SEND_METHODS, UUID_V4, isPlainObject } from './rules.js';

export type SendOutcome =
  | { kind: 'error'; error: JsonRpcErrorObject }
  | { kind: 'message'; result: unknown }
  | { kind: 'task'; taskId: string };

/** What the agent remembers of a SendMessage/SendStreamingMessage, keyed by (taskId, messageId). */
export interface SendRecord {
  /** Who sent it first (see `requesterKey`): a repeat from anyone else is refused. */
  readonly requester: string;
  outcome: SendOutcome | undefined;
  /** The request reached the executor (or the task store already knew the message). */
  started: boolean;
  /** Answered, and settled in (or removed from) the window. */
  finished: boolean;
  /** Retries waiting for this record's answer right now. */
  attached: number;
  /** Settles when the first answer (or stream item) exists. */
  readonly firstAnswer: Promise<void>;
  /** Settles when the original request is fully answered. */
  readonly done: Promise<void>;
  resolveFirstAnswer(): void;
  resolveDone(): void;
}

function createSendRecord(requester: string): SendRecord {
  let resolveFirstAnswer!: () => void;
  let resolveDone!: () => void;
  const firstAnswer = new Promise<void>((resolve) => (resolveFirstAnswer = resolve));
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  return {
    requester,
    outcome: undefined,
    started: false,
    finished: false,
    attached: 0,
    firstAnswer,
    done,
    resolveFirstAnswer,
    resolveDone: () => {
      resolveFirstAnswer();
      resolveDone();
    },
  };
}

/** A send matched against the duplicate window. */
export interface PreparedSend {
  readonly key: string;
  readonly record: SendRecord;
  /** True for a retry of a request the agent already holds; false for the first attempt. */
  readonly retry: boolean;
}

/** The duplicate key of a send: `taskId \n messageId`. */
export function sendKey(taskId: string, messageId: string): string {
  return `${taskId}\n${messageId}`;
}

/** The duplicate key of a decoded SendMessage/SendStreamingMessage with a valid (taskId, messageId). */
export function peekSendKey(decoded: JsonRpcPayload): string | undefined {
  if (!decoded.ok || decoded.batch) return undefined;
  const classified = decoded.items[0];
  if (classified?.kind !== 'request' || !SEND_METHODS.has(classified.message.method)) return undefined;
  const params = classified.message.params;
  const a2aMessage = isPlainObject(params) ? params.message : undefined;
  if (!isPlainObject(a2aMessage)) return undefined;
  const { taskId, messageId } = a2aMessage;
  if (
    typeof messageId !== 'string' ||
    messageId === '' ||
    typeof taskId !== 'string' ||
    !UUID_V4.test(taskId)
  )
    return undefined;
  return sendKey(taskId, messageId);
}

/** Retries of one request in flight that may wait for its answer at once; more are refused. */
export const MAX_ATTACHED_RETRIES = 8;

export type MatchOutcome =
  | { kind: 'new'; send: PreparedSend }
  | { kind: 'retry'; send: PreparedSend }
  | { kind: 'refused'; error: JsonRpcErrorObject };

export class SendDedup {
  readonly #window: DuplicateWindow<SendRecord>;
  readonly #logger: Logger;

  constructor(limits: ResponderLimits, logger: Logger) {
    this.#logger = logger;
    this.#window = new DuplicateWindow({
      windowMs: limits.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW.duplicateWindowMs,
      maxEntriesPerRequester:
        limits.maxWindowEntriesPerRequester ?? DEFAULT_DUPLICATE_WINDOW.maxWindowEntriesPerRequester,
      maxBytesPerRequester:
        limits.maxWindowBytesPerRequester ?? DEFAULT_DUPLICATE_WINDOW.maxWindowBytesPerRequester,
      maxEntries: limits.maxWindowEntries ?? DEFAULT_DUPLICATE_WINDOW.maxWindowEntries,
      maxBytes: limits.maxWindowBytes ?? DEFAULT_DUPLICATE_WINDOW.maxWindowBytes,
    });
  }

  /** The record of a send already held, if any. */
  known(key: string): SendRecord | undefined {
    return this.#window.get(key)?.value;
  }

  /** Match `key`: a retry of a held send, else a new record (unless the requester's window is full). */
  match(key: string, requester: string): MatchOutcome {
    const known = this.known(key);
    if (known) return { kind: 'retry', send: { key, record: known, retry: true } };
    const record = createSendRecord(requester);
    const added = this.#window.add(key, requester, record);
    if (!added.ok) return { kind: 'refused', error: this.#refusal(requester, added.refusal) };
    return { kind: 'new', send: { key, record, retry: false } };
  }

  /**
   * A send is answered: a request that ran stays in the window for `duplicateWindowMs` with its answer;
   * one that never ran is forgotten at once (a retry may run it), and retries waiting for it get its error.
   */
  finish(key: string, record: SendRecord): void {
    if (record.finished) return;
    record.finished = true;
    if (record.started) {
      record.outcome ??= { kind: 'task', taskId: key.slice(0, key.indexOf('\n')) };
      const kept = record.outcome.kind === 'task' ? 0 : estimateBytes(record.outcome);
      this.#window.settle(key, kept);
    } else {
      record.outcome ??= {
        kind: 'error',
        error: bindingErrorObject('responder_unavailable', 'the request was not run, send it again'),
      };
      this.#window.delete(key);
    }
    record.resolveDone();
  }

  /** The retryable refusal of a requester whose duplicate window (or the whole window) is full. */
  #refusal(requester: string, refusal: WindowRefusal): JsonRpcErrorObject {
    const whose = refusal.startsWith('requester')
      ? `requester '${printable(requester, 120)}'`
      : 'all requesters';
    this.#logger.debug(`refused a request: the duplicate window of ${whose} is full (${refusal})`);
    return bindingErrorObject(
      'responder_unavailable',
      `too many recent requests from ${refusal.startsWith('requester') ? 'this requester' : 'all requesters'}, try again later`,
    );
  }
}
