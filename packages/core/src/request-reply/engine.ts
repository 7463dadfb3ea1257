// The request/reply engine: publishes requests with Response Topic and Correlation Data, matches replies to
// the in-flight table, and ends everything on close.
import type { MqttConnection, MqttMessage, MqttQoS } from '../connection/types.js';
import { MqttAgentsError } from '../errors.js';
import { createLogger } from '../logger.js';
import type { Logger } from '../logger.js';
import { correlationKey, mergePublishProperties, newCorrelationData } from '../mqtt-properties.js';
import type { PublishProperties } from '../mqtt-properties.js';
import { Exchange } from './exchange.js';
import { InflightTable } from './inflight-table.js';
import { ReplyDeduplicator } from './reply-deduplicator.js';
import { ReplySubscription } from './reply-subscription.js';
import type {
  ReplyStream,
  RequestOptions,
  RequestReply,
  RequestReplyOptions,
  StreamOptions,
  UnmatchedReplyReason,
} from './types.js';

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export class Engine implements RequestReply {
  readonly replyTopic: string;
  readonly #connection: MqttConnection;
  readonly #qos: MqttQoS;
  readonly #timeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #onUnmatched: RequestReplyOptions['onUnmatched'];
  readonly #logger: Logger;
  readonly #inflight = new InflightTable();
  readonly #subscription: ReplySubscription;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: RequestReplyOptions) {
    this.replyTopic = options.replyTopic;
    this.#connection = options.connection;
    this.#qos = options.qos ?? 1;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#onUnmatched = options.onUnmatched;
    this.#logger = createLogger('mqtt-agents:core', options.logger);
    this.#subscription = new ReplySubscription({
      connection: options.connection,
      replyTopic: options.replyTopic,
      qos: this.#qos,
      logger: this.#logger,
      rejectOnDisconnect: options.rejectOnDisconnect ?? false,
      onReply: (reply) => this.#onReply(reply),
      onLost: (error) => this.#failAll(error),
      onConnectionClosed: () => {
        this.#closing ??= this.#shutdown(
          new MqttAgentsError('CONNECTION_CLOSED', 'the connection closed'),
          false,
        );
      },
    });
  }

  get pendingCount(): number {
    return this.#inflight.size;
  }

  start(signal: AbortSignal | undefined): Promise<void> {
    return this.#subscription.start(signal);
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
    this.#unmatched(reply, this.#inflight.unmatchedReason(key));
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
    this.#inflight.failAll((exchange) => exchange.fail(error));
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
      onEnd: (ended) => this.#inflight.end(ended),
    });
    this.#inflight.add(exchange);
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
      await this.#subscription.ready();
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
    this.#failAll(error);
    await this.#subscription.close(error, unsubscribe);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
