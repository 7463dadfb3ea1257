/**
 * The outbound side of one connection: encodes packets for the client's protocol version and limits and
 * writes them with batched writes (every write of one tick corked into one).
 */
import type { Duplex } from 'node:stream';
import {
  encodeConnack,
  encodeDisconnect,
  encodeSuback,
  encodeUnsuback,
  type ConnackProperties,
} from '../encoder-control.js';
import { PACKET_PUBREL, PINGRESP, encodeAck, encodePublishHeader, publishPacketSize } from '../encoder.js';
import type { Message } from '../message.js';
import type { PublishFits, PublishWriter } from '../session/outbound-message.js';

/**
 * Unsent bytes in a connection's write buffer above which QoS 1/2 messages wait in the session queue
 * (bounded, counted) instead of being written, until the stream drains: the write buffer of a client that
 * does not read stays small. (At least the stream's own high-water mark, so that 'drain' always follows.)
 */
const WRITE_HIGH_WATER_MARK = 1024 * 1024;

/** CONNACK return codes for MQTT 3.1/3.1.1, from the MQTT 5 reason code they stand for. */
function legacyReturnCode(reasonCode: number): number {
  switch (reasonCode) {
    case 0x00:
      return 0;
    case 0x84:
      return 1;
    case 0x85:
      return 2;
    case 0x88:
    case 0x89:
    case 0x97:
      return 3;
    case 0x86:
      return 4;
    default:
      return 5;
  }
}

export class PacketWriter {
  /** MQTT 5 packets (else MQTT 3.1.1), from the CONNECT packet on. */
  version5 = true;
  /** The client's Maximum Packet Size; 0 when it set none. */
  maximumPacketSize = 0;
  /** The client's Receive Maximum: QoS 1/2 messages the broker may have unacknowledged. */
  receiveMaximum = 65535;
  readonly #stream: Duplex;
  /** Unsent bytes above which QoS 1/2 messages wait in the session queue (see WRITE_HIGH_WATER_MARK). */
  readonly #highWaterMark: number;
  #corked = false;
  /** The stream closed for good: nothing is written any more. */
  #finished = false;

  constructor(stream: Duplex) {
    this.#stream = stream;
    this.#highWaterMark = Math.max(WRITE_HIGH_WATER_MARK, stream.writableHighWaterMark);
  }

  static #uncork(writer: PacketWriter): void {
    writer.#corked = false;
    writer.#stream.uncork();
  }

  /** The stream closed for good. */
  finish(): void {
    this.#finished = true;
  }

  get #writable(): boolean {
    return !this.#finished && this.#stream.writable;
  }

  /** True while the client leaves so much unread that QoS 1/2 messages wait in the session queue. */
  get congested(): boolean {
    return this.#stream.writableLength >= this.#highWaterMark;
  }

  /** Bytes written and not yet taken by the client. */
  get unreadBytes(): number {
    return this.#stream.writableLength;
  }

  /** Write bytes, batching every write of this tick into one (cork until the next tick). */
  write(buffer: Buffer): void {
    if (!this.#writable) return;
    if (!this.#corked) {
      this.#corked = true;
      this.#stream.cork();
      process.nextTick(PacketWriter.#uncork, this);
    }
    this.#stream.write(buffer);
  }

  /** Write bytes at once, not batched (a reply before the protocol version is known). */
  writeRaw(buffer: Buffer): void {
    if (this.#writable) this.#stream.write(buffer);
  }

  /** CONNACK (MQTT 3.1.1: `reasonCode` is the return code and properties are ignored). */
  sendConnack(sessionPresent: boolean, reasonCode: number, properties: ConnackProperties | undefined): void {
    this.write(encodeConnack(this.version5, sessionPresent, reasonCode, properties, this.maximumPacketSize));
  }

  /** A refusing CONNACK: the reason code and reason string (MQTT 5) or the return code it maps to. */
  sendRefusal(reasonCode: number, reason: string | undefined): void {
    if (this.version5) this.sendConnack(false, reasonCode, reason ? { reasonString: reason } : undefined);
    else this.sendConnack(false, legacyReturnCode(reasonCode), undefined);
  }

  sendSuback(packetId: number, codes: readonly number[]): void {
    this.write(encodeSuback(packetId, codes, this.version5));
  }

  sendUnsuback(packetId: number, codes: readonly number[]): void {
    this.write(encodeUnsuback(packetId, codes, this.version5));
  }

  sendDisconnect(reasonCode: number, reason: string | undefined): void {
    this.write(encodeDisconnect(reasonCode, reason, this.maximumPacketSize));
  }

  writeAck(type: number, packetId: number, reasonCode: number): void {
    this.write(encodeAck(type, packetId, reasonCode, this.version5));
  }

  writePubrel(packetId: number): void {
    this.write(encodeAck(PACKET_PUBREL, packetId, 0, this.version5));
  }

  writePingresp(): void {
    this.write(PINGRESP);
  }

  /** Whether a PUBLISH of this message fits the client's Maximum Packet Size. */
  readonly fits: PublishFits = (message, qos, expirySeconds, subscriptionIds) => {
    const limit = this.maximumPacketSize;
    if (limit === 0) return true;
    return publishPacketSize(message, qos, this.version5, expirySeconds, subscriptionIds) <= limit;
  };

  /** Encode and write a PUBLISH (the caller checked expiry and size). */
  readonly writePublish: PublishWriter = (
    message,
    qos,
    retain,
    dup,
    packetId,
    expirySeconds,
    subscriptionIds,
  ) => {
    this.write(
      encodePublishHeader(message, qos, dup, retain, packetId, this.version5, expirySeconds, subscriptionIds),
    );
    if (message.payload.length > 0) this.write(message.payload);
  };

  /**
   * Write a QoS 0 PUBLISH (the caller checked expiry and size). Without subscription identifiers, the
   * same header serves every subscriber with the same protocol version, retain flag and expiry.
   */
  writeQos0(message: Message, retain: boolean, expiry: number, subscriptionIds: number[] | undefined): void {
    if (subscriptionIds !== undefined) {
      this.writePublish(message, 0, retain, false, 0, expiry, subscriptionIds);
      return;
    }
    const key = (expiry + 1) * 4 + (this.version5 ? 2 : 0) + (retain ? 1 : 0);
    let header = message.cachedHeader;
    if (header === undefined || message.cachedHeaderKey !== key) {
      header = encodePublishHeader(message, 0, false, retain, 0, this.version5, expiry, undefined);
      message.cachedHeader = header;
      message.cachedHeaderKey = key;
    }
    this.write(header);
    if (message.payload.length > 0) this.write(message.payload);
  }
}
