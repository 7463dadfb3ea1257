// One request in flight as its caller sees it: a reply queue, the first-reply and idle timers, abort wiring,
// and the async iterator (`ReplyStream`) over its replies.
import type { MqttMessage } from '../connection/types.js';
import { MqttAgentsError, abortError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ReplyDeduplicator } from './reply-deduplicator.js';
import type { ReplyStream } from './types.js';

export interface ExchangeSettings {
  readonly topic: string;
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly isFinal: (reply: MqttMessage) => boolean;
  readonly dedup: ReplyDeduplicator;
  readonly signal: AbortSignal | undefined;
  readonly logger: Logger;
  /** Called once when the exchange stops accepting replies. */
  readonly onEnd: (exchange: Exchange) => void;
}

interface Waiter {
  resolve(result: IteratorResult<MqttMessage>): void;
  reject(error: unknown): void;
}

/** One request in flight: its reply queue, timers and abort wiring, seen by the caller as a `ReplyStream`. */
export class Exchange implements ReplyStream {
  readonly key: string;
  readonly correlationData: Uint8Array;
  readonly #settings: ExchangeSettings;
  readonly #queue: MqttMessage[] = [];
  readonly #waiters: Waiter[] = [];
  #ended = false;
  #error: MqttAgentsError | undefined;
  #errorDelivered = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(key: string, correlationData: Uint8Array, settings: ExchangeSettings) {
    this.key = key;
    this.correlationData = correlationData;
    this.#settings = settings;
  }

  get ended(): boolean {
    return this.#ended;
  }

  start(): void {
    const { signal } = this.#settings;
    if (signal?.aborted) {
      this.fail(abortError(signal, `request to '${this.#settings.topic}'`));
      return;
    }
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#arm(this.#settings.timeoutMs, 'first-reply');
  }

  readonly #onAbort = (): void => {
    this.fail(abortError(this.#settings.signal as AbortSignal, `request to '${this.#settings.topic}'`));
  };

  #arm(ms: number, phase: 'first-reply' | 'idle'): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!Number.isFinite(ms)) return;
    const { topic } = this.#settings;
    this.#timer = setTimeout(() => {
      const message =
        phase === 'first-reply'
          ? `no reply to the request on '${topic}' within ${ms} ms`
          : `reply stream for the request on '${topic}' was idle for ${ms} ms`;
      this.fail(
        new MqttAgentsError('REQUEST_TIMEOUT', message, { details: { topic, timeoutMs: ms, phase } }),
        true,
      );
    }, ms);
  }

  /** A correlated reply arrived. */
  deliver(reply: MqttMessage): void {
    if (this.#ended) return;
    if (this.#settings.dedup.isDuplicate(reply)) {
      this.#settings.logger.debug(`dropped a duplicate reply on '${reply.topic}'`);
      return;
    }
    let final = false;
    try {
      final = this.#settings.isFinal(reply) === true;
    } catch (error) {
      this.#settings.logger.error('isFinal threw; the reply is treated as not final', error);
    }
    this.#queue.push(reply);
    if (final) this.#end();
    else this.#arm(this.#settings.idleTimeoutMs, 'idle');
    this.#pump();
  }

  /** End with an error; with `drainFirst`, replies already received are yielded before it. */
  fail(error: MqttAgentsError, drainFirst = false): void {
    if (this.#ended) return;
    this.#error = error;
    if (!drainFirst) this.#queue.length = 0;
    this.#end();
    this.#pump();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#settings.signal?.removeEventListener('abort', this.#onAbort);
    this.#settings.onEnd(this);
  }

  #take(): { result: IteratorResult<MqttMessage> } | { error: MqttAgentsError } | undefined {
    const next = this.#queue.shift();
    if (next !== undefined) return { result: { value: next, done: false } };
    if (this.#error && !this.#errorDelivered) {
      this.#errorDelivered = true;
      return { error: this.#error };
    }
    if (this.#ended) return { result: { value: undefined, done: true } };
    return undefined;
  }

  #pump(): void {
    while (this.#waiters.length > 0) {
      const taken = this.#take();
      if (!taken) return;
      const waiter = this.#waiters.shift() as Waiter;
      if ('error' in taken) waiter.reject(taken.error);
      else waiter.resolve(taken.result);
    }
  }

  next(): Promise<IteratorResult<MqttMessage>> {
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#pump();
    });
  }

  async return(): Promise<IteratorResult<MqttMessage>> {
    this.#queue.length = 0;
    this.#errorDelivered = true;
    this.#end();
    this.#pump();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}
