// The public types of one MQTT 5 connection: messages, CONNACK facts, publish/subscribe options and
// results, connect options, events and the `MqttConnection` interface itself. Types only.
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from '../logger.js';
import type { UserProperties } from '../mqtt-properties.js';

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

/** How `MqttConnection.publish` sends one message. */
export interface MqttPublishOptions {
  /** QoS of the publish; default 1. */
  qos?: MqttQoS;
  /** Ask the broker to keep the message as the topic's retained message; default false. */
  retain?: boolean;
  /** MQTT 5 PUBLISH properties (content type, response topic, correlation data, user properties, ...). */
  properties?: MqttPublishProperties;
  /** Stops waiting for the acknowledgement; a packet already handed to MQTT.js may still go out. */
  signal?: AbortSignal;
}

/** The MQTT 5 subscription options `MqttConnection.subscribe` requests for every filter of one call. */
export interface MqttSubscribeOptions {
  /** Maximum QoS requested for every filter of the call; default 1. */
  qos?: MqttQoS;
  /** Do not deliver messages this connection published itself; default false. */
  noLocal?: boolean;
  /** Keep the RETAIN flag of forwarded messages as published; default false. */
  retainAsPublished?: boolean;
  /** 0 (default): send retained messages on subscribe; 1: only for a new subscription; 2: never. */
  retainHandling?: 0 | 1 | 2;
  /** Subscription Identifier the broker attaches to matching messages; none by default. */
  subscriptionIdentifier?: number;
  /** User properties on the SUBSCRIBE packet. */
  userProperties?: UserProperties;
  /** Stops waiting for SUBACK. */
  signal?: AbortSignal;
}

/** How `MqttConnection.unsubscribe` waits. */
export interface MqttUnsubscribeOptions {
  /** Stops waiting for UNSUBACK. */
  signal?: AbortSignal;
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
  /** Where the connection logs; default: silent unless `DEBUG` enables `mqtt-agents:core`. */
  logger?: Logger;
  /** Aborts the wait for the first CONNACK (and closes what was opened). */
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

/** What `connectMqtt` takes: a broker URL to connect to, or an MQTT.js client to adopt. */
export type ConnectMqttOptions = ConnectMqttUrlOptions | AdoptMqttClientOptions;

/** What the `connection-drop` event tells about a lost network connection. */
export interface ConnectionDropInfo {
  /** True when MQTT.js will reconnect by itself (reconnect period > 0). */
  readonly willReconnect: boolean;
  /** The error that ended the network connection, when MQTT.js reported one. */
  readonly error: Error | undefined;
}

/** The events of an `MqttConnection` and their listeners, for `MqttConnection.on`. */
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
   * a reason code >= 0x80. Aborting (`options.signal`) stops the wait; a packet already handed to MQTT.js
   * may still go out.
   */
  publish(
    topic: string,
    payload: Uint8Array | string,
    options?: MqttPublishOptions,
    /** @deprecated pass `options.signal` instead. */
    signal?: AbortSignal,
  ): Promise<PublishResult>;
  /** Subscribe and wait for SUBACK; rejects with `SUBSCRIBE_FAILED` naming the first refused filter. */
  subscribe(
    filters: string | readonly string[],
    options?: MqttSubscribeOptions,
    /** @deprecated pass `options.signal` instead. */
    signal?: AbortSignal,
  ): Promise<SubscriptionGrant[]>;
  /**
   * Unsubscribe and wait for UNSUBACK. Reason codes are logged, not thrown. A bare `AbortSignal` as second
   * argument is the deprecated form of `{ signal }`.
   */
  unsubscribe(
    filters: string | readonly string[],
    options?: MqttUnsubscribeOptions | AbortSignal,
  ): Promise<void>;
  /**
   * Receive messages whose topic matches `filter` (a shared subscription matches what its inner filter does).
   * Does not subscribe. Returns the function that removes the handler.
   */
  addMessageHandler(filter: string, handler: MqttMessageHandler): () => void;
  /** Listen to a connection event. Returns the function that removes the listener. */
  on<E extends keyof MqttConnectionEvents>(event: E, listener: MqttConnectionEvents[E]): () => void;
  /** Idempotent. Ends the client when the connection owns it (sends DISCONNECT, so no will). */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
