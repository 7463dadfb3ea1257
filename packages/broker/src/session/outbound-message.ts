/**
 * What a session holds for its client: QoS 1/2 messages on their way (`OutboundMessage`), the limits all
 * sessions share, and the narrow view of the client's connection a session writes through.
 */
import type { Message } from '../message.js';
import type { QoS } from '../types.js';
import type { DeliveryGroup } from './subscription.js';

export const OUTBOUND_QUEUED = 0;
/** PUBLISH sent, waiting for PUBACK (QoS 1) or PUBREC (QoS 2). */
export const OUTBOUND_PUBLISHED = 1;
/** PUBREL sent, waiting for PUBCOMP. */
export const OUTBOUND_RELEASED = 2;

/** A QoS 1 or 2 message on its way to one session. */
export class OutboundMessage {
  packetId = 0;
  state = OUTBOUND_QUEUED;
  /** What it counts against the session's byte limits (`Message.byteSize()`). */
  readonly bytes: number;

  constructor(
    readonly message: Message,
    readonly qos: 1 | 2,
    readonly retain: boolean,
    readonly subscriptionIds: number[] | undefined,
    /** The group (shared subscription, queue) it was dispatched through, if any (for re-dispatch). */
    readonly group: DeliveryGroup | undefined,
  ) {
    this.bytes = message.byteSize();
  }
}

/**
 * Why a session dropped a message: its queue holds `maximumQueuedMessages`, its messages (queued and in
 * flight) would exceed `maximumQueuedBytes`, all sessions together would exceed `maximumTotalQueuedBytes`,
 * or (QoS 0) its connection's write buffer already holds `maximumQueuedBytes` the client has not read.
 */
export type OverflowReason = 'messages' | 'bytes' | 'total-bytes' | 'write-buffer';

/** The limits every session of a broker shares, and the bytes they hold together. */
export interface SessionLimits {
  readonly maximumQueuedMessages: number;
  readonly maximumQueuedBytes: number;
  readonly maximumTotalQueuedBytes: number;
  /** Bytes held by all sessions (kept up to date by the sessions). */
  totalQueuedBytes: number;
  /** A session dropped the first message of an overflow episode (later drops are only counted). */
  onOverflow(session: { readonly clientId: string }, message: Message, reason: OverflowReason): void;
  /** A session that was dropping messages has room again; `dropped` messages were lost meanwhile. */
  onRecovered(session: { readonly clientId: string }, dropped: number): void;
}

/** Whether a PUBLISH of this message fits the client's Maximum Packet Size. */
export type PublishFits = (
  message: Message,
  qos: number,
  expirySeconds: number,
  subscriptionIds: readonly number[] | undefined,
) => boolean;

/** Encode and write a PUBLISH (the caller checked expiry and size). */
export type PublishWriter = (
  message: Message,
  qos: QoS,
  retain: boolean,
  dup: boolean,
  packetId: number,
  expirySeconds: number,
  subscriptionIds: readonly number[] | undefined,
) => void;

/** What a session needs of its client's connection: room under its limits, and where packets go. */
export interface SessionConnection {
  /** The client's Receive Maximum: QoS 1/2 messages the broker may have unacknowledged. */
  readonly receiveMaximum: number;
  /** True while the client leaves so much unread that QoS 1/2 messages wait in the session queue. */
  readonly congested: boolean;
  /** Bytes written to the client and not yet read by it. */
  readonly unreadBytes: number;
  /** Send a QoS 0 copy (dropped when expired, too large, or the client does not read). */
  sendQos0(message: Message, retain: boolean, subscriptionIds: number[] | undefined): void;
  /** Whether a PUBLISH of this message fits the client's Maximum Packet Size. */
  readonly fits: PublishFits;
  readonly writePublish: PublishWriter;
  writePubrel(packetId: number): void;
}
