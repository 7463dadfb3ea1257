// The public types of correlated request/reply: engine and request options, reply streams, unmatched replies.
import type { Logger } from '../logger.js';
import type {
  MqttConnection,
  MqttMessage,
  MqttPublishProperties,
  MqttQoS,
  PublishResult,
} from '../connection/types.js';

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

/** How `createRequestReply` builds a request/reply engine. */
export interface RequestReplyOptions {
  /** The connection requests go out and replies come in on; the engine does not close it. */
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
  /** Where the engine logs; default: silent unless `DEBUG` enables `mqtt-agents:core`. */
  logger?: Logger;
  /** Aborts the initial subscription. */
  signal?: AbortSignal;
}

/** Per-request settings of `RequestReply.request`; omitted ones come from the engine. */
export interface RequestOptions {
  /** QoS of the request publish; defaults to the engine's. */
  qos?: MqttQoS;
  /** Time to wait for the (first) reply, in ms; defaults to the engine's. `Infinity` disables it. */
  timeoutMs?: number;
  /** Aborts the request: the wait ends with `ABORTED` and later replies count as late. */
  signal?: AbortSignal;
  /** Extra PUBLISH properties (user properties, content type, message expiry, ...). */
  properties?: Omit<MqttPublishProperties, 'responseTopic' | 'correlationData'>;
  /** Advisory PUBACK outcome of the request publish, e.g. `noMatchingSubscribers` (never a failure). */
  onPublished?: (result: PublishResult) => void;
}

/** Per-stream settings of `RequestReply.stream`: the request options plus how the stream ends. */
export interface StreamOptions extends RequestOptions {
  /** True for the reply that ends the stream; it is yielded, then the iteration ends. */
  isFinal: (reply: MqttMessage) => boolean;
  /** Longest gap between two replies once the first arrived, in ms; defaults to the engine's. */
  idleTimeoutMs?: number;
  /** How duplicate replies are recognised and dropped; see {@link ReplyDedupKey}. */
  dedupKey?: ReplyDedupKey;
}

/** The replies of one streamed request. Leaving the loop early (`break`, `return()`) ends the request. */
export interface ReplyStream extends AsyncIterableIterator<MqttMessage> {
  /** The Correlation Data this request was published with. */
  readonly correlationData: Uint8Array;
  /** End the request: stop waiting, drop buffered replies and finish the iteration. */
  return(): Promise<IteratorResult<MqttMessage>>;
  /** Same as `return()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A correlated request/reply engine on one reply topic: it publishes requests with Response Topic and
 * Correlation Data and routes each reply to the request that is waiting for it.
 */
export interface RequestReply {
  /** The topic this engine subscribes to and sends as Response Topic. */
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
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
