// The bridge from one MQTT.js client's events to the connection: CONNACK facts, up/down state, drop and
// reconnect logging, PUBACK/PUBREC reason codes, and received messages.
import type { IConnackPacket, IPublishPacket, MqttClient, Packet } from 'mqtt';
import type { Logger } from '../logger.js';
import { readConnackInfo } from './connack.js';
import { describeReasonCode } from './reason-codes.js';
import type { SocketTuning } from './socket-tuning.js';
import type { ConnackInfo, ConnectionDropInfo } from './types.js';

export interface ClientBridgeHooks {
  /** True once the connection is closed for good: no more events. */
  isClosed(): boolean;
  onOpen(connack: ConnackInfo): void;
  onDrop(info: ConnectionDropInfo): void;
  /** The client was ended (by us or directly). */
  onEnd(): void;
  onMessage(topic: string, payload: Uint8Array, packet: IPublishPacket): void;
}

export class ClientBridge {
  readonly #client: MqttClient;
  readonly #requestedClientId: string;
  readonly #logger: Logger;
  readonly #tuning: SocketTuning;
  readonly #hooks: ClientBridgeHooks;
  readonly #listeners: Array<[string, (...args: never[]) => void]> = [];
  /** Reason codes of PUBACK/PUBREC/PUBCOMP packets, keyed by message id, read by the publish callback. */
  readonly #ackReasons = new Map<number, number>();
  #connack: ConnackInfo;
  #up: boolean;
  #lastError: Error | undefined;
  /** Client errors since the connection was last up: a broker that stays away fails every reconnect attempt. */
  #errorsWhileDown = 0;

  constructor(
    client: MqttClient,
    requestedClientId: string,
    logger: Logger,
    tuning: SocketTuning,
    hooks: ClientBridgeHooks,
  ) {
    this.#client = client;
    this.#requestedClientId = requestedClientId;
    this.#logger = logger;
    this.#tuning = tuning;
    this.#hooks = hooks;
    this.#up = client.connected;
    const previous = (client as unknown as { connackPacket?: IConnackPacket }).connackPacket;
    this.#connack = readConnackInfo(previous ?? { cmd: 'connack', sessionPresent: false }, requestedClientId);
    this.#listen('packetsend', (packet: Packet) => {
      if (packet.cmd === 'connect') tuning.applyNoDelay();
      else tuning.batchWrites();
    });
    this.#listen('packetreceive', (packet: Packet) => {
      tuning.batchWrites();
      this.#onPacket(packet);
    });
    this.#listen('connect', (packet: IConnackPacket) => this.#onConnect(packet));
    this.#listen('close', () => this.#onClose());
    this.#listen('end', () => hooks.onEnd());
    this.#listen('error', (error: Error) => this.#onError(error));
    this.#listen('disconnect', (packet: { reasonCode?: number }) => {
      this.#logger.warn(`broker sent DISCONNECT ${describeReasonCode(packet.reasonCode ?? 0)}`);
    });
    this.#listen('message', (topic: string, payload: Uint8Array, packet: IPublishPacket) => {
      if (!hooks.isClosed()) hooks.onMessage(topic, payload, packet);
    });
    if (client.connected) tuning.applyNoDelay();
  }

  /** The latest CONNACK. */
  get connack(): ConnackInfo {
    return this.#connack;
  }

  /** The reason code the broker acknowledged `messageId` with (0 when none was recorded); forgets it. */
  takeAckReason(messageId: number | undefined): number {
    if (messageId === undefined) return 0;
    const reasonCode = this.#ackReasons.get(messageId) ?? 0;
    this.#ackReasons.delete(messageId);
    return reasonCode;
  }

  /** The connection is closed: no drop event follows. */
  markDown(): void {
    this.#up = false;
  }

  /**
   * Remove our listeners from the client. `keepErrorListener` leaves the `error` one on a client we ended
   * ourselves, so a late socket error cannot become an unhandled `error` event.
   */
  detach(keepErrorListener: boolean): void {
    for (const [event, listener] of this.#listeners) {
      if (event !== 'error' || !keepErrorListener)
        this.#client.removeListener(event as 'close', listener as () => void);
    }
    this.#listeners.length = 0;
    this.#ackReasons.clear();
  }

  #listen<A extends unknown[]>(event: string, listener: (...args: A) => void): void {
    const untyped = listener as unknown as (...args: never[]) => void;
    this.#listeners.push([event, untyped]);
    (this.#client as unknown as { on(event: string, listener: unknown): void }).on(event, untyped);
  }

  #onError(error: Error): void {
    this.#lastError = error;
    if (this.#up) {
      this.#logger.warn(`mqtt client error: ${error.message}`);
      return;
    }
    // Offline, MQTT.js reports every failed reconnect attempt: warn about the first, the rest go to debug.
    this.#errorsWhileDown++;
    if (this.#errorsWhileDown === 1) this.#logger.warn(`mqtt client error: ${error.message}`);
    else this.#logger.debug(`mqtt client error (${this.#errorsWhileDown} while offline): ${error.message}`);
  }

  #onPacket(packet: Packet): void {
    switch (packet.cmd) {
      case 'connack':
        this.#tuning.applyNoDelay();
        break;
      case 'puback':
      case 'pubrec':
        if (packet.messageId !== undefined) this.#ackReasons.set(packet.messageId, packet.reasonCode ?? 0);
        break;
      case 'pubcomp':
        if (packet.messageId !== undefined && (packet.reasonCode ?? 0) >= 0x80) {
          this.#ackReasons.set(packet.messageId, packet.reasonCode ?? 0);
        }
        break;
      default:
        break;
    }
  }

  #onConnect(packet: IConnackPacket): void {
    this.#tuning.applyNoDelay();
    this.#up = true;
    this.#lastError = undefined;
    if (this.#errorsWhileDown > 1) {
      this.#logger.info(`connected again after ${this.#errorsWhileDown} connection errors`);
    }
    this.#errorsWhileDown = 0;
    this.#connack = readConnackInfo(packet, this.#requestedClientId);
    if (this.#hooks.isClosed()) return;
    this.#logger.debug(
      `connected as '${this.#connack.clientId}' (session present: ${this.#connack.sessionPresent})`,
    );
    this.#hooks.onOpen(this.#connack);
  }

  #onClose(): void {
    if (!this.#up || this.#hooks.isClosed()) return;
    this.#up = false;
    const options = this.#client.options;
    const willReconnect = !this.#client.disconnecting && (options.reconnectPeriod ?? 1000) > 0;
    this.#logger.debug(`connection dropped (reconnect: ${willReconnect})`);
    this.#hooks.onDrop({ willReconnect, error: this.#lastError });
  }
}
