/**
 * Shared subscriptions (`$share/{name}/{filter}`): each group gets one copy of a matching message, given
 * to one member in turn (round robin), preferring members that are connected.
 */
import type { Message } from '../message.js';
import type { OutboundMessage } from '../session/outbound-message.js';
import type { DeliveryGroup, Subscriber, Subscription } from '../session/subscription.js';
import type { SubscriptionKind } from './subscription-kind.js';
import { SubscriptionIndex } from './subscription-index.js';

export class SharedGroup implements DeliveryGroup {
  readonly kind = 'shared' as const;
  readonly members: Subscription[] = [];
  private cursor = 0;

  constructor(
    readonly shareName: string,
    readonly filter: string,
  ) {}

  /**
   * The member to give the next message to: the next connected one in round-robin order, else the next
   * one whose session is offline (the message waits in its session). `exclude` is skipped.
   */
  pick(exclude?: Subscriber): Subscription | undefined {
    const members = this.members;
    const count = members.length;
    if (count === 0) return undefined;
    let fallback: Subscription | undefined;
    for (let step = 0; step < count; step++) {
      const index = (this.cursor + step) % count;
      const member = members[index] as Subscription;
      if (member.session === exclude) continue;
      if (member.session.online) {
        this.cursor = (index + 1) % count;
        return member;
      }
      fallback ??= member;
    }
    if (fallback) this.cursor = (members.indexOf(fallback) + 1) % count;
    return fallback;
  }
}

export class SharedSubscriptions implements SubscriptionKind {
  readonly name = 'shared' as const;
  /** MQTT 5 (4.8.2): retained messages are not sent for a shared subscription. */
  readonly receivesRetained = false;
  private index = new SubscriptionIndex<SharedGroup>();
  private readonly groups = new Map<string, SharedGroup>();
  private memberCount = 0;

  /** Number of shared subscriptions (members across all groups). */
  get size(): number {
    return this.memberCount;
  }

  add(subscription: Subscription): void {
    const shareName = subscription.shareName as string;
    const key = `${shareName}/${subscription.filter}`;
    let group = this.groups.get(key);
    if (!group) {
      group = new SharedGroup(shareName, subscription.filter);
      this.groups.set(key, group);
      this.index.add(subscription.filter, group);
    }
    group.members.push(subscription);
    this.memberCount++;
  }

  remove(subscription: Subscription): void {
    const key = `${subscription.shareName as string}/${subscription.filter}`;
    const group = this.groups.get(key);
    if (!group) return;
    const position = group.members.indexOf(subscription);
    if (position === -1) return;
    group.members.splice(position, 1);
    this.memberCount--;
    if (group.members.length === 0) {
      this.groups.delete(key);
      this.index.remove(subscription.filter, group);
    }
  }

  /** Give a message to one member of every group whose filter matches its topic. */
  route(message: Message): number {
    if (this.memberCount === 0) return 0;
    let matched = 0;
    for (const groups of this.index.match(message.topic, [])) {
      for (const group of groups) {
        const member = group.pick();
        if (!member) continue;
        deliverToMember(member, message, group);
        matched++;
      }
    }
    return matched;
  }

  /**
   * Give messages a member could not take (it lost its connection or its session ended) to other
   * members of their groups. Returns those that found no other member.
   */
  redeliver(entries: readonly OutboundMessage[], from: Subscriber): OutboundMessage[] {
    const orphans: OutboundMessage[] = [];
    for (const entry of entries) {
      const group = entry.group as SharedGroup;
      const member = group.members.length > 0 ? group.pick(from) : undefined;
      if (!member) {
        orphans.push(entry);
        continue;
      }
      deliverToMember(member, entry.message, group);
    }
    return orphans;
  }

  clear(): void {
    this.index = new SubscriptionIndex<SharedGroup>();
    this.groups.clear();
    this.memberCount = 0;
  }
}

/** Deliver one message to the chosen member of a group, with that member's subscription options. */
function deliverToMember(member: Subscription, message: Message, group: SharedGroup): void {
  const qos = member.qos < message.qos ? member.qos : message.qos;
  const retain = member.retainAsPublished && message.retain;
  const ids = member.subscriptionIdentifier === undefined ? undefined : [member.subscriptionIdentifier];
  member.session.deliver(message, qos, retain, ids, group);
}
