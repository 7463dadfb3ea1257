/**
 * A subscription and the narrow view of its session the router delivers through. Every subscription has a
 * `kind` (plain, shared; queues and streams next): the router keeps one index per kind (routing/router.ts).
 */
import type { Message } from '../message.js';
import type { QoS, SubscriptionRequest } from '../types.js';

/**
 * How a subscription receives messages. `plain`: every matching subscription gets a copy; `shared`
 * (`$share/{group}/{filter}`): one member of each group gets it. A new kind (MQTT queues, streams) adds its
 * name here and its index in routing/router.ts.
 */
export type SubscriptionKindName = 'plain' | 'shared';

/**
 * The subscription index a message was dispatched through when that index may give it to another
 * subscriber if this one cannot take it (a shared group; a queue). Carried by outbound messages.
 */
export interface DeliveryGroup {
  readonly kind: SubscriptionKindName;
}

/** Scratch state for merging one session's overlapping subscriptions while routing one message. */
export class RouteScratch {
  epoch = 0;
  qos: QoS = 0;
  retain = false;
  subscriptionIds: number[] | undefined = undefined;
}

/** What routing needs of a session: who it is, whether it is connected, and where a copy goes. */
export interface Subscriber {
  readonly clientId: string;
  /** True while the session's client is connected (shared groups prefer connected members). */
  readonly online: boolean;
  readonly scratch: RouteScratch;
  deliver(
    message: Message,
    qos: QoS,
    retain: boolean,
    subscriptionIds: number[] | undefined,
    group: DeliveryGroup | undefined,
  ): void;
}

/** One subscription of a session. */
export class Subscription implements SubscriptionRequest {
  constructor(
    readonly kind: SubscriptionKindName,
    readonly session: Subscriber,
    readonly topicFilter: string,
    readonly filter: string,
    readonly shareName: string | undefined,
    public qos: QoS,
    public noLocal: boolean,
    public retainAsPublished: boolean,
    public retainHandling: 0 | 1 | 2,
    public subscriptionIdentifier: number | undefined,
  ) {}

  /** Take the options of a SUBSCRIBE that repeats this topic filter. */
  update(request: SubscriptionRequest): void {
    this.qos = request.qos;
    this.noLocal = request.noLocal;
    this.retainAsPublished = request.retainAsPublished;
    this.retainHandling = request.retainHandling;
    this.subscriptionIdentifier = request.subscriptionIdentifier;
  }

  toJSON(): SubscriptionRequest {
    return {
      topicFilter: this.topicFilter,
      filter: this.filter,
      shareName: this.shareName,
      qos: this.qos,
      noLocal: this.noLocal,
      retainAsPublished: this.retainAsPublished,
      retainHandling: this.retainHandling,
      subscriptionIdentifier: this.subscriptionIdentifier,
    };
  }
}
