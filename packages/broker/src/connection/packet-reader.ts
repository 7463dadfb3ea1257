/**
 * The inbound side of one connection: parses packets off the stream's chunks, refuses a packet beyond
 * `maximumPacketSize` as soon as its fixed header declares its length, and watches that a packet begun
 * completes within `packetReadTimeout`, however slowly it trickles in.
 */
import { variableByteIntegerLength } from '@mqtt-agents/core/grammar';
import type { Packet } from 'mqtt-packet';
import { createPacketParser, type PacketParser, type PacketReceiver } from '../packet-parser.js';

/** What the reader reports to its connection, and asks of it. */
export interface PacketReaderEvents {
  /** A whole packet within the size limit. */
  packet(packet: Packet): void;
  /** Input the parser cannot read; `protocolVersion` of a CONNECT being parsed, if known. */
  malformed(error: Error, protocolVersion: number | undefined): void;
  /** A packet larger than `maximumPacketSize` (declared or received). */
  tooLarge(): void;
  /** A packet begun did not complete within `timeout` ms. */
  readTimeout(timeout: number): void;
  /** True while a handler waits for a hook: the broker itself does not read then, and that time does not count. */
  busy(): boolean;
  /** True once the connection closed: the reader ignores everything from then on. */
  closed(): boolean;
}

export interface PacketReaderLimits {
  readonly maximumPacketSize: number;
  readonly packetReadTimeout: number;
}

export class PacketReader implements PacketReceiver {
  readonly #parser: PacketParser;
  readonly #events: PacketReaderEvents;
  readonly #limits: PacketReaderLimits;
  /** When the first byte of the packet being received arrived (0 between packets). */
  #packetStartedAt = 0;
  #packetTimer: NodeJS.Timeout | undefined = undefined;
  /** Packets parsed so far (tells whether a packet completed within a chunk). */
  #packetsReceived = 0;

  constructor(limits: PacketReaderLimits, events: PacketReaderEvents) {
    this.#limits = limits;
    this.#events = events;
    this.#parser = createPacketParser(this);
  }

  /** Parse a chunk (packets and errors go to the events, handlers may run and close the connection). */
  read(chunk: Buffer, now: number): void {
    const packetsBefore = this.#packetsReceived;
    try {
      this.#parser.parse(chunk);
    } catch (error) {
      // mqtt-packet reports malformed input through 'error', but never let a throw escape a 'data' listener.
      this.receiveParseError(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.#events.closed()) return;
    const limit = this.#limits.maximumPacketSize;
    if (limit > 0) {
      const pending = this.#parser.pendingLength;
      if (pending >= 0 && 1 + variableByteIntegerLength(pending) + pending > limit) {
        this.#events.tooLarge();
        return;
      }
    }
    if (!this.#parser.midPacket) {
      this.#packetStartedAt = 0;
      return;
    }
    if (this.#packetStartedAt === 0 || this.#packetsReceived !== packetsBefore) this.#packetStartedAt = now;
    if (this.#packetTimer === undefined) {
      this.#packetTimer = setTimeout(PacketReader.#checkTimeout, this.#limits.packetReadTimeout, this);
      this.#packetTimer.unref();
    }
  }

  /** The read timeout timer fired: report if the packet begun then is still incomplete. */
  static #checkTimeout(reader: PacketReader): void {
    reader.#packetTimer = undefined;
    if (reader.#events.closed() || reader.#packetStartedAt === 0) return;
    const timeout = reader.#limits.packetReadTimeout;
    const now = Date.now();
    if (reader.#events.busy()) reader.#packetStartedAt = now;
    const waited = now - reader.#packetStartedAt;
    if (waited < timeout) {
      reader.#packetTimer = setTimeout(PacketReader.#checkTimeout, timeout - waited, reader);
      reader.#packetTimer.unref();
      return;
    }
    reader.#events.readTimeout(timeout);
  }

  receivePacket(packet: Packet): void {
    if (this.#events.closed()) return;
    this.#packetsReceived++;
    const limit = this.#limits.maximumPacketSize;
    if (limit > 0) {
      const length = packet.length ?? 0;
      if (1 + variableByteIntegerLength(length) + length > limit) {
        this.#events.tooLarge();
        return;
      }
    }
    this.#events.packet(packet);
  }

  receiveParseError(error: Error): void {
    if (this.#events.closed()) return;
    this.#events.malformed(error, this.#parser.pendingProtocolVersion);
  }

  /** Stop the read timeout (the connection closed). */
  stop(): void {
    if (this.#packetTimer) {
      clearTimeout(this.#packetTimer);
      this.#packetTimer = undefined;
    }
  }

  /** The stream closed for good: the parser reports nothing more. */
  detach(): void {
    this.#parser.receiver = undefined;
  }
}
