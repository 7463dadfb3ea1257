// Connecting an MQTT.js client with MQTT 5 defaults, and the small connection wrapper the rest of the SDK
// builds on: CONNACK facts, PUBACK reason codes, SUBACK checks and one message dispatcher per client.
// Runtime-neutral: no `node:*` imports, no Buffer in public signatures.
import mqtt from 'mqtt';
import type {
  IClientOptions,
  IClientPublishOptions,
  IClientSubscribeOptions,
  IConnackPacket,
  IPublishPacket,
  ISubscriptionMap,
  MqttClient,
  Packet,
} from 'mqtt';
import { nanoid } from 'nanoid';
import { MqttAgentsError, abortError } from './errors.js';
import { createLogger, debugEnabled } from './logger.js';
import type { Logger } from './logger.js';
import type { UserProperties } from './mqtt-properties.js';
import { matchTopicFilter } from './topic-filter.js';

/** MQTT quality of service level. */
export type MqttQoS = 0 | 1 | 2;

/** MQTT 5 PUBLISH properties as this SDK reads and writes them (binary values are `Uint8Array`). */
export interface MqttPublishProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  topicAlias?: number;
  responseTopic?: string;
  correlationData?: Uint8Array;
  userProperties?: UserProperties;
  subscriptionIdentifier?: number | number[];
  contentType?: string;
}

/** One application message received on the connection. */
export interface MqttMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: MqttQoS;
  readonly retain: boolean;
  readonly dup: boolean;
  /** Always an object (empty when the PUBLISH carried no properties). */
  readonly properties: MqttPublishProperties;
}

/** Called for every message whose topic matches the handler's filter. Errors are logged, never rethrown. */
export type MqttMessageHandler = (message: MqttMessage) => void | Promise<void>;

/**
 * What the broker said in its latest CONNACK, with MQTT 5 defaults filled in for absent properties
 * (absent Retain / Wildcard / Shared / Subscription Identifier Available means available).
 */
export interface ConnackInfo {
  readonly reasonCode: number;
  readonly sessionPresent: boolean;
  /** The client identifier in use: the broker-assigned one when the client sent an empty id. */
  readonly clientId: string;
  readonly assignedClientIdentifier: string | undefined;
  /** Largest packet the broker accepts, in bytes; `undefined` means no limit beyond the protocol's. */
  readonly maximumPacketSize: number | undefined;
  /** Topic aliases the broker accepts from us; 0 when absent. */
  readonly topicAliasMaximum: number;
  /** QoS 1 and 2 publishes the broker accepts in flight from us; 65535 when absent. */
  readonly receiveMaximum: number;
  readonly maximumQoS: MqttQoS;
  readonly retainAvailable: boolean;
  readonly wildcardSubscriptionAvailable: boolean;
  readonly sharedSubscriptionAvailable: boolean;
  readonly subscriptionIdentifiersAvailable: boolean;
  /** Keep alive the broker imposes, in seconds, when it overrides ours. */
  readonly serverKeepAlive: number | undefined;
  readonly sessionExpiryInterval: number | undefined;
  readonly responseInformation: string | undefined;
  readonly serverReference: string | undefined;
  readonly reasonString: string | undefined;
  readonly userProperties: Readonly<UserProperties>;
}

/** Advisory outcome of a publish. `noMatchingSubscribers` (PUBACK 0x10) is information, never a failure. */
export interface PublishResult {
  /** PUBACK (QoS 1) or PUBREC (QoS 2) reason code; `undefined` for QoS 0, which has no acknowledgement. */
  readonly reasonCode: number | undefined;
  readonly noMatchingSubscribers: boolean;
}

export interface MqttPublishOptions {
  /** Default 1. */
  qos?: MqttQoS;
  retain?: boolean;
  properties?: MqttPublishProperties;
}

export interface MqttSubscribeOptions {
  /** Maximum QoS requested for every filter of the call; default 1. */
  qos?: MqttQoS;
  noLocal?: boolean;
  retainAsPublished?: boolean;
  retainHandling?: 0 | 1 | 2;
  subscriptionIdentifier?: number;
  userProperties?: UserProperties;
}

/** The broker's answer for one filter of a SUBSCRIBE: the granted QoS (0-2) or a failure code (>= 0x80). */
export interface SubscriptionGrant {
  readonly filter: string;
  readonly reasonCode: number;
}

/** The MQTT 5 will message, published by the broker when the connection ends without DISCONNECT. */
export interface MqttWill {
  topic: string;
  payload: Uint8Array | string;
  qos?: MqttQoS;
  retain?: boolean;
  properties?: {
    willDelayInterval?: number;
    payloadFormatIndicator?: boolean;
    messageExpiryInterval?: number;
    contentType?: string;
    responseTopic?: string;
    correlationData?: Uint8Array;
    userProperties?: UserProperties;
  };
}

interface CommonConnectOptions {
  /** How long to wait for the first CONNACK, in ms. Default 10 000. */
  connectTimeoutMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
}

/** Open a new MQTT 5 connection. The connection owns the client and ends it on `close()`. */
export interface ConnectMqttUrlOptions extends CommonConnectOptions {
  /** `mqtt://`, `mqtts://`, `ws://` or `wss://` broker URL. */
  url: string;
  /** Default `mqtt-agents-<random>`; pass `''` to let the broker assign one (see `ConnackInfo.clientId`). */
  clientId?: string;
  /** Clean Start; default true. */
  clean?: boolean;
  /** Seconds the broker keeps the session after a disconnect; default 0. */
  sessionExpiryInterval?: number;
  /** Keep alive in seconds; default 60. */
  keepalive?: number;
  /** Delay between reconnect attempts after the first connect succeeded, in ms; 0 disables. Default 1 000. */
  reconnectPeriodMs?: number;
  username?: string;
  password?: string | Uint8Array;
  will?: MqttWill;
  /** User properties on CONNECT. */
  userProperties?: UserProperties;
  /** Any other MQTT.js option (TLS, WebSocket options, CONNECT properties); the options above win. */
  mqttOptions?: IClientOptions;
}

/** Adopt a client you created. `protocolVersion` must be 5. */
export interface AdoptMqttClientOptions extends CommonConnectOptions {
  client: MqttClient;
  /** End the client on `close()` and when the first connect fails. Default false: the client stays yours. */
  closeClient?: boolean;
}

export type ConnectMqttOptions = ConnectMqttUrlOptions | AdoptMqttClientOptions;

export interface ConnectionDropInfo {
  /** True when MQTT.js will reconnect by itself (reconnect period > 0). */
  readonly willReconnect: boolean;
  readonly error: Error | undefined;
}

export interface MqttConnectionEvents {
  /** A (re)connect succeeded; `connection.connack` already holds this CONNACK. */
  'connection-open': (connack: ConnackInfo) => void;
  /** The network connection went away; the connection is not closed and may come back. */
  'connection-drop': (info: ConnectionDropInfo) => void;
  /** The connection is closed for good (`close()` or the client was ended). Fired once. */
  'connection-close': () => void;
}

/** One MQTT 5 connection shared by every consumer in the process (request/reply, MCP, A2A, discovery). */
export interface MqttConnection {
  readonly client: MqttClient;
  /** The latest CONNACK; updated on every reconnect. */
  readonly connack: ConnackInfo;
  readonly connected: boolean;
  readonly closed: boolean;
  /**
   * Publish and wait for the acknowledgement of its QoS (none for QoS 0). Rejects with `PUBLISH_FAILED` for
   * a reason code >= 0x80. Aborting stops the wait; a packet already handed to MQTT.js may still go out.
   */
  publish(
    topic: string,
    payload: Uint8Array | string,
    options?: MqttPublishOptions,
    signal?: AbortSignal,
  ): Promise<PublishResult>;
  /** Subscribe and wait for SUBACK; rejects with `SUBSCRIBE_FAILED` naming the first refused filter. */
  subscribe(
    filters: string | readonly string[],
    options?: MqttSubscribeOptions,
    signal?: AbortSignal,
  ): Promise<SubscriptionGrant[]>;
  /** Unsubscribe and wait for UNSUBACK. Reason codes are logged, not thrown. */
  unsubscribe(filters: string | readonly string[], signal?: AbortSignal): Promise<void>;
  /**
   * Receive messages whose topic matches `filter` (a shared subscription matches what its inner filter does).
   * Does not subscribe. Returns the function that removes the handler.
   */
  addMessageHandler(filter: string, handler: MqttMessageHandler): () => void;
  on<E extends keyof MqttConnectionEvents>(event: E, listener: MqttConnectionEvents[E]): () => void;
  /** Idempotent. Ends the client when the connection owns it (sends DISCONNECT, so no will). */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const NO_MATCHING_SUBSCRIBERS = 0x10;

/** Human name of an MQTT 5 reason code, for error messages: `0x87 (Not authorized)`. */
export function describeReasonCode(code: number): string {
  const names = (mqtt as { ReasonCodes?: Record<number, string> }).ReasonCodes;
  const name = names?.[code];
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  return name ? `${hex} (${name})` : hex;
}

/** Read a CONNACK into `ConnackInfo`, applying the MQTT 5 defaults for absent properties. */
export function readConnackInfo(packet: IConnackPacket, requestedClientId: string): ConnackInfo {
  const properties = packet.properties ?? {};
  const maximumQoS = properties.maximumQoS;
  return {
    reasonCode: packet.reasonCode ?? packet.returnCode ?? 0,
    sessionPresent: packet.sessionPresent === true,
    clientId: properties.assignedClientIdentifier ?? requestedClientId,
    assignedClientIdentifier: properties.assignedClientIdentifier,
    maximumPacketSize: properties.maximumPacketSize,
    topicAliasMaximum: properties.topicAliasMaximum ?? 0,
    receiveMaximum: properties.receiveMaximum ?? 65_535,
    maximumQoS: maximumQoS === 0 || maximumQoS === 1 ? maximumQoS : 2,
    retainAvailable: properties.retainAvailable ?? true,
    wildcardSubscriptionAvailable: properties.wildcardSubscriptionAvailable ?? true,
    sharedSubscriptionAvailable: properties.sharedSubscriptionAvailable ?? true,
    subscriptionIdentifiersAvailable: properties.subscriptionIdentifiersAvailable ?? true,
    serverKeepAlive: properties.serverKeepAlive,
    sessionExpiryInterval: properties.sessionExpiryInterval,
    responseInformation: properties.responseInformation,
    serverReference: properties.serverReference,
    reasonString: properties.reasonString,
    userProperties: properties.userProperties ?? {},
  };
}

/**
 * Turn Nagle's algorithm off on a TCP (or TLS) stream. Duck-typed so the root entry stays runtime-neutral:
 * WebSocket streams have no `setNoDelay` and are left alone (the `ws` package sets TCP_NODELAY itself).
 * Returns whether it was set.
 */
export function setTcpNoDelay(stream: unknown): boolean {
  if (typeof stream !== 'object' || stream === null) return false;
  const candidate = stream as { setNoDelay?: unknown };
  if (typeof candidate.setNoDelay !== 'function') return false;
  (candidate.setNoDelay as (noDelay: boolean) => unknown).call(stream, true);
  return true;
}

type BufferFrom = (buffer: ArrayBufferLike, byteOffset: number, length: number) => Uint8Array;

/**
 * MQTT.js and mqtt-packet are typed for Buffer and use Buffer methods on some paths: hand them a zero-copy
 * Buffer view of our bytes where Buffer exists (Node, browser bundles that polyfill it), without importing it.
 */
function toWire<T>(value: T): T {
  if (!(value instanceof Uint8Array)) return value;
  const from = (globalThis as { Buffer?: { from: BufferFrom; isBuffer(value: unknown): boolean } }).Buffer;
  if (!from || from.isBuffer(value)) return value;
  return from.from(value.buffer, value.byteOffset, value.byteLength) as T;
}

function toMessage(packet: IPublishPacket, topic: string, payload: Uint8Array): MqttMessage {
  return {
    topic,
    payload,
    qos: packet.qos,
    retain: packet.retain,
    dup: packet.dup,
    properties: (packet.properties ?? {}) as MqttPublishProperties,
  };
}

function reasonCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function grantedOf(packet: unknown): number[] | undefined {
  const granted = (packet as { granted?: unknown } | null | undefined)?.granted;
  if (!Array.isArray(granted)) return undefined;
  return granted.map((entry: unknown) =>
    typeof entry === 'number' ? entry : Number((entry as { qos?: unknown } | null)?.qos ?? 0x80),
  );
}

type Listener = (...args: never[]) => void;

interface Corkable {
  cork(): void;
  uncork(): void;
}

/** Runs a callback after the I/O callbacks of the current event-loop turn; `undefined` where there is none. */
const scheduleAfterIo = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;

/** MQTT.js's own debug logging, which costs a call with rest arguments per step even when it is off. */
function noMqttJsLog(): void {}

interface Settler {
  reject(error: MqttAgentsError): void;
}

class Connection implements MqttConnection {
  readonly client: MqttClient;
  #connack: ConnackInfo;
  #closed = false;
  #closing: Promise<void> | undefined;
  #up: boolean;
  #lastError: Error | undefined;
  /** Client errors since the connection was last up: a broker that stays away fails every reconnect attempt. */
  #errorsWhileDown = 0;
  readonly #ownsClient: boolean;
  readonly #requestedClientId: string;
  readonly #logger: Logger;
  readonly #handlers = new Set<{ filter: string; handler: MqttMessageHandler }>();
  readonly #listeners = new Map<keyof MqttConnectionEvents, Set<Listener>>();
  readonly #pending = new Set<Settler>();
  /** Reason codes of PUBACK/PUBREC/PUBCOMP packets, keyed by message id, read by the publish callback. */
  readonly #ackReasons = new Map<number, number>();
  readonly #streamsWithNoDelay = new WeakSet<object>();
  readonly #clientListeners: Array<[string, (...args: never[]) => void]> = [];
  /** The stream corked until the end of this event-loop turn, if any (see `#batchWrites`). */
  #corked: Corkable | undefined;
  /** `[...#handlers]`, rebuilt only after a handler was added or removed. */
  #handlerSnapshot: ReadonlyArray<{ filter: string; handler: MqttMessageHandler }> | undefined;

  constructor(client: MqttClient, ownsClient: boolean, requestedClientId: string, logger: Logger) {
    this.client = client;
    this.#ownsClient = ownsClient;
    this.#requestedClientId = requestedClientId;
    this.#logger = logger;
    this.#up = client.connected;
    const previous = (client as unknown as { connackPacket?: IConnackPacket }).connackPacket;
    this.#connack = readConnackInfo(previous ?? { cmd: 'connack', sessionPresent: false }, requestedClientId);
    this.#listen('packetsend', (packet: Packet) => {
      if (packet.cmd === 'connect') this.#applyNoDelay();
      else this.#batchWrites();
    });
    this.#listen('packetreceive', (packet: Packet) => {
      this.#batchWrites();
      this.#onPacket(packet);
    });
    this.#listen('connect', (packet: IConnackPacket) => this.#onConnect(packet));
    this.#listen('close', () => this.#onClose());
    this.#listen('end', () => void this.close());
    this.#listen('error', (error: Error) => {
      this.#lastError = error;
      if (this.#up) {
        this.#logger.warn(`mqtt client error: ${error.message}`);
        return;
      }
      // Offline, MQTT.js reports every failed reconnect attempt: warn about the first, the rest go to debug.
      this.#errorsWhileDown++;
      if (this.#errorsWhileDown === 1) this.#logger.warn(`mqtt client error: ${error.message}`);
      else this.#logger.debug(`mqtt client error (${this.#errorsWhileDown} while offline): ${error.message}`);
    });
    this.#listen('disconnect', (packet: { reasonCode?: number }) => {
      this.#logger.warn(`broker sent DISCONNECT ${describeReasonCode(packet.reasonCode ?? 0)}`);
    });
    this.#listen('message', (topic: string, payload: Uint8Array, packet: IPublishPacket) =>
      this.#dispatch(topic, payload, packet),
    );
    if (client.connected) this.#applyNoDelay();
  }

  get connack(): ConnackInfo {
    return this.#connack;
  }

  get connected(): boolean {
    return !this.#closed && this.client.connected;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #listen<A extends unknown[]>(event: string, listener: (...args: A) => void): void {
    const untyped = listener as unknown as (...args: never[]) => void;
    this.#clientListeners.push([event, untyped]);
    (this.client as unknown as { on(event: string, listener: unknown): void }).on(event, untyped);
  }

  #applyNoDelay(): void {
    const stream = (this.client as { stream?: unknown }).stream;
    if (typeof stream !== 'object' || stream === null || this.#streamsWithNoDelay.has(stream)) return;
    try {
      if (setTcpNoDelay(stream)) this.#streamsWithNoDelay.add(stream);
    } catch (error) {
      this.#logger.debug('could not set TCP_NODELAY', error);
    }
  }

  /**
   * Keep the socket corked until the end of the current event-loop turn, so that every packet this turn
   * produces (the PUBACKs and replies for a whole network read, a burst of requests) leaves in one `writev`
   * instead of one system call per packet (mqtt-packet uncorks after each packet on the next tick). With
   * TCP_NODELAY set, this is the only batching there is. Skipped where the stream cannot cork or there is
   * no `setImmediate` (browsers): a timer would add latency instead of removing system calls.
   */
  #batchWrites(): void {
    if (this.#corked || scheduleAfterIo === undefined) return;
    const stream = (this.client as { stream?: unknown }).stream as Partial<Corkable> | null | undefined;
    if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return;
    const corked = stream as Corkable;
    this.#corked = corked;
    corked.cork();
    scheduleAfterIo(() => {
      this.#corked = undefined;
      corked.uncork();
    });
  }

  #onPacket(packet: Packet): void {
    switch (packet.cmd) {
      case 'connack':
        this.#applyNoDelay();
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
    this.#applyNoDelay();
    this.#up = true;
    this.#lastError = undefined;
    if (this.#errorsWhileDown > 1) {
      this.#logger.info(`connected again after ${this.#errorsWhileDown} connection errors`);
    }
    this.#errorsWhileDown = 0;
    this.#connack = readConnackInfo(packet, this.#requestedClientId);
    if (this.#closed) return;
    this.#logger.debug(
      `connected as '${this.#connack.clientId}' (session present: ${this.#connack.sessionPresent})`,
    );
    this.#emit('connection-open', this.#connack);
  }

  #onClose(): void {
    if (!this.#up || this.#closed) return;
    this.#up = false;
    const options = this.client.options;
    const willReconnect = !this.client.disconnecting && (options.reconnectPeriod ?? 1000) > 0;
    this.#logger.debug(`connection dropped (reconnect: ${willReconnect})`);
    this.#emit('connection-drop', { willReconnect, error: this.#lastError });
  }

  #dispatch(topic: string, payload: Uint8Array, packet: IPublishPacket): void {
    if (this.#closed) return;
    let message: MqttMessage | undefined;
    let matched = false;
    // A snapshot, so a handler added while dispatching does not get this message; removed ones are skipped.
    const handlers = (this.#handlerSnapshot ??= [...this.#handlers]);
    for (const entry of handlers) {
      if (!this.#handlers.has(entry)) continue;
      let matches: boolean;
      try {
        matches = matchTopicFilter(entry.filter, topic);
      } catch {
        matches = false;
      }
      if (!matches) continue;
      matched = true;
      message ??= toMessage(packet, topic, payload);
      try {
        const result = entry.handler(message);
        if (result && typeof (result as Promise<void>).then === 'function') {
          (result as Promise<void>).catch((error: unknown) =>
            this.#logger.error(`message handler for '${entry.filter}' failed`, error),
          );
        }
      } catch (error) {
        this.#logger.error(`message handler for '${entry.filter}' failed`, error);
      }
    }
    if (!matched) this.#logger.debug(`no handler for message on '${topic}'`);
  }

  #emit<E extends keyof MqttConnectionEvents>(event: E, ...args: Parameters<MqttConnectionEvents[E]>): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (listener as (...values: unknown[]) => void)(...args);
      } catch (error) {
        this.#logger.error(`'${event}' listener failed`, error);
      }
    }
  }

  on<E extends keyof MqttConnectionEvents>(event: E, listener: MqttConnectionEvents[E]): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    const entry = listener as unknown as Listener;
    set.add(entry);
    return () => {
      this.#listeners.get(event)?.delete(entry);
    };
  }

  addMessageHandler(filter: string, handler: MqttMessageHandler): () => void {
    const entry = { filter, handler };
    this.#handlers.add(entry);
    this.#handlerSnapshot = undefined;
    return () => {
      if (this.#handlers.delete(entry)) this.#handlerSnapshot = undefined;
    };
  }

  /** Run one MQTT.js call with its callback, honouring the signal and rejecting when the connection closes. */
  #track<T>(
    what: string,
    code: 'PUBLISH_FAILED' | 'SUBSCRIBE_FAILED',
    signal: AbortSignal | undefined,
    start: (resolve: (value: T) => void, reject: (error: MqttAgentsError) => void) => void,
  ): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new MqttAgentsError('CLOSED', `cannot ${what}: the connection is closed`));
    }
    if (signal?.aborted) return Promise.reject(abortError(signal, what));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settler: Settler = {
        reject: (error) => finish(() => reject(error)),
      };
      const onAbort = (): void => finish(() => reject(abortError(signal as AbortSignal, what)));
      const finish = (action: () => void): void => {
        if (settled) return;
        settled = true;
        this.#pending.delete(settler);
        signal?.removeEventListener('abort', onAbort);
        action();
      };
      this.#pending.add(settler);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        start(
          (value) => finish(() => resolve(value)),
          (error) => finish(() => reject(error)),
        );
      } catch (error) {
        finish(() => reject(new MqttAgentsError(code, `${what} failed`, { cause: error })));
      }
    });
  }

  publish(
    topic: string,
    payload: Uint8Array | string,
    options: MqttPublishOptions = {},
    signal?: AbortSignal,
  ): Promise<PublishResult> {
    const qos = options.qos ?? 1;
    const what = `publish to '${topic}'`;
    return this.#track<PublishResult>(what, 'PUBLISH_FAILED', signal, (resolve, reject) => {
      const publishOptions: IClientPublishOptions = { qos, retain: options.retain ?? false };
      if (options.properties) {
        const properties = { ...options.properties };
        if (properties.correlationData) properties.correlationData = toWire(properties.correlationData);
        // mqtt-packet writes an empty user-property set as a broken packet that never completes: drop it.
        if (properties.userProperties && Object.keys(properties.userProperties).length === 0) {
          delete properties.userProperties;
        }
        publishOptions.properties = properties as IClientPublishOptions['properties'];
      }
      this.client.publish(topic, toWire(payload) as string, publishOptions, (error, packet) => {
        if (error) {
          const reasonCode = reasonCodeOf(error);
          const suffix = reasonCode === undefined ? error.message : describeReasonCode(reasonCode);
          reject(
            this.#closed
              ? new MqttAgentsError('CONNECTION_CLOSED', `${what} failed: the connection closed`, {
                  cause: error,
                })
              : new MqttAgentsError('PUBLISH_FAILED', `${what} failed: ${suffix}`, {
                  cause: error,
                  details: { topic, reasonCode },
                }),
          );
          return;
        }
        if (qos === 0) {
          resolve({ reasonCode: undefined, noMatchingSubscribers: false });
          return;
        }
        const messageId = packet?.messageId;
        let reasonCode = 0;
        if (messageId !== undefined) {
          reasonCode = this.#ackReasons.get(messageId) ?? 0;
          this.#ackReasons.delete(messageId);
        }
        if (reasonCode === NO_MATCHING_SUBSCRIBERS) this.#logger.debug(`${what}: no matching subscribers`);
        resolve({ reasonCode, noMatchingSubscribers: reasonCode === NO_MATCHING_SUBSCRIBERS });
      });
    });
  }

  subscribe(
    filters: string | readonly string[],
    options: MqttSubscribeOptions = {},
    signal?: AbortSignal,
  ): Promise<SubscriptionGrant[]> {
    const list = typeof filters === 'string' ? [filters] : [...filters];
    const what = `subscribe to ${list.map((filter) => `'${filter}'`).join(', ')}`;
    if (list.length === 0) return Promise.resolve([]);
    return this.#track<SubscriptionGrant[]>(what, 'SUBSCRIBE_FAILED', signal, (resolve, reject) => {
      const qos = options.qos ?? 1;
      const perFilter: IClientSubscribeOptions = {
        qos,
        nl: options.noLocal ?? false,
        rap: options.retainAsPublished ?? false,
        rh: options.retainHandling ?? 0,
      };
      // `resubscribe: true` makes MQTT.js send SUBSCRIBE even for a filter it believes is already
      // subscribed (after a reconnect with a fresh session it may not be), so SUBACK is always awaited.
      const map = { resubscribe: true } as ISubscriptionMap;
      for (const filter of list) map[filter] = { ...perFilter };
      const properties: NonNullable<IClientSubscribeOptions['properties']> = {};
      if (options.subscriptionIdentifier !== undefined) {
        properties.subscriptionIdentifier = options.subscriptionIdentifier;
      }
      if (options.userProperties) properties.userProperties = options.userProperties;
      const packetOptions: IClientSubscribeOptions = {
        ...perFilter,
        ...(Object.keys(properties).length > 0 ? { properties } : {}),
      };
      this.client.subscribe(map, packetOptions, (error, _granted, packet) => {
        const codes = grantedOf(packet) ?? grantedOf((error as { packet?: unknown } | null)?.packet);
        if (error && !codes) {
          reject(
            this.#closed
              ? new MqttAgentsError('CONNECTION_CLOSED', `${what} failed: the connection closed`, {
                  cause: error,
                })
              : new MqttAgentsError('SUBSCRIBE_FAILED', `${what} failed: ${error.message}`, {
                  cause: error,
                  details: { filters: list },
                }),
          );
          return;
        }
        const grants = list.map((filter, index) => ({ filter, reasonCode: codes?.[index] ?? qos }));
        const refused = grants.find((grant) => grant.reasonCode >= 0x80);
        if (refused) {
          reject(
            new MqttAgentsError(
              'SUBSCRIBE_FAILED',
              `subscribe to '${refused.filter}' refused: ${describeReasonCode(refused.reasonCode)}`,
              {
                cause: error ?? undefined,
                details: { filter: refused.filter, reasonCode: refused.reasonCode, grants },
              },
            ),
          );
          return;
        }
        resolve(grants);
      });
    });
  }

  unsubscribe(filters: string | readonly string[], signal?: AbortSignal): Promise<void> {
    const list = typeof filters === 'string' ? [filters] : [...filters];
    const what = `unsubscribe from ${list.map((filter) => `'${filter}'`).join(', ')}`;
    if (list.length === 0) return Promise.resolve();
    return this.#track<void>(what, 'SUBSCRIBE_FAILED', signal, (resolve, reject) => {
      this.client.unsubscribe(list, {}, (error, packet) => {
        if (error) {
          reject(
            new MqttAgentsError(this.#closed ? 'CONNECTION_CLOSED' : 'SUBSCRIBE_FAILED', `${what} failed`, {
              cause: error,
              details: { filters: list },
            }),
          );
          return;
        }
        const codes = grantedOf(packet) ?? [];
        codes.forEach((code, index) => {
          if (code >= 0x80)
            this.#logger.warn(`unsubscribe from '${list[index]}': ${describeReasonCode(code)}`);
        });
        resolve();
      });
    });
  }

  /** Wait for the first successful connect, failing on the first error instead of reconnecting forever. */
  waitForFirstConnect(
    timeoutMs: number,
    signal: AbortSignal | undefined,
    url: string | undefined,
  ): Promise<void> {
    if (this.client.connected) return Promise.resolve();
    if (this.client.disconnecting || this.client.disconnected) {
      return Promise.reject(
        new MqttAgentsError('CONNECT_FAILED', 'cannot connect: the mqtt client has been ended'),
      );
    }
    return new Promise<void>((resolve, reject) => {
      let lastError: Error | undefined;
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.client.removeListener('connect', onConnect);
        this.client.removeListener('error', onError);
        this.client.removeListener('close', onClose);
        this.client.removeListener('end', onClose);
      };
      const fail = (error: MqttAgentsError): void => {
        cleanup();
        reject(error);
      };
      const failWith = (cause: Error | undefined): void => {
        const reasonCode = reasonCodeOf(cause);
        const networkCode = (cause as { code?: unknown } | undefined)?.code;
        const target = url ? ` to ${url}` : '';
        const why =
          reasonCode !== undefined
            ? `broker refused with ${describeReasonCode(reasonCode)}`
            : (cause?.message ?? 'connection closed before CONNACK');
        fail(
          new MqttAgentsError('CONNECT_FAILED', `connect${target} failed: ${why}`, {
            cause,
            details: {
              ...(url ? { url } : {}),
              ...(reasonCode !== undefined ? { reasonCode } : {}),
              ...(typeof networkCode === 'string' ? { networkCode } : {}),
            },
          }),
        );
      };
      const onConnect = (): void => {
        cleanup();
        resolve();
      };
      const onError = (error: Error): void => {
        lastError = error;
        // A CONNACK refusal carries its reason code; nothing good follows it on this attempt.
        if (reasonCodeOf(error) !== undefined) failWith(error);
      };
      const onClose = (): void => failWith(lastError);
      const onAbort = (): void => fail(abortError(signal as AbortSignal, 'connect'));
      const timer = setTimeout(() => {
        fail(
          new MqttAgentsError(
            'CONNECT_FAILED',
            `connect${url ? ` to ${url}` : ''} timed out after ${timeoutMs} ms`,
            {
              cause: lastError,
              details: { ...(url ? { url } : {}), timeoutMs },
            },
          ),
        );
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.client.on('connect', onConnect);
      this.client.on('error', onError);
      this.client.on('close', onClose);
      this.client.on('end', onClose);
    });
  }

  close(): Promise<void> {
    return (this.#closing ??= this.#finish());
  }

  async #finish(): Promise<void> {
    this.#closed = true;
    this.#up = false;
    const closedError = new MqttAgentsError('CONNECTION_CLOSED', 'the connection closed');
    for (const settler of [...this.#pending]) settler.reject(closedError);
    this.#emit('connection-close');
    this.#listeners.clear();
    this.#handlers.clear();
    this.#handlerSnapshot = undefined;
    if (this.#ownsClient) await this.#endClient();
    for (const [event, listener] of this.#clientListeners) {
      if (event !== 'error' || !this.#ownsClient)
        this.client.removeListener(event as 'close', listener as () => void);
    }
    this.#clientListeners.length = 0;
    this.#ackReasons.clear();
  }

  async #endClient(): Promise<void> {
    const client = this.client;
    if (client.disconnected) return;
    // A graceful end (DISCONNECT, so no will) waits for in-flight QoS 1/2 packets to be acknowledged,
    // which never happens on a dead link: force it when we are offline or something is still in flight.
    const force = !client.connected || Object.keys(client.outgoing).length > 0;
    await new Promise<void>((resolve) => client.end(force, {}, () => resolve()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function buildClientOptions(
  options: ConnectMqttUrlOptions,
  clientId: string,
  timeoutMs: number,
): IClientOptions {
  const base = options.mqttOptions ?? {};
  const properties: NonNullable<IClientOptions['properties']> = { ...base.properties };
  if (options.sessionExpiryInterval !== undefined)
    properties.sessionExpiryInterval = options.sessionExpiryInterval;
  if (options.userProperties) properties.userProperties = options.userProperties;
  const clientOptions: IClientOptions = {
    ...base,
    protocolVersion: 5,
    clientId,
    clean: options.clean ?? base.clean ?? true,
    keepalive: options.keepalive ?? base.keepalive ?? 60,
    reconnectPeriod: options.reconnectPeriodMs ?? base.reconnectPeriod ?? 1000,
    connectTimeout: timeoutMs,
    manualConnect: true,
    properties,
  };
  if (base.log === undefined && !debugEnabled('mqttjs:client')) clientOptions.log = noMqttJsLog;
  if (options.username !== undefined) clientOptions.username = options.username;
  if (options.password !== undefined) clientOptions.password = toWire(options.password) as string;
  if (options.will) {
    const will = { ...options.will, payload: toWire(options.will.payload) };
    if (will.properties?.correlationData) {
      will.properties = { ...will.properties, correlationData: toWire(will.properties.correlationData) };
    }
    clientOptions.will = will as unknown as IClientOptions['will'];
  }
  return clientOptions;
}

/**
 * Connect with MQTT 5 defaults (clean start, session expiry 0, keep alive 60 s), or adopt a client you pass in,
 * and wait for the first CONNACK. The first attempt fails with `CONNECT_FAILED` (CONNACK reason code in
 * `details.reasonCode`) instead of reconnecting forever; after it succeeds, MQTT.js reconnects on its own and
 * `connection.connack` follows every reconnect. TCP_NODELAY is set on every socket.
 */
export async function connectMqtt(options: ConnectMqttOptions): Promise<MqttConnection> {
  const logger = createLogger('mqtt-agents:core', options.logger);
  if (options.signal?.aborted) throw abortError(options.signal, 'connect');
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;

  if ('client' in options && options.client) {
    const client = options.client;
    if (client.options.protocolVersion !== 5) {
      throw new MqttAgentsError('UNSUPPORTED', 'the mqtt client must use MQTT 5 (protocolVersion: 5)', {
        details: { protocolVersion: client.options.protocolVersion },
      });
    }
    const owns = options.closeClient === true;
    const connection = new Connection(client, owns, client.options.clientId ?? '', logger);
    try {
      await connection.waitForFirstConnect(timeoutMs, options.signal, undefined);
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }

  const urlOptions = options as ConnectMqttUrlOptions;
  if (typeof urlOptions.url !== 'string' || urlOptions.url === '') {
    throw new MqttAgentsError('CONNECT_FAILED', 'connect needs a broker url or an mqtt client');
  }
  const clientId = urlOptions.clientId ?? `mqtt-agents-${nanoid(12)}`;
  let client: MqttClient;
  try {
    client = mqtt.connect(urlOptions.url, buildClientOptions(urlOptions, clientId, timeoutMs));
  } catch (error) {
    throw new MqttAgentsError(
      'CONNECT_FAILED',
      `connect to ${urlOptions.url} failed: ${(error as Error).message}`,
      {
        cause: error,
        details: { url: urlOptions.url },
      },
    );
  }
  const connection = new Connection(client, true, clientId, logger);
  client.connect();
  try {
    await connection.waitForFirstConnect(timeoutMs, options.signal, urlOptions.url);
  } catch (error) {
    await connection.close();
    throw error;
  }
  return connection;
}
