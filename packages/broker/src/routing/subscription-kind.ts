/**
 * The seam every subscription kind plugs into: an index of the subscriptions of that kind that the router
 * adds to, removes from, and routes each accepted message through.
 */
import type { Message } from '../message.js';
import type { OutboundMessage } from '../session/outbound-message.js';
import type { Subscriber, Subscription, SubscriptionKindName } from '../session/subscription.js';

export interface SubscriptionKind {
  readonly name: SubscriptionKindName;
  /** Subscriptions of this kind. */
  readonly size: number;
  /** Whether a new subscription of this kind is sent the retained messages it matches (not shared ones). */
  readonly receivesRetained: boolean;
  add(subscription: Subscription): void;
  remove(subscription: Subscription): void;
  /** Give a message to the subscriptions of this kind that match its topic; returns how many got it. */
  route(message: Message): number;
  /**
   * Give messages a subscriber could not take (it lost its connection or its session ended) to another
   * subscriber of their group; returns those nobody else could take. Only kinds that dispatch through
   * groups have it.
   */
  redeliver?(entries: readonly OutboundMessage[], from: Subscriber): OutboundMessage[];
  clear(): void;
}
