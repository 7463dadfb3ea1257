/**
 * The router: one index per subscription kind, and the one place a new kind plugs in (`kindOf` and the
 * constructor). Subscribing puts a subscription in its session and in its kind's index; routing gives an
 * accepted message to every kind in turn.
 */
import type { Message } from '../message.js';
import type { OutboundMessage } from '../session/outbound-message.js';
import type { Session } from '../session/session.js';
import { Subscription, type Subscriber, type SubscriptionKindName } from '../session/subscription.js';
import type { SubscriptionRequest } from '../types.js';
import { PlainSubscriptions } from './plain-subscriptions.js';
import { SharedSubscriptions } from './shared-subscriptions.js';
import type { SubscriptionKind } from './subscription-kind.js';

/** The kind a subscription request makes: `$share/{group}/...` is shared, anything else plain. */
export function kindOf(request: Pick<SubscriptionRequest, 'shareName'>): SubscriptionKindName {
  return request.shareName === undefined ? 'plain' : 'shared';
}

export class Router {
  readonly #kinds: { readonly [K in SubscriptionKindName]: SubscriptionKind };
  /** The kinds in routing order. */
  readonly #order: readonly SubscriptionKind[];

  constructor() {
    const plain = new PlainSubscriptions();
    const shared = new SharedSubscriptions();
    this.#kinds = { plain, shared };
    this.#order = [plain, shared];
  }

  /** Subscriptions of every kind. */
  get size(): number {
    let size = 0;
    for (const kind of this.#order) size += kind.size;
    return size;
  }

  /** Whether a new subscription made by this request is sent the retained messages it matches. */
  receivesRetained(request: Pick<SubscriptionRequest, 'shareName'>): boolean {
    return this.#kinds[kindOf(request)].receivesRetained;
  }

  /** Add or replace a subscription; returns whether one with the same topic filter existed. */
  subscribe(session: Session, request: SubscriptionRequest): boolean {
    const existing = session.subscriptions.get(request.topicFilter);
    if (existing) {
      existing.update(request);
      return true;
    }
    const subscription = new Subscription(
      kindOf(request),
      session,
      request.topicFilter,
      request.filter,
      request.shareName,
      request.qos,
      request.noLocal,
      request.retainAsPublished,
      request.retainHandling,
      request.subscriptionIdentifier,
    );
    session.subscriptions.set(request.topicFilter, subscription);
    this.#kinds[subscription.kind].add(subscription);
    return false;
  }

  /** Remove a subscription by topic filter; returns whether it existed. */
  unsubscribe(session: Session, topicFilter: string): boolean {
    const subscription = session.subscriptions.get(topicFilter);
    if (!subscription) return false;
    session.subscriptions.delete(topicFilter);
    this.#kinds[subscription.kind].remove(subscription);
    return true;
  }

  /** Remove every subscription of a session (its end). */
  unsubscribeAll(session: Session): void {
    for (const subscription of session.subscriptions.values())
      this.#kinds[subscription.kind].remove(subscription);
    session.subscriptions.clear();
  }

  /** Give a message to every kind's matching subscriptions; returns how many subscriptions got it. */
  route(message: Message): number {
    let matched = 0;
    for (const kind of this.#order) matched += kind.route(message);
    return matched;
  }

  /**
   * Give messages a session could not take to other subscribers of the groups they came through; returns
   * those that found nobody.
   */
  redeliver(entries: readonly OutboundMessage[], from: Subscriber): OutboundMessage[] {
    const orphans: OutboundMessage[] = [];
    for (const entry of entries) {
      const kind = entry.group === undefined ? undefined : this.#kinds[entry.group.kind];
      if (kind?.redeliver === undefined) orphans.push(entry);
      else orphans.push(...kind.redeliver([entry], from));
    }
    return orphans;
  }

  clear(): void {
    for (const kind of this.#order) kind.clear();
  }
}
