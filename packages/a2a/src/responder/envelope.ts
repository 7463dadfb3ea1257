// Stage: envelope checks. What the MQTT envelope of a request must hold before anything reads its payload:
// not retained, a Response Topic the agent answers on, Correlation Data, not a QoS 1 redelivery, not too big.
import {
  JsonRpcErrorCode,
  correlationKey,
  jsonRpcError,
  jsonRpcErrorResponse,
  matchTopicFilter,
  parseA2aTopic,
  printable,
  validateTopicName,
} from '@mqtt-agents/core';
import type { Logger, MqttMessage } from '@mqtt-agents/core';
import { isProfileReplyTopic } from '../caller-identity.js';
import { payloadFingerprint } from '../payload-fingerprint.js';
import { RecentMap } from '../recent-map.js';
import type { ReplyTarget } from './context.js';
import type { ReplyWriter } from './reply-writer.js';

export interface EnvelopeOptions {
  readonly logger: Logger;
  readonly writer: ReplyWriter;
  /** Response Topics outside the profile's reply topics that are answered too. */
  readonly allowedReplyTopics: readonly string[];
  readonly maxRequestBytes: number;
  /** How long a delivery is remembered by its correlation, in ms. */
  readonly windowMs: number;
}

export class EnvelopeCheck {
  readonly #options: EnvelopeOptions;
  readonly #deliveries: RecentMap<string, string>;

  constructor(options: EnvelopeOptions) {
    this.#options = options;
    // Best effort (QoS 1 redelivery of one publish): a flood may push entries out, and then the duplicate
    // window still keeps the task from running twice.
    this.#deliveries = new RecentMap({ ttlMs: options.windowMs, maxEntries: 10_000 });
  }

  /** Where to answer `message`, or undefined when it is dropped (or already answered with an error). */
  async check(message: MqttMessage): Promise<ReplyTarget | undefined> {
    const { logger, writer, maxRequestBytes } = this.#options;
    const properties = message.properties;
    const topic = printable(message.topic);
    if (message.retain) {
      // Requests are never retained: a retained one would be redelivered, and run, at every resubscribe.
      logger.warn(
        `ignored a retained request on '${topic}': requests are never retained, it would run again at every resubscribe`,
      );
      return undefined;
    }
    const pooled = parseA2aTopic(message.topic)?.kind === 'pool-request';
    const responseTopic = properties.responseTopic;
    if (responseTopic === undefined || responseTopic === '') {
      logger.warn(`dropped a request on '${topic}': it has no Response Topic, so no reply is possible`);
      return undefined;
    }
    const topicCheck = validateTopicName(responseTopic);
    if (!topicCheck.ok) {
      logger.warn(`dropped a request on '${topic}': invalid Response Topic: ${topicCheck.reason}`);
      return undefined;
    }
    if (!this.#answersOn(responseTopic)) {
      logger.warn(
        `dropped a request on '${topic}': its Response Topic '${printable(responseTopic)}' is not a reply topic of the profile (reply/{org}/{unit}/{agent}/{suffix}) nor one of allowedReplyTopics`,
      );
      return undefined;
    }
    const correlationData = properties.correlationData;
    if (correlationData === undefined || correlationData.length === 0) {
      await writer.replyError(
        { reply: { topic: responseTopic, correlationData: undefined, pooled } },
        null,
        'transport_protocol_error',
        'request has no Correlation Data',
      );
      return undefined;
    }
    const target: ReplyTarget = Object.freeze({ topic: responseTopic, correlationData, pooled });

    // A QoS 1 redelivery carries the same correlation and payload: the first copy is already being answered.
    const deliveryKey = `${responseTopic}\n${correlationKey(correlationData)}`;
    const print = payloadFingerprint(message.payload);
    if (this.#deliveries.get(deliveryKey) === print) {
      logger.debug(`ignored a duplicate delivery on '${topic}' (same correlation and payload)`);
      return undefined;
    }
    this.#deliveries.set(deliveryKey, print);

    if (message.payload.length > maxRequestBytes) {
      await writer.reply(
        { reply: target },
        jsonRpcErrorResponse(
          null,
          jsonRpcError(
            JsonRpcErrorCode.InvalidRequest,
            `request of ${message.payload.length} bytes exceeds the limit of ${maxRequestBytes} bytes`,
          ),
        ),
      );
      return undefined;
    }
    return target;
  }

  /** Profile reply topics, and those `allowedReplyTopics` opens. */
  #answersOn(responseTopic: string): boolean {
    if (isProfileReplyTopic(responseTopic)) return true;
    return this.#options.allowedReplyTopics.some((filter) => matchTopicFilter(filter, responseTopic));
  }
}
