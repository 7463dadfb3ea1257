import type { Duplex } from 'node:stream';

/** MQTT quality of service: 0 at most once, 1 at least once, 2 exactly once. */
export type QoS = 0 | 1 | 2;

/** MQTT protocol level: 3 (3.1), 4 (3.1.1) or 5. */
export type ProtocolVersion = 3 | 4 | 5;

/** MQTT 5 user properties; a name that occurs more than once has an array of values. */
export type UserProperties = Record<string, string | string[]>;

/** An MQTT 5 reason code (0x80 and above are failures). */
export type ReasonCode = number;

/** A value, or a promise of it: what a hook may return when it decides synchronously or asynchronously. */
export type MaybePromise<T> = T | Promise<T>;

/** Where the broker writes its diagnostics. The default is silent. */
export interface BrokerLogger {
  /** Routine detail, such as a client connecting or disconnecting. */
  debug(message: string, ...details: unknown[]): void;
  /** Notable events, such as a plugin refusing a client or a session that has room again after drops. */
  info(message: string, ...details: unknown[]): void;
  /** A limit was hit and messages were dropped or refused (queue or retained-message limits). */
  warn(message: string, ...details: unknown[]): void;
  /** A hook or event listener threw (the broker goes on). */
  error(message: string, ...details: unknown[]): void;
}

/** Properties of a CONNECT packet (MQTT 5). */
export interface ConnectProperties {
  sessionExpiryInterval?: number;
  receiveMaximum?: number;
  maximumPacketSize?: number;
  topicAliasMaximum?: number;
  requestResponseInformation?: boolean;
  requestProblemInformation?: boolean;
  userProperties?: UserProperties;
  authenticationMethod?: string;
  authenticationData?: Buffer;
}

/** Properties of an application message that the broker forwards unchanged (MQTT 5). */
export interface PublishProperties {
  payloadFormatIndicator?: boolean;
  /** Seconds, as received from the publisher (subscribers get the time left). */
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: UserProperties;
}

/** How a client reached the broker. `stream` is a connection given to `broker.handle()`. */
export type TransportKind = 'tcp' | 'tls' | 'ws' | 'stream';

/** A connected (or connecting) client, as hooks and events see it. */
export interface ClientInfo {
  /** The MQTT client identifier (the assigned one when the client sent an empty id). */
  readonly id: string;
  readonly username: string | undefined;
  readonly protocolVersion: ProtocolVersion;
  readonly cleanStart: boolean;
  /** Keep alive in seconds, after any Server Keep Alive override. */
  readonly keepAlive: number;
  /** CONNECT properties as sent (empty for MQTT 3.1.1). */
  readonly properties: Readonly<ConnectProperties>;
  /** CONNECT user properties (empty object when none). */
  readonly userProperties: Readonly<UserProperties>;
  readonly remoteAddress: string | undefined;
  readonly transport: TransportKind;
  /** Who the client authenticated as, when an `authenticate` hook returned a principal. */
  readonly principal: Principal | undefined;
}

/**
 * An authenticated identity: the credential a client proved (a password-file user, a JWT subject, a TLS
 * client certificate), and the roles it holds. Policy plugins decide on it, never on what the client claims.
 */
export interface Principal {
  /** The credential's name (user name, JWT `sub`, certificate subject CN). */
  readonly name: string;
  /** How it was proven, e.g. `password`, `jwt`, `mtls`. */
  readonly method: string;
  /** Roles of the principal, e.g. `operator`. Empty for an ordinary agent. */
  readonly roles: readonly string[];
}

/** What an `authenticate` hook answers: allow, refuse with a reason code, or allow as a principal. */
export type AuthenticateResult = HookResult | { readonly principal: Principal };

/** What `authenticate` sees: the client as it asks to connect, with its password. */
export interface AuthenticateContext extends ClientInfo {
  readonly password: Buffer | undefined;
  /** True when the client sent an empty client id and `id` was assigned by the broker. */
  readonly assignedClientId: boolean;
  /** The verified TLS client certificate (TLS listener with `requestCert`), else undefined. */
  readonly peerCertificate: PeerCertificate | undefined;
}

/** The parts of a verified TLS client certificate that authentication uses. */
export interface PeerCertificate {
  /** Subject fields (`CN`, `O`, ...). */
  readonly subject: Readonly<Record<string, string | string[]>>;
  /** SHA-256 fingerprint, colon-separated upper-case hex (as Node reports it). */
  readonly fingerprint256: string;
  /** True when the chain verified against the listener's `ca`. */
  readonly authorized: boolean;
}

/** An application message as hooks and events see it. */
export interface PublishedMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly properties: Readonly<PublishProperties>;
}

/** One topic filter of a SUBSCRIBE packet, with its options. */
export interface SubscriptionRequest {
  /** The filter as sent, including any `$share/{name}/` prefix. */
  readonly topicFilter: string;
  /** The filter matched against topic names (without the share prefix). */
  readonly filter: string;
  /** The share name of a shared subscription, else undefined. */
  readonly shareName: string | undefined;
  readonly qos: QoS;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly retainHandling: 0 | 1 | 2;
  readonly subscriptionIdentifier: number | undefined;
}

/**
 * A hook's verdict: `true` to allow, or a reason code to refuse with (for example 0x86 Bad user name or
 * password, 0x87 Not authorized). MQTT 3.1.1 clients get the closest CONNACK return code.
 */
export type HookResult = true | ReasonCode;

/**
 * Policy callbacks of the broker: who may connect, publish and subscribe, and what the broker adds to CONNACK
 * and routed messages. Every hook is optional; without any, the broker allows everything. Plugins provide
 * them as `plugin.hooks`.
 */
export interface BrokerHooks {
  /** Decide whether a client may connect. Default: everyone may. */
  authenticate?: (context: AuthenticateContext) => MaybePromise<AuthenticateResult>;
  /** Decide whether a client may publish a message (its will included). Default: allowed. */
  authorizePublish?: (client: ClientInfo, message: PublishedMessage) => MaybePromise<HookResult>;
  /**
   * Decide whether a client may subscribe. Return `true`, a failure reason code (>= 0x80), or a QoS
   * (0, 1 or 2) to grant at most that QoS. Default: allowed.
   */
  authorizeSubscribe?: (client: ClientInfo, subscription: SubscriptionRequest) => MaybePromise<HookResult>;
  /**
   * User properties to put in the CONNACK of an accepted MQTT 5 client (EMQX-style broker-suggested
   * values such as `MCP-SERVER-NAME`).
   */
  connackUserProperties?: (client: ClientInfo) => UserProperties | undefined;
  /**
   * Properties to route an accepted message with instead of the ones it arrived with (runs after
   * `authorizePublish` allowed it; undefined keeps them). Identity plugins use it to remove user properties
   * a client may not set and to stamp the verified sender.
   */
  rewritePublish?: (client: ClientInfo, message: PublishedMessage) => PublishProperties | undefined;
}

/** Settings of the broker's MQTT-over-WebSocket listener (`BrokerOptions.ws`). */
export interface WebSocketListenerOptions {
  /** Port for MQTT over WebSocket; 0 (default) picks a free one. */
  port?: number;
  /** Defaults to the broker's `host`. */
  host?: string;
  /** URL path to accept upgrades on; default `/mqtt`. Other paths are refused. */
  path?: string;
}

/** Settings of the broker's MQTT-over-TLS listener (`BrokerOptions.tls`): its key, certificate and client-certificate policy. */
export interface TlsListenerOptions {
  /** The server's private key, PEM. */
  key: string | Buffer;
  /** The server's certificate chain, PEM. */
  cert: string | Buffer;
  /** CA certificates that client certificates are verified against (with `requestCert`). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Port for MQTT over TLS; 0 (default) picks a free one. */
  port?: number;
  /** Defaults to the broker's `host`. */
  host?: string;
  /**
   * Ask clients for a certificate, verified against `ca` (mTLS). A verified certificate reaches the
   * `authenticate` hook as `peerCertificate`; an unverified one never does. Default false.
   */
  requestCert?: boolean;
  /**
   * With `requestCert`: fail the TLS handshake of a client without a certificate that verifies against `ca`.
   * Default true (as Node's); false lets such clients connect and authenticate otherwise (a password).
   */
  rejectUnauthorized?: boolean;
}

/**
 * What `startBroker` listens on and the limits it enforces (packet size, sessions, queues, retained messages),
 * with the policy hooks of {@link BrokerHooks}. Every field is optional; the defaults suit tests and local
 * development on `127.0.0.1`.
 */
export interface BrokerOptions extends BrokerHooks {
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** TCP port; default 0 (a free port, see `broker.port`). */
  port?: number;
  /** Also listen for MQTT over WebSocket (subprotocol `mqtt`). */
  ws?: WebSocketListenerOptions;
  /** Also listen for MQTT over TLS. */
  tls?: TlsListenerOptions;
  /**
   * Largest packet the broker accepts, in bytes; sent in CONNACK. A packet whose fixed header declares
   * more is refused at once (DISCONNECT 0x95 Packet too large, or CONNACK 0x95 before CONNECT completed),
   * before its body is read. Default 4 MiB (4194304); at most 268435460 (MQTT's own limit).
   */
  maximumPacketSize?: number;
  /**
   * Milliseconds a packet whose first byte arrived has to arrive completely, however slowly it trickles
   * in and whatever the keep alive (0 disables keep alive, never this): a client that stalls mid-packet
   * is disconnected (DISCONNECT 0x8D, cause `read-timeout`). Default 30000.
   */
  packetReadTimeout?: number;
  /** Unacknowledged QoS 2 publishes a client may have in flight towards the broker; default 65535. */
  receiveMaximum?: number;
  /** Highest topic alias a client may use; default 10 (as Mosquitto). 0 disables topic aliases. */
  topicAliasMaximum?: number;
  /**
   * Cap on the Session Expiry Interval clients ask for (and on MQTT 3.1.1 persistent sessions), in
   * seconds; a capped value is announced in CONNACK. Default 86400 (1 day); 4294967295 for no cap.
   */
  maximumSessionExpiryInterval?: number;
  /**
   * Sessions the broker holds, connected and offline: a CONNECT that would open one more is refused with
   * CONNACK 0x97 Quota exceeded (MQTT 3.1.1: 3 Server unavailable); resuming or taking over an existing
   * session is always allowed. Default 10000.
   */
  maximumSessions?: number;
  /** When set, overrides the clients' keep alive (sent as Server Keep Alive in CONNACK). */
  serverKeepAlive?: number;
  /** Highest QoS accepted and granted; default 2. */
  maximumQos?: QoS;
  /**
   * QoS 1/2 messages queued per session (offline, beyond the client's Receive Maximum, or waiting for a
   * client that does not read); default 100000. Beyond it, new messages for the session are dropped.
   */
  maximumQueuedMessages?: number;
  /**
   * Bytes of messages one session may hold: QoS 1/2 messages queued and in flight (payload, topic,
   * properties and 128 bytes of bookkeeping each), and, for QoS 0, unsent bytes in its connection's write
   * buffer. Beyond it the newest messages are dropped (never those queued or in flight), with one warning
   * per session and overflow episode. Default 8 MiB (8388608).
   */
  maximumQueuedBytes?: number;
  /** Bytes all sessions together may hold in QoS 1/2 messages, counted as above. Default 256 MiB (268435456). */
  maximumTotalQueuedBytes?: number;
  /**
   * Topics with a retained message. A retained publish that would store one more is refused (PUBACK /
   * PUBREC 0x97 Quota exceeded, not routed; the topic keeps its retained message); replacing or clearing
   * one is always possible. Default 10000.
   */
  maximumRetainedMessages?: number;
  /**
   * Bytes of all retained messages (payload, topic, properties, 128 bytes each); a retained publish that
   * would exceed it is refused like one over `maximumRetainedMessages`. Default 64 MiB (67108864).
   */
  maximumRetainedBytes?: number;
  /** Milliseconds a new connection has to send CONNECT; default 10000. */
  connectTimeout?: number;
  /** Where the broker writes its diagnostics; default silent. */
  logger?: BrokerLogger;
}

/** Why a client's connection ended. */
export type DisconnectCause =
  | 'client-disconnect'
  | 'connection-lost'
  | 'keep-alive-timeout'
  /** A packet did not complete within `packetReadTimeout`. */
  | 'read-timeout'
  | 'session-takeover'
  | 'protocol-error'
  | 'server-shutdown';

/** Why and how a client's connection ended, as the `client-disconnect` event reports it. */
export interface ClientDisconnectDetails {
  readonly cause: DisconnectCause;
  /** The DISCONNECT reason code sent by the client or the broker, when there was one. */
  readonly reasonCode: ReasonCode | undefined;
}

/** How a client was accepted, as the `client-connect` event reports it. */
export interface ClientConnectDetails {
  /** True when the client resumed a session the broker held (the CONNACK Session Present flag). */
  readonly sessionPresent: boolean;
}

/** Events of a broker, with their listener arguments. Names are noun-verb. */
export interface BrokerEvents {
  /** A client was accepted (after CONNACK). */
  'client-connect': [client: ClientInfo, details: ClientConnectDetails];
  /** An accepted client's connection ended. */
  'client-disconnect': [client: ClientInfo, details: ClientDisconnectDetails];
  /** A connection broke the protocol or failed (the connection is closed; the broker goes on). */
  'client-error': [client: ClientInfo | undefined, error: Error];
  /** A client subscribed (the subscriptions granted, with the granted QoS). */
  'client-subscribe': [client: ClientInfo, subscriptions: readonly SubscriptionRequest[]];
  /** A client removed subscriptions (the filters that existed). */
  'client-unsubscribe': [client: ClientInfo, topicFilters: readonly string[]];
  /** A message was accepted for routing: from a client, a will, or `broker.publish()` (client undefined). */
  'message-publish': [message: PublishedMessage, client: ClientInfo | undefined];
}

/** The name of a broker event: `client-connect`, `client-disconnect`, `message-publish`, ... */
export type BrokerEventName = keyof BrokerEvents;

/** A message published by the broker itself. */
export interface BrokerPublishOptions {
  topic: string;
  payload?: string | Buffer | Uint8Array;
  qos?: QoS;
  retain?: boolean;
  properties?: PublishProperties;
}

/** Details of a connection handed to `broker.handle()`. */
export interface HandleOptions {
  remoteAddress?: string;
  transport?: TransportKind;
  /** The verified TLS client certificate of the connection (the TLS listener sets it). */
  peerCertificate?: PeerCertificate;
}

/** A running broker. */
export interface Broker extends AsyncDisposable {
  /** `mqtt://host:port` of the TCP listener. */
  readonly url: string;
  /** `ws://host:port/path` of the WebSocket listener, when enabled. */
  readonly wsUrl: string | undefined;
  /** `mqtts://host:port` of the TLS listener, when enabled. */
  readonly tlsUrl: string | undefined;
  readonly host: string;
  /** Port of the TCP listener. */
  readonly port: number;
  /** Ids of the connected clients. */
  readonly clientIds: readonly string[];
  readonly clientCount: number;
  /** Sessions held, connected or not. */
  readonly sessionCount: number;
  /** Subscriptions held across all sessions (shared ones included). */
  readonly subscriptionCount: number;
  /** Topics with a retained message. */
  readonly retainedCount: number;
  readonly closed: boolean;
  /** The retained message of a topic, if any. */
  getRetained(topic: string): PublishedMessage | undefined;
  /** The subscriptions of a session (connected or not). */
  getSubscriptions(clientId: string): SubscriptionRequest[];
  /** True while the broker holds a session for this client id (connected, or offline and not expired). */
  hasSession(clientId: string): boolean;
  /** Serve one MQTT connection over any duplex stream (a socket, a WebSocket stream, an in-memory pair). */
  handle(stream: Duplex, options?: HandleOptions): void;
  /** Publish a message from the broker itself (no hooks are called). */
  publish(message: BrokerPublishOptions): void;
  /** Call `listener` on every `event` (see {@link BrokerEvents} for the arguments); returns the broker. */
  on<E extends BrokerEventName>(event: E, listener: (...args: BrokerEvents[E]) => void): this;
  /** Call `listener` on the next `event` only; returns the broker. */
  once<E extends BrokerEventName>(event: E, listener: (...args: BrokerEvents[E]) => void): this;
  /** Remove a listener added with `on` or `once`; returns the broker. */
  off<E extends BrokerEventName>(event: E, listener: (...args: BrokerEvents[E]) => void): this;
  /**
   * Disconnect every client (DISCONNECT 0x8B Server shutting down), close the listeners and drop all
   * state. Idempotent.
   */
  close(): Promise<void>;
}
