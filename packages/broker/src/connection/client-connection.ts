/**
 * One client connection: parses packets off a duplex stream, runs them through the packet handlers one
 * at a time (a handler may wait for an async hook; later packets wait their turn), writes through its
 * PacketWriter, and watches the connect timeout, the packet read timeout and keep alive.
 */
import type { Duplex } from 'node:stream';
import type { Packet } from 'mqtt-packet';
import type { ConnectionControl, HandlerContext } from '../handlers/context.js';
import { dispatchPacket } from '../handlers/index.js';
import { shown } from '../logging.js';
import type { Message } from '../message.js';
import type { PublishFits, PublishWriter } from '../session/outbound-message.js';
import type { SessionClient } from '../session/session-lifecycle.js';
import type { Session } from '../session/session.js';
import type {
  ClientInfo,
  DisconnectCause,
  PeerCertificate,
  ProtocolVersion,
  TransportKind,
} from '../types.js';
import type { Will } from '../will.js';
import { ClientState, ConnectionStates, type ConnectionState } from './client-state.js';
import type { ConnectionHost, ManagedConnection } from './connection-host.js';
import { PacketReader } from './packet-reader.js';
import { bindStream } from './stream-binding.js';
import { PacketWriter } from './packet-writer.js';

const { CONNECTING, CONNECTED, CLOSED } = ConnectionStates;

/** How long a closing connection may take to flush and let the peer close before it is destroyed. */
const CLOSE_GRACE_MS = 1000;

/** mqtt-packet parse errors that MQTT 5 classes as Protocol Error (0x82) rather than Malformed Packet. */
const PROTOCOL_ERROR_MESSAGES = /^Invalid retain handling|^Invalid subscribe QoS/;

function destroyStream(stream: Duplex): void {
  stream.destroy();
}

export interface ClientConnectionOptions {
  readonly transport: TransportKind;
  readonly remoteAddress: string | undefined;
  readonly peerCertificate: PeerCertificate | undefined;
}

export class ClientConnection implements ConnectionControl, SessionClient, ManagedConnection {
  readonly fits: PublishFits;
  readonly writePublish: PublishWriter;
  readonly #host: ConnectionHost;
  readonly #stream: Duplex;
  readonly #reader: PacketReader;
  readonly #client: ClientState;
  readonly #writer: PacketWriter;
  readonly #context: HandlerContext;
  #state: ConnectionState = CONNECTING;
  #keepAliveMs = 0;
  #lastActivity = 0;
  #timer: NodeJS.Timeout | undefined = undefined;
  #busy = false;
  #backlog: Packet[] | undefined = undefined;
  #finished = false;

  constructor(host: ConnectionHost, stream: Duplex, options: ClientConnectionOptions) {
    this.#host = host;
    this.#stream = stream;
    this.#client = new ClientState(options.transport, options.remoteAddress, options.peerCertificate);
    this.#writer = new PacketWriter(stream);
    this.fits = this.#writer.fits;
    this.writePublish = this.#writer.writePublish;
    this.#reader = new PacketReader(host.settings, {
      packet: (packet) => this.#receivePacket(packet),
      malformed: (error, protocolVersion) => this.#malformed(error, protocolVersion),
      tooLarge: () => this.#packetTooLarge(),
      readTimeout: (timeout) => this.#readTimedOut(timeout),
      busy: () => this.#busy,
      closed: () => this.#state === CLOSED,
    });
    this.#context = {
      connection: this,
      client: this.#client,
      writer: this.#writer,
      settings: host.settings,
      hooks: host.hooks,
      logger: host.logger,
      router: host.router,
      events: host.events,
      sessions: {
        assignClientId: () => host.sessions.assignClientId(),
        quotaReached: (clientId) => host.sessions.quotaReached(clientId),
        open: (cleanStart, expiryInterval) => host.sessions.open(this, cleanStart, expiryInterval),
      },
    };
    bindStream(stream, this);
    this.#timer = setTimeout(ClientConnection.#connectTimedOut, host.settings.connectTimeout, this);
    this.#timer.unref();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#state === CONNECTED;
  }

  get clientId(): string {
    return this.#client.clientId;
  }

  get info(): ClientInfo | undefined {
    return this.#client.info;
  }

  get session(): Session | undefined {
    return this.#client.session;
  }

  // ---- inbound -------------------------------------------------------------------------------------

  receiveData(chunk: Buffer): void {
    if (this.#state === CLOSED) return;
    const now = Date.now();
    this.#lastActivity = now;
    this.#reader.read(chunk, now);
  }

  #readTimedOut(timeout: number): void {
    const reason = `packet not complete after ${timeout} ms`;
    this.#host.events.reportError(this.info, new Error(reason));
    if (this.#state === CONNECTING) this.close('read-timeout', undefined);
    else this.disconnect(0x8d, 'read-timeout', reason);
  }

  #receivePacket(packet: Packet): void {
    if (this.#busy) {
      (this.#backlog ??= []).push(packet);
      return;
    }
    this.#process(packet);
  }

  #process(packet: Packet): void {
    let pending: void | Promise<void>;
    try {
      pending = dispatchPacket(this.#context, packet);
    } catch (error) {
      this.#internalError(error);
      return;
    }
    if (pending) {
      this.#busy = true;
      this.#stream.pause();
      pending.then(
        () => this.#processed(),
        (error: unknown) => this.#internalError(error),
      );
    }
  }

  #processed(): void {
    this.#busy = false;
    while (!this.#busy && this.#state !== CLOSED && this.#backlog && this.#backlog.length > 0) {
      this.#process(this.#backlog.shift() as Packet);
    }
    if (!this.#busy && this.#state !== CLOSED) this.#stream.resume();
  }

  #malformed(error: Error, protocolVersion: number | undefined): void {
    this.#host.events.reportError(this.info, new Error(`malformed packet: ${error.message}`));
    if (this.#state === CONNECTING) {
      if (error.message === 'Invalid protocol version') {
        // Unknown protocol level: answer in the MQTT 3.1.1 format every version can read (as Mosquitto).
        this.#writer.writeRaw(Buffer.from([0x20, 0x02, 0x00, 0x01]));
        this.close('protocol-error', 0x84);
        return;
      }
      if (protocolVersion === 5) {
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

  #packetTooLarge(): void {
    this.#host.events.reportError(this.info, new Error('packet exceeds the maximum packet size'));
    if (this.#state === CONNECTING) this.refuseConnect(0x95, 'packet too large');
    else this.disconnect(0x95, 'protocol-error', 'packet too large');
  }

  #internalError(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    this.#host.logger.error(
      `mqtt-agents:broker: error handling a packet from '${shown(this.clientId)}'`,
      failure,
    );
    this.#host.events.reportError(this.info, failure);
    if (this.#state === CONNECTING) this.refuseConnect(0x80, 'internal error');
    else this.disconnect(0x80, 'protocol-error', 'internal error');
  }

  streamError(error: Error): void {
    this.#host.logger.debug(
      `mqtt-agents:broker: connection error (${this.clientId ? shown(this.clientId) : 'not connected'})`,
      error,
    );
  }

  protocolError(reasonCode: number, reason: string): void {
    if (this.#state === CLOSED) return;
    this.#host.events.reportError(this.info, new Error(reason));
    if (this.#state === CONNECTING) this.refuseConnect(reasonCode, reason);
    else this.disconnect(reasonCode, 'protocol-error', reason);
  }

  // ---- lifecycle ----------------------------------------------------------------------------------

  setProtocolVersion(version: ProtocolVersion): void {
    this.#client.protocolVersion = version;
    this.#writer.version5 = version === 5;
  }

  setClientLimits(receiveMaximum: number, maximumPacketSize: number): void {
    this.#writer.receiveMaximum = receiveMaximum;
    this.#writer.maximumPacketSize = maximumPacketSize;
  }

  refuseConnect(reasonCode: number, reason?: string): void {
    if (this.#state !== CONNECTING) return;
    this.#writer.sendRefusal(reasonCode, reason);
    this.close('protocol-error', reasonCode);
  }

  accept(keepAlive: number): void {
    this.#state = CONNECTED;
    this.#clearTimer();
    if (keepAlive > 0) {
      this.#keepAliveMs = keepAlive * 1500;
      this.#lastActivity = Date.now();
      this.#timer = setTimeout(ClientConnection.#checkKeepAlive, this.#keepAliveMs, this);
      this.#timer.unref();
    }
  }

  static #checkKeepAlive(connection: ClientConnection): void {
    connection.#timer = undefined;
    if (connection.#state !== CONNECTED) return;
    const idle = Date.now() - connection.#lastActivity;
    if (idle >= connection.#keepAliveMs) {
      connection.disconnect(0x8d, 'keep-alive-timeout', 'keep alive timeout');
      return;
    }
    connection.#timer = setTimeout(
      ClientConnection.#checkKeepAlive,
      connection.#keepAliveMs - idle,
      connection,
    );
    connection.#timer.unref();
  }

  static #connectTimedOut(connection: ClientConnection): void {
    connection.#timer = undefined;
    if (connection.#state === CONNECTING && !connection.#busy) connection.close('protocol-error', undefined);
  }

  #clearTimer(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Send DISCONNECT (MQTT 5, when connected) and close. */
  disconnect(reasonCode: number, cause: DisconnectCause, reason?: string): void {
    if (this.#state === CLOSED) return;
    if (this.#state === CONNECTED && this.#writer.version5) this.#writer.sendDisconnect(reasonCode, reason);
    this.close(cause, reasonCode);
  }

  attach(session: Session): void {
    this.#client.session = session;
  }

  takeWill(): Will | undefined {
    const will = this.#client.will;
    this.#client.will = undefined;
    return will;
  }

  takeOver(sessionEnds: boolean): Will | undefined {
    const will = this.takeWill();
    const session = this.#client.session;
    if (session && session.connection === this) session.connection = undefined;
    this.disconnect(0x8e, 'session-takeover', 'session taken over');
    // The session continues with the new connection: a delayed will is cancelled by that reconnect.
    return will && (sessionEnds || will.delay === 0) ? will : undefined;
  }

  /** Stop processing, let the broker handle the end of the session's connection, and close the stream. */
  close(cause: DisconnectCause, reasonCode: number | undefined): void {
    if (this.#state === CLOSED) return;
    const wasConnected = this.#state === CONNECTED;
    this.#state = CLOSED;
    this.#clearTimer();
    this.#reader.stop();
    this.#backlog = undefined;
    if (wasConnected) {
      this.#host.sessions.connectionEnded(this);
      const info = this.info;
      if (info) this.#host.events.clientDisconnected(info, cause, reasonCode);
    }
    if (this.#finished) return;
    const stream = this.#stream;
    if (!stream.writableEnded) stream.end();
    // Give the peer a moment to read what was sent and close its side; then destroy.
    this.#timer = setTimeout(destroyStream, CLOSE_GRACE_MS, stream);
    this.#timer.unref();
  }

  /** The stream closed for good (both ways). */
  streamClosed(): void {
    this.#finished = true;
    this.#writer.finish();
    this.close('connection-lost', undefined);
    this.#clearTimer();
    this.#reader.detach();
    this.#host.connectionFinished(this);
  }

  // ---- outbound (the session writes through these) --------------------------------------------------

  get receiveMaximum(): number {
    return this.#writer.receiveMaximum;
  }

  get congested(): boolean {
    return this.#writer.congested;
  }

  get unreadBytes(): number {
    return this.#writer.unreadBytes;
  }

  /** The write buffer emptied ('drain'): send what waited in the session queue. */
  writeDrained(): void {
    const session = this.#client.session;
    if (this.#state !== CONNECTED || !session || session.connection !== this) return;
    session.drain();
    session.checkRecovered();
  }

  /** Send a QoS 0 copy of a message (dropped when expired, too large, or the client does not read). */
  sendQos0(message: Message, retain: boolean, subscriptionIds: number[] | undefined): void {
    if (this.#state !== CONNECTED) return;
    let expiry = -1;
    if (message.expiresAt !== 0) {
      expiry = message.remainingExpiry(Date.now());
      if (expiry === 0) return;
    }
    const writer = this.#writer;
    if (writer.unreadBytes >= this.#host.settings.maximumQueuedBytes) {
      this.#client.session?.drop(message, 'write-buffer');
      return;
    }
    if (!writer.fits(message, 0, expiry, subscriptionIds)) return;
    writer.writeQos0(message, retain, expiry, subscriptionIds);
  }

  writePubrel(packetId: number): void {
    this.#writer.writePubrel(packetId);
  }
}
