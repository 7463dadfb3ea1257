// Correlated request/reply over one MQTT 5 connection: Response Topic + Correlation Data, an in-flight map,
// timeouts, abort, single replies and reply streams. Runtime-neutral.
import type {
  ConnackInfo,
  ConnectionDropInfo,
  MqttConnection,
  MqttMessage,
  MqttPublishProperties,
  MqttQoS,
  PublishResult,
} from './connection/types.js';
import { MqttAgentsError, abortError } from './errors.js';
import { createLogger } from './logger.js';
import type { Logger } from './logger.js';
import { correlationKey, mergePublishProperties, newCorrelationData } from './mqtt-properties.js';
import type { PublishProperties } from './mqtt-properties.js';

/** Why a reply on the reply topic matched no request. */
export type UnmatchedReplyReason =
  /** The reply carried no (or empty) Correlation Data. */
  | 'missing-correlation'
  /** Correlation Data that no request of this engine generated (recently). */
  | 'unknown-correlation'
  /** A reply for a request that already ended (answered, timed out, aborted, or the stream was left). */
  | 'late-reply';

/**
 * How replies of one stream are recognised as duplicates (QoS 1 redelivery):
 * - omitted: a reply whose payload is byte-identical to one of the last 64 replies of the same request;
 * - a function: replies with the same key are duplicates for the whole life of the request
 *   (`undefined` means "never a duplicate"), e.g. an A2A `(taskId, messageId)` or chunk sequence number;
 * - `false`: no duplicate suppression.
 */
export type ReplyDedupKey = ((reply: MqttMessage) => string | undefined) | false;

export interface RequestReplyOptions {
  connection: MqttConnection;
  /** Topic name (no wildcards) the engine subscribes to and sends as Response Topic. One engine per topic. */
  replyTopic: string;
  /** QoS of requests and of the reply subscription; default 1. */
  qos?: MqttQoS;
  /** Default time to wait for the first reply, in ms (A2A `reply_first_timeout_ms`); default 15 000. */
  timeoutMs?: number;
  /** Default longest gap between two stream replies, in ms (A2A `stream_idle_timeout_ms`); default 30 000. */
  idleTimeoutMs?: number;
  /**
   * Reject pending requests with `CONNECTION_CLOSED` as soon as the network connection drops, even when
   * MQTT.js will reconnect. Default false: pending requests wait across a reconnect (see `createRequestReply`).
   */
  rejectOnDisconnect?: boolean;
  /** Told about every reply that matches no request. Never thrown; also logged. */
  onUnmatched?: (reply: MqttMessage, reason: UnmatchedReplyReason) => void;
  logger?: Logger;
  /** Aborts the initial subscription. */
  signal?: AbortSignal;
}

export interface RequestOptions {
  /** QoS of the request publish; defaults to the engine's. */
  qos?: MqttQoS;
  /** Time to wait for the (first) reply, in ms; defaults to the engine's. `Infinity` disables it. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Extra PUBLISH properties (user properties, content type, message expiry, ...). */
  properties?: Omit<MqttPublishProperties, 'responseTopic' | 'correlationData'>;
  /** Advisory PUBACK outcome of the request publish, e.g. `noMatchingSubscribers` (never a failure). */
  onPublished?: (result: PublishResult) => void;
}

export interface StreamOptions extends RequestOptions {
  /** True for the reply that ends the stream; it is yielded, then the iteration ends. */
  isFinal: (reply: MqttMessage) => boolean;
  /** Longest gap between two replies once the first arrived, in ms; defaults to the engine's. */
  idleTimeoutMs?: number;
  dedupKey?: ReplyDedupKey;
}

/** The replies of one streamed request. Leaving the loop early (`break`, `return()`) ends the request. */
export interface ReplyStream extends AsyncIterableIterator<MqttMessage> {
  /** The Correlation Data this request was published with. */
  readonly correlationData: Uint8Array;
  return(): Promise<IteratorResult<MqttMessage>>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface RequestReply {
  readonly replyTopic: string;
  /** Requests and streams still waiting for replies. */
  readonly pendingCount: number;
  /** Publish one request and resolve with its first correlated reply (payload and properties). */
  request(topic: string, payload: Uint8Array | string, options?: RequestOptions): Promise<MqttMessage>;
  /**
   * Publish one request and iterate its replies until `isFinal` says a reply is the last one. The request
   * is published at once; replies are buffered until iterated. Throws `CLOSED` when the engine is closed.
   */
  stream(topic: string, payload: Uint8Array | string, options: StreamOptions): ReplyStream;
  /** Idempotent. Rejects every pending request with `CONNECTION_CLOSED` and unsubscribes the reply topic. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const PAYLOAD_DEDUP_WINDOW = 64;
const RECENTLY_SETTLED_LIMIT = 1024;
const UNSUBSCRIBE_ON_CLOSE_TIMEOUT_MS = 2_000;

function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < bytes.length; index++) {
    hash ^= bytes[index] as number;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.byteLength !== right.byteLength) return false;
  for (let index = 0; index < left.byteLength; index++) if (left[index] !== right[index]) return false;
  return true;
}

/** Remembers the replies of one request and tells whether a new one is a duplicate. */
export class ReplyDeduplicator {
  readonly #key: ReplyDedupKey | undefined;
  readonly #keys = new Set<string>();
  readonly #recent: Array<{ hash: number; payload: Uint8Array }> = [];

  constructor(key?: ReplyDedupKey) {
    this.#key = key;
  }

  /** Records the reply and returns true when it was seen before. */
  isDuplicate(reply: MqttMessage): boolean {
    if (this.#key === false) return false;
    if (this.#key) {
      const key = this.#key(reply);
      if (key === undefined) return false;
      if (this.#keys.has(key)) return true;
      this.#keys.add(key);
      return false;
    }
    const hash = fnv1a(reply.payload);
    for (const entry of this.#recent) {
      if (entry.hash === hash && sameBytes(entry.payload, reply.payload)) return true;
    }
    this.#recent.push({ hash, payload: reply.payload });
    if (this.#recent.length > PAYLOAD_DEDUP_WINDOW) this.#recent.shift();
    return false;
  }
}

interface ExchangeSettings {
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
class Exchange implements ReplyStream {
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

interface Gate {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
  settled: boolean;
}

function openGate(): Gate {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  promise.catch(() => {});
  const gate: Gate = {
    promise,
    settled: false,
    resolve: () => {
      gate.settled = true;
      resolve();
    },
    reject: (error) => {
      gate.settled = true;
      reject(error);
    },
  };
  return gate;
}

function closedGate(): Gate {
  const gate = openGate();
  gate.resolve();
  return gate;
}

class Engine implements RequestReply {
  readonly replyTopic: string;
  readonly #connection: MqttConnection;
  readonly #qos: MqttQoS;
  readonly #timeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #rejectOnDisconnect: boolean;
  readonly #onUnmatched: RequestReplyOptions['onUnmatched'];
  readonly #logger: Logger;
  readonly #inflight = new Map<string, Exchange>();
  readonly #settled = new Set<string>();
  readonly #cleanups: Array<() => void> = [];
  /** Requests wait here while the reply subscription is not known to be in place (after a drop). */
  #gate: Gate = closedGate();
  #generation = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: RequestReplyOptions) {
    this.replyTopic = options.replyTopic;
    this.#connection = options.connection;
    this.#qos = options.qos ?? 1;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#rejectOnDisconnect = options.rejectOnDisconnect ?? false;
    this.#onUnmatched = options.onUnmatched;
    this.#logger = createLogger('mqtt-agents:core', options.logger);
  }

  get pendingCount(): number {
    return this.#inflight.size;
  }

  async start(signal: AbortSignal | undefined): Promise<void> {
    const connection = this.#connection;
    this.#cleanups.push(connection.addMessageHandler(this.replyTopic, (reply) => this.#onReply(reply)));
    this.#cleanups.push(connection.on('connection-drop', (info) => this.#onDrop(info)));
    this.#cleanups.push(connection.on('connection-open', (connack) => this.#onOpen(connack)));
    this.#cleanups.push(
      connection.on('connection-close', () => {
        this.#closing ??= this.#shutdown(
          new MqttAgentsError('CONNECTION_CLOSED', 'the connection closed'),
          false,
        );
      }),
    );
    await connection.subscribe(this.replyTopic, { qos: this.#qos }, signal);
  }

  #onDrop(info: ConnectionDropInfo): void {
    this.#generation++;
    if (this.#gate.settled) this.#gate = openGate();
    if (this.#rejectOnDisconnect || !info.willReconnect) {
      this.#failAll(
        new MqttAgentsError('CONNECTION_CLOSED', 'the connection to the broker was lost', {
          cause: info.error,
          details: { willReconnect: info.willReconnect },
        }),
      );
    }
  }

  #onOpen(connack: ConnackInfo): void {
    const gate = this.#gate.settled ? (this.#gate = openGate()) : this.#gate;
    if (connack.sessionPresent) {
      gate.resolve();
      return;
    }
    // A fresh session has no subscriptions: subscribe again and hold new requests until SUBACK.
    const generation = this.#generation;
    this.#connection.subscribe(this.replyTopic, { qos: this.#qos }).then(
      () => {
        if (generation === this.#generation) gate.resolve();
      },
      (error: unknown) => {
        if (generation !== this.#generation || this.#closed) return;
        this.#logger.error(`could not subscribe to the reply topic '${this.replyTopic}' again`, error);
        gate.reject(error);
      },
    );
  }

  #onReply(reply: MqttMessage): void {
    const correlation = reply.properties.correlationData;
    if (!(correlation instanceof Uint8Array) || correlation.byteLength === 0) {
      this.#unmatched(reply, 'missing-correlation');
      return;
    }
    const key = correlationKey(correlation);
    const exchange = this.#inflight.get(key);
    if (exchange) {
      exchange.deliver(reply);
      return;
    }
    this.#unmatched(reply, this.#settled.has(key) ? 'late-reply' : 'unknown-correlation');
  }

  #unmatched(reply: MqttMessage, reason: UnmatchedReplyReason): void {
    const text = `ignored a reply on '${reply.topic}': ${reason.replace('-', ' ')}`;
    if (reason === 'late-reply') this.#logger.debug(text);
    else this.#logger.warn(text);
    if (!this.#onUnmatched) return;
    try {
      this.#onUnmatched(reply, reason);
    } catch (error) {
      this.#logger.error('onUnmatched threw', error);
    }
  }

  #failAll(error: MqttAgentsError): void {
    for (const exchange of [...this.#inflight.values()]) exchange.fail(error);
  }

  #remember(key: string): void {
    this.#settled.add(key);
    if (this.#settled.size > RECENTLY_SETTLED_LIMIT) {
      const oldest = this.#settled.values().next().value;
      if (oldest !== undefined) this.#settled.delete(oldest);
    }
  }

  #open(topic: string, payload: Uint8Array | string, options: StreamOptions, what: string): Exchange {
    if (this.#closed) {
      throw new MqttAgentsError('CLOSED', `cannot send ${what}: the request/reply engine is closed`);
    }
    const correlationData = newCorrelationData();
    const key = correlationKey(correlationData);
    const exchange = new Exchange(key, correlationData, {
      topic,
      timeoutMs: options.timeoutMs ?? this.#timeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? this.#idleTimeoutMs,
      isFinal: options.isFinal,
      dedup: new ReplyDeduplicator(options.dedupKey),
      signal: options.signal,
      logger: this.#logger,
      onEnd: (ended) => {
        if (this.#inflight.get(ended.key) === ended) this.#inflight.delete(ended.key);
        this.#remember(ended.key);
      },
    });
    this.#inflight.set(key, exchange);
    exchange.start();
    if (!exchange.ended) void this.#send(exchange, topic, payload, options);
    return exchange;
  }

  async #send(
    exchange: Exchange,
    topic: string,
    payload: Uint8Array | string,
    options: RequestOptions,
  ): Promise<void> {
    try {
      await this.#gate.promise;
      if (exchange.ended) return;
      const properties = mergePublishProperties(options.properties as PublishProperties | undefined, {
        responseTopic: this.replyTopic,
        correlationData: exchange.correlationData,
      });
      const result = await this.#connection.publish(topic, payload, {
        qos: options.qos ?? this.#qos,
        properties,
      });
      if (options.onPublished) {
        try {
          options.onPublished(result);
        } catch (error) {
          this.#logger.error('onPublished threw', error);
        }
      }
    } catch (error) {
      if (exchange.ended) {
        this.#logger.debug(`request publish to '${topic}' failed after the request ended`, error);
        return;
      }
      exchange.fail(
        MqttAgentsError.isInstance(error)
          ? error
          : new MqttAgentsError('PUBLISH_FAILED', `publish to '${topic}' failed`, { cause: error }),
      );
    }
  }

  async request(
    topic: string,
    payload: Uint8Array | string,
    options: RequestOptions = {},
  ): Promise<MqttMessage> {
    const exchange = this.#open(
      topic,
      payload,
      { ...options, isFinal: () => true, dedupKey: false },
      'a request',
    );
    const first = await exchange.next();
    if (first.done)
      throw new MqttAgentsError('CONNECTION_CLOSED', `the request to '${topic}' ended without a reply`);
    return first.value;
  }

  stream(topic: string, payload: Uint8Array | string, options: StreamOptions): ReplyStream {
    if (typeof options?.isFinal !== 'function') {
      throw new TypeError('stream() needs an isFinal(reply) function that recognises the last reply');
    }
    return this.#open(topic, payload, options, 'a streaming request');
  }

  close(): Promise<void> {
    return (this.#closing ??= this.#shutdown(
      new MqttAgentsError('CONNECTION_CLOSED', 'the request/reply engine closed'),
      true,
    ));
  }

  async #shutdown(error: MqttAgentsError, unsubscribe: boolean): Promise<void> {
    this.#closed = true;
    this.#generation++;
    this.#failAll(error);
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    if (!this.#gate.settled) this.#gate.reject(error);
    if (!unsubscribe || this.#connection.closed) return;
    try {
      await this.#connection.unsubscribe(
        this.replyTopic,
        AbortSignal.timeout(UNSUBSCRIBE_ON_CLOSE_TIMEOUT_MS),
      );
    } catch (cause) {
      this.#logger.debug(`could not unsubscribe from '${this.replyTopic}'`, cause);
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function validateReplyTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic === '') {
    throw new MqttAgentsError('INVALID_TOPIC', 'the reply topic must be a non-empty string');
  }
  if (topic.includes('+') || topic.includes('#') || topic.startsWith('$share/')) {
    throw new MqttAgentsError(
      'INVALID_TOPIC',
      `invalid reply topic '${topic}': it must be a topic name, not a filter`,
      {
        details: { topic },
      },
    );
  }
}

/**
 * Start correlated request/reply on a connection: subscribes to `replyTopic` and waits for SUBACK, so the
 * subscription is in place before the first request.
 *
 * Correlation Data is a fresh nanoid per request, sent as UTF-8 text; reply correlation is compared as
 * opaque bytes. Replies with missing or unknown correlation are logged and passed to `onUnmatched`.
 *
 * Connection loss: pending requests survive a transient drop while MQTT.js reconnects (their timeouts keep
 * running). New requests wait until the reply subscription is known to be back (the resumed session has it,
 * or the engine re-subscribes on a fresh session and waits for SUBACK). Replies the broker dropped while we
 * were away surface as `REQUEST_TIMEOUT`, which callers treat as retry-eligible, as the A2A profile's
 * retry rules expect. With `rejectOnDisconnect`, or when no reconnect will happen, every pending request
 * is rejected with `CONNECTION_CLOSED` at once; closing the engine or the connection does the same.
 */
export async function createRequestReply(options: RequestReplyOptions): Promise<RequestReply> {
  validateReplyTopic(options.replyTopic);
  if (options.connection.closed) {
    throw new MqttAgentsError('CLOSED', 'cannot start request/reply: the connection is closed');
  }
  const engine = new Engine(options);
  try {
    await engine.start(options.signal);
  } catch (error) {
    await engine.close();
    throw error;
  }
  return engine;
}
