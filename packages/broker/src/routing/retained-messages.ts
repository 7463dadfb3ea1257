/**
 * Retained messages within the broker's retained limits: updated by messages with RETAIN, sent to new
 * subscriptions as their Retain Handling says.
 */
import { shown } from '../logging.js';
import type { Message } from '../message.js';
import type { Subscriber } from '../session/subscription.js';
import type { BrokerLogger, ClientInfo, SubscriptionRequest } from '../types.js';
import { RetainedStore } from './retained-store.js';

export interface RetainedLimits {
  readonly maximumRetainedMessages: number;
  readonly maximumRetainedBytes: number;
}

export class RetainedMessages {
  readonly #store = new RetainedStore<Message>((message) => message.byteSize());
  readonly #limits: RetainedLimits;
  readonly #logger: BrokerLogger;

  constructor(limits: RetainedLimits, logger: BrokerLogger) {
    this.#limits = limits;
    this.#logger = logger;
  }

  get size(): number {
    return this.#store.size;
  }

  get(topic: string): Message | undefined {
    return this.#store.get(topic);
  }

  /**
   * Update the retained message of a RETAIN message's topic (an empty payload removes it). False when the
   * retained limits refuse it: then nothing changed, and the refusal is logged.
   */
  accept(message: Message, client: ClientInfo | undefined): boolean {
    if (message.payload.length === 0) {
      this.#store.delete(message.topic);
      return true;
    }
    const retained = message.toRetained();
    if (!this.#fits(message.topic, retained)) {
      this.#logger.warn(
        `mqtt-agents:broker: refused a retained message on '${shown(message.topic)}' from '${shown(client?.id ?? '(broker)')}': retained messages are at maximumRetainedMessages or maximumRetainedBytes`,
      );
      return false;
    }
    this.#store.set(message.topic, retained);
    return true;
  }

  /** Whether a retained message fits the retained limits (replacing the topic's current one). */
  #fits(topic: string, message: Message): boolean {
    const store = this.#store;
    const current = store.bytesOf(topic);
    const count = store.size + (current === undefined ? 1 : 0);
    const bytes = store.bytes - (current ?? 0) + message.byteSize();
    return count <= this.#limits.maximumRetainedMessages && bytes <= this.#limits.maximumRetainedBytes;
  }

  /** Send the retained messages matching a new subscription (RETAIN set, QoS capped by the subscription). */
  sendTo(session: Subscriber, request: SubscriptionRequest): void {
    const messages = this.#store.match(request.filter);
    if (messages.length === 0) return;
    const ids = request.subscriptionIdentifier === undefined ? undefined : [request.subscriptionIdentifier];
    for (const message of messages) {
      const qos = message.qos < request.qos ? message.qos : request.qos;
      session.deliver(message, qos, true, ids, undefined);
    }
  }

  clear(): void {
    this.#store.clear();
  }
}
