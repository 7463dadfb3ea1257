/**
 * One client connection: parses packets off a duplex stream, runs them through the packet handlers one
 * at a time (a handler may wait for an async hook; later packets wait their turn), writes packets back
 * with batched writes, and watches keep alive.
 */
import type { Duplex } from 'node:stream';
import { printable } from '@mqtt-agents/core/grammar';
import type { Packet } from 'mqtt-packet';
import type { MqttBroker } from './broker.js';
import {
  PACKET_PUBREL,
  PINGRESP,
  encodeAck,
  encodeConnack,
  encodeDisconnect,
  encodePublishHeader,
  encodeSuback,
  encodeUnsuback,
  publishPacketSize,
  varintSize,
  type ConnackProperties,
} from './encoder.js';
import { dispatchPacket } from './handlers/index.js';
import type { Message } from './message.js';
import { createPacketParser, type PacketParser, type PacketReceiver } from './packet-parser.js';
import type { Session } from './session-store.js';
import type {
  ClientInfo,
  DisconnectCause,
  PeerCertificate,
  ProtocolVersion,
  QoS,
  TransportKind,
} from './types.js';
import type { Will } from './will.js';

const CONNECTING = 0;
const CONNECTED = 1;
const CLOSED = 2;

/** Connection state: waiting for CONNECT, connected, or closed. */
export type ConnectionState = typeof CONNECTING | typeof CONNECTED | typeof CLOSED;
export const ConnectionStates = { CONNECTING, CONNECTED, CLOSED } as const;

/**
 * Unsent bytes in a connection's write buffer above which QoS 1/2 messages wait in the session queue
 * (bounded, counted) instead of being written, until the stream drains: the write buffer of a client that
 * does not read stays small. (At least the stream's own high-water mark, so that 'drain' always follows.)
 */
const WRITE_HIGH_WATER_MARK = 1024 * 1024;
/** How long a closing connection may take to flush and let the peer close before it is destroyed. */
const CLOSE_GRACE_MS = 1000;

/** mqtt-packet parse errors that MQTT 5 classes as Protocol Error (0x82) rather than Malformed Packet. */
const PROTOCOL_ERROR_MESSAGES = /^Invalid retain handling|^Invalid subscribe QoS/;

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

/** The connection a stream belongs to (listeners are shared functions, not per-connection closures). */
const CONNECTION = Symbol('mqtt-agents.connection');

type ServedStream = Duplex & { [CONNECTION]?: ClientConnection };

function onStreamData(this: ServedStream, chunk: Buffer): void {
  this[CONNECTION]?.receiveData(chunk);
}

function onStreamEnd(this: ServedStream): void {
  this[CONNECTION]?.close('connection-lost', undefined);
}

function onStreamError(this: ServedStream, error: Error): void {
  const connection = this[CONNECTION];
  connection?.broker.logger.debug(
    `mqtt-agents:broker: connection error (${connection.clientId ? printable(connection.clientId, 120) : 'not connected'})`,
    error,
  );
}

function onStreamClose(this: ServedStream): void {
  this[CONNECTION]?.streamClosed();
}

function onStreamDrain(this: ServedStream): void {
  this[CONNECTION]?.writeDrained();
}

function onPacketTimer(connection: ClientConnection): void {
  connection.checkPacketTimeout();
}

function onConnectTimeout(connection: ClientConnection): void {
  connection.connectTimedOut();
}

function onKeepAliveTimer(connection: ClientConnection): void {
  connection.checkKeepAlive();
}

function destroyStream(stream: Duplex): void {
  stream.destroy();
}

function uncork(connection: ClientConnection): void {
  connection.corked = false;
  connection.stream.uncork();
}

export class ClientConnection implements PacketReceiver {
  readonly broker: MqttBroker;
  readonly stream: Duplex;
  readonly transport: TransportKind;
  readonly remoteAddress: string | undefined;
  /** The TLS client certificate the listener verified, for `authenticate` (set by TLS listeners). */
  peerCertificate: PeerCertificate | undefined = undefined;
  private readonly parser: PacketParser;
  state: ConnectionState = CONNECTING;
  protocolVersion: ProtocolVersion = 5;
  version5 = true;
  clientId = '';
  info: ClientInfo | undefined = undefined;
  session: Session | undefined = undefined;
  will: Will | undefined = undefined;
  /** Inbound topic aliases (client to broker). */
  topicAliases: Map<number, string> | undefined = undefined;
  /** The client's Receive Maximum: QoS 1/2 messages the broker may have unacknowledged. */
  receiveMaximum = 65535;
  /** The client's Maximum Packet Size; 0 when it set none. */
  maximumPacketSize = 0;
  /** Session Expiry Interval the client asked for in CONNECT (for the DISCONNECT rule). */
  requestedSessionExpiry = 0;
  corked = false;
  /** Unsent bytes above which QoS 1/2 messages wait in the session queue (see WRITE_HIGH_WATER_MARK). */
  private readonly writeHighWaterMark: number;
  /** When the first byte of the packet being received arrived (0 between packets). */
  private packetStartedAt = 0;
  private packetTimer: NodeJS.Timeout | undefined = undefined;
  /** Packets parsed so far (tells whether a packet completed within a chunk). */
  private packetsReceived = 0;
  private keepAliveMs = 0;
  private lastActivity = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  private busy = false;
  private backlog: Packet[] | undefined = undefined;
  private finished = false;

  constructor(
    broker: MqttBroker,
    stream: Duplex,
    transport: TransportKind,
    remoteAddress: string | undefined,
  ) {
    this.broker = broker;
    this.stream = stream;
    this.transport = transport;
    this.remoteAddress = remoteAddress;
    this.parser = createPacketParser(this);
    (stream as ServedStream)[CONNECTION] = this;
    stream.on('data', onStreamData);
    stream.on('end', onStreamEnd);
    stream.on('error', onStreamError);
    stream.on('close', onStreamClose);
    stream.on('drain', onStreamDrain);
    this.writeHighWaterMark = Math.max(WRITE_HIGH_WATER_MARK, stream.writableHighWaterMark);
    this.timer = setTimeout(onConnectTimeout, broker.settings.connectTimeout, this);
    this.timer.unref();
  }

  get connected(): boolean {
    return this.state === CONNECTED;
  }

  // ---- inbound -------------------------------------------------------------------------------------

  receiveData(chunk: Buffer): void {
    if (this.state === CLOSED) return;
    const now = Date.now();
    this.lastActivity = now;
    const packetsBefore = this.packetsReceived;
    try {
      this.parser.parse(chunk);
    } catch (error) {
      // mqtt-packet reports malformed input through 'error', but never let a throw escape a 'data' listener.
      this.receiveParseError(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    // (Handlers run inside parse() and may have closed the connection.)
    if ((this.state as ConnectionState) === CLOSED) return;
    // Refuse an oversize packet as soon as its fixed header declares its length, before buffering its body.
    const limit = this.broker.settings.maximumPacketSize;
    if (limit > 0) {
      const pending = this.parser.pendingLength;
      if (pending >= 0 && 1 + varintSize(pending) + pending > limit) {
        this.packetTooLarge();
        return;
      }
    }
    // A packet that has begun must complete within the read timeout, however slowly it trickles in.
    if (!this.parser.midPacket) {
      this.packetStartedAt = 0;
      return;
    }
    if (this.packetStartedAt === 0 || this.packetsReceived !== packetsBefore) this.packetStartedAt = now;
    if (this.packetTimer === undefined) {
      this.packetTimer = setTimeout(onPacketTimer, this.broker.settings.packetReadTimeout, this);
      this.packetTimer.unref();
    }
  }

  /** The read timeout timer fired: close the connection if the packet begun then is still incomplete. */
  checkPacketTimeout(): void {
    this.packetTimer = undefined;
    if (this.state === CLOSED || this.packetStartedAt === 0) return;
    const timeout = this.broker.settings.packetReadTimeout;
    const now = Date.now();
    // While a handler waits for a hook the broker itself does not read: that time does not count.
    if (this.busy) this.packetStartedAt = now;
    const waited = now - this.packetStartedAt;
    if (waited < timeout) {
      this.packetTimer = setTimeout(onPacketTimer, timeout - waited, this);
      this.packetTimer.unref();
      return;
    }
    const reason = `packet not complete after ${timeout} ms`;
    this.broker.reportError(this.info, new Error(reason));
    if (this.state === CONNECTING) this.close('read-timeout', undefined);
    else this.disconnect(0x8d, 'read-timeout', reason);
  }

  receivePacket(packet: Packet): void {
    if (this.state === CLOSED) return;
    this.packetsReceived++;
    const limit = this.broker.settings.maximumPacketSize;
    if (limit > 0) {
      const length = packet.length ?? 0;
      if (1 + varintSize(length) + length > limit) {
        this.packetTooLarge();
        return;
      }
    }
    if (this.busy) {
      (this.backlog ??= []).push(packet);
      return;
    }
    this.process(packet);
  }

  private process(packet: Packet): void {
    let pending: void | Promise<void>;
    try {
      pending = dispatchPacket(this, packet);
    } catch (error) {
      this.internalError(error);
      return;
    }
    if (pending) {
      this.busy = true;
      this.stream.pause();
      pending.then(
        () => this.processed(),
        (error: unknown) => this.internalError(error),
      );
    }
  }

  private processed(): void {
    this.busy = false;
    while (!this.busy && this.state !== CLOSED && this.backlog && this.backlog.length > 0) {
      this.process(this.backlog.shift() as Packet);
    }
    if (!this.busy && this.state !== CLOSED) this.stream.resume();
  }

  receiveParseError(error: Error): void {
    if (this.state === CLOSED) return;
    this.broker.reportError(this.info, new Error(`malformed packet: ${error.message}`));
    if (this.state === CONNECTING) {
      if (error.message === 'Invalid protocol version') {
        // Unknown protocol level: answer in the MQTT 3.1.1 format every version can read (as Mosquitto).
        this.writeRaw(Buffer.from([0x20, 0x02, 0x00, 0x01]));
        this.close('protocol-error', 0x84);
        return;
      }
      if (this.parser.pendingProtocolVersion === 5) {
        this.refuseConnect(0x81, `malformed CONNECT: ${error.message}`);
      } else {
        this.close('protocol-error', 0x81);
      }
      return;
    }
    // mqtt-packet reports some protocol errors (MQTT 5 calls them that, not malformed) as parse errors.
    const reasonCode = PROTOCOL_ERROR_MESSAGES.test(error.message) ? 0x82 : 0x81;
    this.disconnect(reasonCode, 'protocol-error', `malformed packet: ${error.message}`);
  }

  private packetTooLarge(): void {
    this.broker.reportError(this.info, new Error('packet exceeds the maximum packet size'));
    if (this.state === CONNECTING) this.refuseConnect(0x95, 'packet too large');
    else this.disconnect(0x95, 'protocol-error', 'packet too large');
  }

  private internalError(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    this.broker.logger.error(
      `mqtt-agents:broker: error handling a packet from '${printable(this.clientId, 120)}'`,
      failure,
    );
    this.broker.reportError(this.info, failure);
    if (this.state === CONNECTING) this.refuseConnect(0x80, 'internal error');
    else this.disconnect(0x80, 'protocol-error', 'internal error');
  }

  /** Close the connection for a protocol violation, with a DISCONNECT reason code (MQTT 5). */
  protocolError(reasonCode: number, reason: string): void {
    if (this.state === CLOSED) return;
    this.broker.reportError(this.info, new Error(reason));
    if (this.state === CONNECTING) this.refuseConnect(reasonCode, reason);
    else this.disconnect(reasonCode, 'protocol-error', reason);
  }

  // ---- lifecycle ----------------------------------------------------------------------------------

  /** Adopt the protocol version of the CONNECT packet for everything written from now on. */
  setProtocolVersion(version: ProtocolVersion): void {
    this.protocolVersion = version;
    this.version5 = version === 5;
  }

  /** Apply the client's limits from CONNECT (MQTT 5). */
  setClientLimits(receiveMaximum: number, maximumPacketSize: number): void {
    this.receiveMaximum = receiveMaximum;
    this.maximumPacketSize = maximumPacketSize;
  }

  /** Refuse a CONNECT with a CONNACK reason code (mapped for MQTT 3.1.1) and close. */
  refuseConnect(reasonCode: number, reason?: string): void {
    if (this.state !== CONNECTING) return;
    if (this.version5) {
      this.sendConnack(false, reasonCode, reason ? { reasonString: reason } : undefined);
    } else {
      this.sendConnack(false, legacyReturnCode(reasonCode), undefined);
    }
    this.close('protocol-error', reasonCode);
  }

  /** Mark the connection accepted and start watching keep alive (seconds; 0 disables). */
  accept(keepAlive: number): void {
    this.state = CONNECTED;
    this.clearTimer();
    if (keepAlive > 0) {
      this.keepAliveMs = keepAlive * 1500;
      this.lastActivity = Date.now();
      this.timer = setTimeout(onKeepAliveTimer, this.keepAliveMs, this);
      this.timer.unref();
    }
  }

  checkKeepAlive(): void {
    this.timer = undefined;
    if (this.state !== CONNECTED) return;
    const idle = Date.now() - this.lastActivity;
    if (idle >= this.keepAliveMs) {
      this.disconnect(0x8d, 'keep-alive-timeout', 'keep alive timeout');
      return;
    }
    this.timer = setTimeout(onKeepAliveTimer, this.keepAliveMs - idle, this);
    this.timer.unref();
  }

  connectTimedOut(): void {
    this.timer = undefined;
    if (this.state === CONNECTING && !this.busy) this.close('protocol-error', undefined);
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private clearPacketTimer(): void {
    if (this.packetTimer) {
      clearTimeout(this.packetTimer);
      this.packetTimer = undefined;
    }
  }

  /** Send DISCONNECT (MQTT 5, when connected) and close. */
  disconnect(reasonCode: number, cause: DisconnectCause, reason?: string): void {
    if (this.state === CLOSED) return;
    if (this.state === CONNECTED && this.version5) {
      this.write(encodeDisconnect(reasonCode, reason, this.maximumPacketSize));
    }
    this.close(cause, reasonCode);
  }

  /**
   * Another connection took this client id: detach from the session first (so closing does not touch
   * it), send DISCONNECT 0x8E and close. Returns the will to publish, if it must be.
   */
  takeOver(sessionEnds: boolean): Will | undefined {
    const will = this.will;
    this.will = undefined;
    if (this.session && this.session.connection === this) this.session.connection = undefined;
    this.disconnect(0x8e, 'session-takeover', 'session taken over');
    // The session continues with the new connection: a delayed will is cancelled by that reconnect.
    return will && (sessionEnds || will.delay === 0) ? will : undefined;
  }

  /** Stop processing, let the broker handle the end of the session's connection, and close the stream. */
  close(cause: DisconnectCause, reasonCode: number | undefined): void {
    if (this.state === CLOSED) return;
    const wasConnected = this.state === CONNECTED;
    this.state = CLOSED;
    this.clearTimer();
    this.clearPacketTimer();
    this.backlog = undefined;
    if (wasConnected) this.broker.connectionEnded(this, cause, reasonCode);
    if (this.finished) return;
    const stream = this.stream;
    if (!stream.writableEnded) stream.end();
    // Give the peer a moment to read what was sent and close its side; then destroy.
    this.timer = setTimeout(destroyStream, CLOSE_GRACE_MS, stream);
    this.timer.unref();
  }

  /** The stream closed for good (both ways). */
  streamClosed(): void {
    this.finished = true;
    this.close('connection-lost', undefined);
    this.clearTimer();
    this.parser.receiver = undefined;
    this.broker.connectionFinished(this);
  }

  // ---- outbound -----------------------------------------------------------------------------------

  private get writable(): boolean {
    return !this.finished && this.stream.writable;
  }

  /** True while the client leaves so much unread that QoS 1/2 messages wait in the session queue. */
  get congested(): boolean {
    return this.stream.writableLength >= this.writeHighWaterMark;
  }

  /** The write buffer emptied ('drain'): send what waited in the session queue. */
  writeDrained(): void {
    const session = this.session;
    if (this.state !== CONNECTED || !session || session.connection !== this) return;
    session.drain();
    session.checkRecovered();
  }

  /** Write bytes, batching every write of this tick into one (cork until the next tick). */
  write(buffer: Buffer): void {
    if (!this.writable) return;
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(uncork, this);
    }
    this.stream.write(buffer);
  }

  private writeRaw(buffer: Buffer): void {
    if (this.writable) this.stream.write(buffer);
  }

  /** CONNACK (MQTT 3.1.1: `reasonCode` is the return code and properties are ignored). */
  sendConnack(sessionPresent: boolean, reasonCode: number, properties: ConnackProperties | undefined): void {
    this.write(encodeConnack(this.version5, sessionPresent, reasonCode, properties, this.maximumPacketSize));
  }

  sendSuback(packetId: number, codes: readonly number[]): void {
    this.write(encodeSuback(packetId, codes, this.version5));
  }

  sendUnsuback(packetId: number, codes: readonly number[]): void {
    this.write(encodeUnsuback(packetId, codes, this.version5));
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
  fits(
    message: Message,
    qos: number,
    expirySeconds: number,
    subscriptionIds: readonly number[] | undefined,
  ): boolean {
    const limit = this.maximumPacketSize;
    if (limit === 0) return true;
    return publishPacketSize(message, qos, this.version5, expirySeconds, subscriptionIds) <= limit;
  }

  /** Send a QoS 0 copy of a message (dropped when expired, too large, or the client does not read). */
  sendQos0(message: Message, retain: boolean, subscriptionIds: number[] | undefined): void {
    if (this.state !== CONNECTED) return;
    let expiry = -1;
    if (message.expiresAt !== 0) {
      expiry = message.remainingExpiry(Date.now());
      if (expiry === 0) return;
    }
    if (this.stream.writableLength >= this.broker.settings.maximumQueuedBytes) {
      this.session?.drop(message, 'write-buffer');
      return;
    }
    if (!this.fits(message, 0, expiry, subscriptionIds)) return;
    if (subscriptionIds !== undefined) {
      this.writePublish(message, 0, retain, false, 0, expiry, subscriptionIds);
      return;
    }
    // The same header serves every subscriber with the same protocol version, retain flag and expiry.
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

  /** Encode and write a PUBLISH (the caller checked expiry and size). */
  writePublish(
    message: Message,
    qos: QoS,
    retain: boolean,
    dup: boolean,
    packetId: number,
    expirySeconds: number,
    subscriptionIds: readonly number[] | undefined,
  ): void {
    this.write(
      encodePublishHeader(message, qos, dup, retain, packetId, this.version5, expirySeconds, subscriptionIds),
    );
    if (message.payload.length > 0) this.write(message.payload);
  }
}
