/**
 * Plain subscriptions: every matching session gets one copy of a message. Overlapping subscriptions of
 * one session are merged (highest QoS, all subscription identifiers, retain if any asks for it).
 */
import type { Message } from '../message.js';
import type { Subscriber, Subscription } from '../session/subscription.js';
import type { SubscriptionKind } from './subscription-kind.js';
import { SubscriptionIndex } from './subscription-index.js';

export class PlainSubscriptions implements SubscriptionKind {
  readonly name = 'plain' as const;
  readonly receivesRetained = true;
  readonly #index = new SubscriptionIndex<Subscription>();
  /** Routing pass counter: tells a session's scratch state from the one of an earlier message. */
  #epoch = 0;

  get size(): number {
    return this.#index.size;
  }

  add(subscription: Subscription): void {
    this.#index.add(subscription.filter, subscription);
  }

  remove(subscription: Subscription): void {
    this.#index.remove(subscription.filter, subscription);
  }

  route(message: Message): number {
    const lists = this.#index.match(message.topic, []);
    if (lists.length === 0) return 0;
    const epoch = ++this.#epoch;
    const publisher = message.publisherId;
    const messageQos = message.qos;
    const targets: Subscriber[] = [];
    for (const list of lists) {
      for (const subscription of list) {
        const session = subscription.session;
        if (subscription.noLocal && session.clientId === publisher) continue;
        const qos = subscription.qos < messageQos ? subscription.qos : messageQos;
        const retain = subscription.retainAsPublished && message.retain;
        const id = subscription.subscriptionIdentifier;
        const scratch = session.scratch;
        if (scratch.epoch !== epoch) {
          scratch.epoch = epoch;
          scratch.qos = qos;
          scratch.retain = retain;
          scratch.subscriptionIds = id === undefined ? undefined : [id];
          targets.push(session);
        } else {
          if (qos > scratch.qos) scratch.qos = qos;
          if (retain) scratch.retain = true;
          if (id !== undefined) {
            if (scratch.subscriptionIds === undefined) scratch.subscriptionIds = [id];
            else if (!scratch.subscriptionIds.includes(id)) scratch.subscriptionIds.push(id);
          }
        }
      }
    }
    for (const session of targets) {
      const scratch = session.scratch;
      session.deliver(message, scratch.qos, scratch.retain, scratch.subscriptionIds, undefined);
    }
    return targets.length;
  }

  clear(): void {
    // Subscriptions leave with their sessions; nothing else is held here.
  }
}
