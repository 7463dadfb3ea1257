/**
 * A session: what the broker keeps for a client id across connections (subscriptions, QoS 1/2 messages
 * in flight or queued, QoS 2 packet ids received), and the delivery rules for them.
 */
import type { Message } from '../message.js';
import type { QoS } from '../types.js';
import {
  OUTBOUND_PUBLISHED,
  OUTBOUND_QUEUED,
  OUTBOUND_RELEASED,
  OutboundMessage,
  type OverflowReason,
  type SessionConnection,
  type SessionLimits,
} from './outbound-message.js';
import { RouteScratch, type DeliveryGroup, type Subscriber, type Subscription } from './subscription.js';

export class Session implements Subscriber {
  readonly clientId: string;
  private readonly limits: SessionLimits;
  /** The live connection, when the client is connected. */
  connection: SessionConnection | undefined = undefined;
  /** Seconds the session outlives its connection (0xFFFFFFFF: forever). */
  expiryInterval = 0;
  expiryTimer: NodeJS.Timeout | undefined = undefined;
  /** Subscriptions by topic filter as sent (with any `$share/` prefix). */
  readonly subscriptions = new Map<string, Subscription>();
  /** Outbound QoS 1/2 messages sent and not yet completed, by packet id (insertion ordered). */
  readonly inflight = new Map<number, OutboundMessage>();
  /** Outbound QoS 1/2 messages waiting for a connection or for room under the client's Receive Maximum. */
  private queue: Array<OutboundMessage | undefined> = [];
  private queueHead = 0;
  /** Packet ids of inbound QoS 2 publishes that got PUBREC and wait for PUBREL. */
  inboundQos2: Set<number> | undefined = undefined;
  private nextPacketId = 1;
  ended = false;
  /** Bytes of the QoS 1/2 messages this session holds, queued or in flight. */
  heldBytes = 0;
  /** True from the first dropped message until the session has room again (one log line per episode). */
  overflowing = false;
  /** Messages dropped in the current overflow episode. */
  private dropped = 0;

  /** Scratch fields for merging overlapping subscriptions while routing one message. */
  readonly scratch = new RouteScratch();

  constructor(clientId: string, limits: SessionLimits) {
    this.clientId = clientId;
    this.limits = limits;
  }

  get online(): boolean {
    return this.connection !== undefined;
  }

  get queuedCount(): number {
    return this.queue.length - this.queueHead;
  }

  /**
   * Deliver a message at the given QoS: sent now if connected, allowed by the client's Receive Maximum and
   * the connection is not backed up, else queued. QoS 0 is never queued (dropped when the client does not
   * read). A QoS 1/2 message beyond the session's limits is dropped: the newest message goes, what is
   * already queued or in flight stays (see `admit`).
   */
  deliver(
    message: Message,
    qos: QoS,
    retain: boolean,
    subscriptionIds: number[] | undefined,
    group: DeliveryGroup | undefined,
  ): void {
    const connection = this.connection;
    if (qos === 0) {
      connection?.sendQos0(message, retain, subscriptionIds);
      return;
    }
    const entry = new OutboundMessage(message, qos, retain, subscriptionIds, group);
    if (
      connection &&
      this.queueHead === this.queue.length &&
      this.inflight.size < connection.receiveMaximum &&
      !connection.congested
    ) {
      if (this.admit(entry)) this.transmit(entry, connection);
    } else {
      this.enqueue(entry);
    }
  }

  /** Queue an outbound message (also used for re-dispatched shared messages), within the limits. */
  enqueue(entry: OutboundMessage): void {
    if (this.queue.length - this.queueHead >= this.limits.maximumQueuedMessages) {
      this.drop(entry.message, 'messages');
      return;
    }
    if (!this.admit(entry)) return;
    entry.state = OUTBOUND_QUEUED;
    this.queue.push(entry);
  }

  /**
   * Count a message against the byte limits, or drop it (the newest message is the one dropped: messages in
   * flight cannot be taken back, and dropping queued ones instead would reorder what the client gets). A
   * session that holds nothing always takes one message, so a message larger than the limit still flows.
   */
  private admit(entry: OutboundMessage): boolean {
    const limits = this.limits;
    const bytes = entry.bytes;
    if (this.heldBytes > 0 && this.heldBytes + bytes > limits.maximumQueuedBytes) {
      this.drop(entry.message, 'bytes');
      return false;
    }
    if (limits.totalQueuedBytes + bytes > limits.maximumTotalQueuedBytes) {
      this.drop(entry.message, 'total-bytes');
      return false;
    }
    this.heldBytes += bytes;
    limits.totalQueuedBytes += bytes;
    return true;
  }

  /** A message left the session (acknowledged, expired, too large, handed to another member, ...). */
  private release(entry: OutboundMessage): void {
    this.heldBytes -= entry.bytes;
    this.limits.totalQueuedBytes -= entry.bytes;
    if (this.overflowing) this.checkRecovered();
  }

  /** Count a dropped message; the first one of an episode is reported. */
  drop(message: Message, reason: OverflowReason): void {
    this.dropped++;
    if (this.overflowing) return;
    this.overflowing = true;
    this.limits.onOverflow(this, message, reason);
  }

  /** End an overflow episode once the session is down to half of every limit again (no log flapping). */
  checkRecovered(): void {
    if (!this.overflowing) return;
    const limits = this.limits;
    if (this.heldBytes * 2 > limits.maximumQueuedBytes) return;
    if (this.queuedCount * 2 > limits.maximumQueuedMessages) return;
    const connection = this.connection;
    if (connection && connection.unreadBytes * 2 > limits.maximumQueuedBytes) return;
    const dropped = this.dropped;
    this.overflowing = false;
    this.dropped = 0;
    limits.onRecovered(this, dropped);
  }

  /** Send queued messages while the client's Receive Maximum allows and the connection is not backed up. */
  drain(): void {
    const connection = this.connection;
    if (!connection) return;
    const queue = this.queue;
    while (
      this.queueHead < queue.length &&
      this.inflight.size < connection.receiveMaximum &&
      !connection.congested
    ) {
      const entry = queue[this.queueHead] as OutboundMessage;
      queue[this.queueHead++] = undefined;
      this.transmit(entry, connection);
    }
    if (this.queueHead === queue.length) {
      if (queue.length > 0) {
        this.queue = [];
        this.queueHead = 0;
      }
    } else if (this.queueHead > 1024 && this.queueHead * 2 > queue.length) {
      this.queue = queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  /** Assign a packet id and send, unless the message expired or is too large for the client (then dropped). */
  private transmit(entry: OutboundMessage, connection: SessionConnection): void {
    const message = entry.message;
    let expiry = -1;
    if (message.expiresAt !== 0) {
      expiry = message.remainingExpiry(Date.now());
      if (expiry === 0) {
        this.release(entry);
        return;
      }
    }
    if (!connection.fits(message, entry.qos, expiry, entry.subscriptionIds)) {
      this.release(entry);
      return;
    }
    const packetId = this.allocatePacketId();
    entry.packetId = packetId;
    entry.state = OUTBOUND_PUBLISHED;
    this.inflight.set(packetId, entry);
    connection.writePublish(message, entry.qos, entry.retain, false, packetId, expiry, entry.subscriptionIds);
  }

  private allocatePacketId(): number {
    for (let attempt = 0; attempt < 65535; attempt++) {
      const id = this.nextPacketId;
      this.nextPacketId = id === 65535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
    throw new Error('no free packet identifier');
  }

  /** After a reconnect to this session: resend unacknowledged PUBLISH (with DUP) and PUBREL, then drain. */
  resume(): void {
    const connection = this.connection;
    if (!connection) return;
    const now = Date.now();
    for (const [packetId, entry] of this.inflight) {
      if (entry.state === OUTBOUND_RELEASED) {
        connection.writePubrel(packetId);
        continue;
      }
      const message = entry.message;
      const expiry = message.expiresAt === 0 ? -1 : message.remainingExpiry(now);
      if (expiry === 0 || !connection.fits(message, entry.qos, expiry, entry.subscriptionIds)) {
        this.inflight.delete(packetId);
        this.release(entry);
        continue;
      }
      connection.writePublish(
        message,
        entry.qos,
        entry.retain,
        true,
        packetId,
        expiry,
        entry.subscriptionIds,
      );
    }
    this.drain();
  }

  /** PUBACK from the client. */
  acknowledge(packetId: number): void {
    const entry = this.inflight.get(packetId);
    if (entry && entry.qos === 1) {
      this.inflight.delete(packetId);
      this.release(entry);
      this.drain();
    }
  }

  /**
   * PUBREC from the client: `release` to answer with PUBREL, `refused` when the client refused the
   * message (reason code >= 0x80: complete, no PUBREL), `unknown` for an id not in flight.
   */
  received(packetId: number, reasonCode: number): 'release' | 'refused' | 'unknown' {
    const entry = this.inflight.get(packetId);
    if (!entry || entry.qos !== 2) return 'unknown';
    if (reasonCode >= 0x80) {
      this.inflight.delete(packetId);
      this.release(entry);
      this.drain();
      return 'refused';
    }
    entry.state = OUTBOUND_RELEASED;
    return 'release';
  }

  /** PUBCOMP from the client. */
  complete(packetId: number): void {
    const entry = this.inflight.get(packetId);
    if (entry && entry.state === OUTBOUND_RELEASED) {
      this.inflight.delete(packetId);
      this.release(entry);
      this.drain();
    }
  }

  /**
   * Take back the messages dispatched through shared subscriptions that the client has not acknowledged
   * (QoS 1 in flight, and anything queued), so that another member of the group can have them.
   * QoS 2 messages already sent stay: their delivery must complete with this client.
   */
  releaseShared(): OutboundMessage[] {
    const released: OutboundMessage[] = [];
    for (const [packetId, entry] of this.inflight) {
      if (entry.group && entry.qos === 1) {
        this.inflight.delete(packetId);
        this.release(entry);
        released.push(entry);
      }
    }
    if (this.queueHead < this.queue.length) {
      const kept: OutboundMessage[] = [];
      for (let index = this.queueHead; index < this.queue.length; index++) {
        const entry = this.queue[index] as OutboundMessage;
        if (entry.group) {
          this.release(entry);
          released.push(entry);
        } else {
          kept.push(entry);
        }
      }
      this.queue = kept;
      this.queueHead = 0;
    }
    return released;
  }

  /** Forget all message state (session end). */
  clear(): void {
    this.inflight.clear();
    this.queue = [];
    this.queueHead = 0;
    this.inboundQos2 = undefined;
    this.limits.totalQueuedBytes -= this.heldBytes;
    this.heldBytes = 0;
    this.overflowing = false;
    this.dropped = 0;
  }
}
