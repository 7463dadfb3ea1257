/**
 * The broker core: sessions, subscriptions, retained messages and wills, and message routing. Client
 * connections (client-connection.ts) and the packet handlers call into it; listeners feed it streams.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { printable } from '@mqtt-agents/core/grammar';
import { ClientConnection } from './client-connection.js';
import { rewrittenMessage } from './handlers/publish.js';
import { BROKER_LIMIT_DEFAULTS, RETAINED_QUOTA_EXCEEDED } from './limits.js';
import type { Listener } from './listeners.js';
import { Message } from './message.js';
import { RetainedStore } from './retained-store.js';
import {
  SessionStore,
  Subscription,
  type OutboundMessage,
  type OverflowReason,
  type Session,
  type SessionLimits,
} from './session-store.js';
import { SharedSubscriptions, deliverToMember } from './shared-subscriptions.js';
import { SubscriptionIndex } from './subscription-index.js';
import { checkTopicName } from './topic.js';
import type {
  Broker,
  BrokerEventName,
  BrokerEvents,
  BrokerHooks,
  BrokerLogger,
  BrokerOptions,
  BrokerPublishOptions,
  ClientInfo,
  DisconnectCause,
  HandleOptions,
  HookResult,
  PublishProperties,
  PublishedMessage,
  QoS,
  SubscriptionRequest,
  UserProperties,
} from './types.js';
import { WillScheduler, type Will } from './will.js';

/** Limits after defaults and validation. */
export interface BrokerSettings {
  readonly maximumPacketSize: number;
  readonly packetReadTimeout: number;
  readonly receiveMaximum: number;
  readonly topicAliasMaximum: number;
  readonly maximumSessionExpiryInterval: number;
  readonly maximumSessions: number;
  readonly serverKeepAlive: number | undefined;
  readonly maximumQos: QoS;
  readonly maximumQueuedMessages: number;
  readonly maximumQueuedBytes: number;
  readonly maximumTotalQueuedBytes: number;
  readonly maximumRetainedMessages: number;
  readonly maximumRetainedBytes: number;
  readonly connectTimeout: number;
}

/** Longest wire value (client id, topic) quoted in a log line. */
const LOGGED_VALUE_LENGTH = 120;
/** Longest log message the broker hands to its logger. */
const LOGGED_MESSAGE_LENGTH = 2000;

/** A wire value made safe for a log line: control characters escaped, cut to a sane length. */
function shown(value: string): string {
  return printable(value, LOGGED_VALUE_LENGTH);
}

/**
 * The logger, with every message escaped once more on the way out: whatever a hook or a future call site
 * puts in a message, a log line stays one line without terminal escapes. Details pass unchanged.
 */
function escapingLogger(logger: BrokerLogger): BrokerLogger {
  return {
    debug: (message, ...details) => logger.debug(printable(message, LOGGED_MESSAGE_LENGTH), ...details),
    info: (message, ...details) => logger.info(printable(message, LOGGED_MESSAGE_LENGTH), ...details),
    warn: (message, ...details) => logger.warn(printable(message, LOGGED_MESSAGE_LENGTH), ...details),
    error: (message, ...details) => logger.error(printable(message, LOGGED_MESSAGE_LENGTH), ...details),
  };
}

const SILENT_LOGGER: BrokerLogger = { debug() {}, info() {}, warn() {}, error() {} };

const OVERFLOW_REASONS: Record<OverflowReason, string> = {
  messages: 'its queue holds maximumQueuedMessages',
  bytes: 'it holds maximumQueuedBytes',
  'total-bytes': 'all sessions together hold maximumTotalQueuedBytes',
  'write-buffer': 'its client has not read maximumQueuedBytes already sent',
};
const NO_RELEASED: readonly OutboundMessage[] = [];

function integerOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `invalid broker option ${name}: ${value} (expected an integer from ${min} to ${max})`,
    );
  }
  return value;
}

export function normalizeSettings(options: BrokerOptions): BrokerSettings {
  const serverKeepAlive =
    options.serverKeepAlive === undefined
      ? undefined
      : integerOption('serverKeepAlive', options.serverKeepAlive, 0, 0, 65535);
  const defaults = BROKER_LIMIT_DEFAULTS;
  const limit = (name: keyof typeof BROKER_LIMIT_DEFAULTS, min: number, max: number): number =>
    integerOption(name, options[name], defaults[name], min, max);
  return {
    maximumPacketSize: limit('maximumPacketSize', 16, 268_435_460),
    packetReadTimeout: limit('packetReadTimeout', 1, 2 ** 31 - 1),
    receiveMaximum: integerOption('receiveMaximum', options.receiveMaximum, 65535, 1, 65535),
    topicAliasMaximum: integerOption('topicAliasMaximum', options.topicAliasMaximum, 10, 0, 65535),
    maximumSessionExpiryInterval: limit('maximumSessionExpiryInterval', 0, 0xffffffff),
    maximumSessions: limit('maximumSessions', 1, 2 ** 31),
    serverKeepAlive,
    maximumQos: integerOption('maximumQos', options.maximumQos, 2, 0, 2) as QoS,
    maximumQueuedMessages: limit('maximumQueuedMessages', 0, 2 ** 31),
    maximumQueuedBytes: limit('maximumQueuedBytes', 1024, Number.MAX_SAFE_INTEGER),
    maximumTotalQueuedBytes: limit('maximumTotalQueuedBytes', 1024, Number.MAX_SAFE_INTEGER),
    maximumRetainedMessages: limit('maximumRetainedMessages', 0, 2 ** 31),
    maximumRetainedBytes: limit('maximumRetainedBytes', 0, Number.MAX_SAFE_INTEGER),
    connectTimeout: limit('connectTimeout', 1, 2 ** 31 - 1),
  };
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

export class MqttBroker implements Broker {
  readonly settings: BrokerSettings;
  readonly hooks: BrokerHooks;
  readonly logger: BrokerLogger;
  readonly sessions = new SessionStore();
  readonly subscriptions = new SubscriptionIndex<Subscription>();
  readonly shared = new SharedSubscriptions();
  readonly retained = new RetainedStore<Message>((message) => message.byteSize());
  readonly wills: WillScheduler;
  /** Every open connection, connected or not. */
  readonly connections = new Set<ClientConnection>();
  /** Connected clients by client id. */
  readonly clients = new Map<string, ClientConnection>();
  private readonly events = new EventEmitter();
  private readonly sessionLimits: SessionLimits;
  private epoch = 0;
  private readonly listeners: Listener[] = [];
  private closing: Promise<void> | undefined = undefined;
  private drained: (() => void) | undefined = undefined;

  host: string;
  port = 0;
  url = '';
  wsUrl: string | undefined = undefined;
  tlsUrl: string | undefined = undefined;

  constructor(options: BrokerOptions = {}) {
    this.settings = normalizeSettings(options);
    this.hooks = {
      authenticate: options.authenticate,
      authorizePublish: options.authorizePublish,
      authorizeSubscribe: options.authorizeSubscribe,
      connackUserProperties: options.connackUserProperties,
      rewritePublish: options.rewritePublish,
    };
    this.logger = options.logger ? escapingLogger(options.logger) : SILENT_LOGGER;
    this.host = options.host ?? '127.0.0.1';
    this.events.setMaxListeners(0);
    this.wills = new WillScheduler((will) => this.publishWill(will));
    const settings = this.settings;
    this.sessionLimits = {
      maximumQueuedMessages: settings.maximumQueuedMessages,
      maximumQueuedBytes: settings.maximumQueuedBytes,
      maximumTotalQueuedBytes: settings.maximumTotalQueuedBytes,
      totalQueuedBytes: 0,
      onOverflow: (session, message, reason) =>
        this.logger.warn(
          `mqtt-agents:broker: dropping messages for '${shown(session.clientId)}' (first on '${shown(message.topic)}'): ${OVERFLOW_REASONS[reason]}; the newest messages are dropped until it has room again`,
        ),
      onRecovered: (session, dropped) =>
        this.logger.info(
          `mqtt-agents:broker: '${shown(session.clientId)}' has room again after ${dropped} dropped message(s)`,
        ),
    };
  }

  /** Register a listener started for this broker (startBroker does this). */
  addListener(listener: Listener): void {
    this.listeners.push(listener);
    if (listener.kind === 'tcp') {
      this.port = listener.port;
      this.url = listener.url;
    } else if (listener.kind === 'ws') {
      this.wsUrl = listener.url;
    } else {
      this.tlsUrl = listener.url;
    }
  }

  // ---- public API ---------------------------------------------------------------------------------

  get clientIds(): readonly string[] {
    return [...this.clients.keys()];
  }

  get clientCount(): number {
    return this.clients.size;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  get subscriptionCount(): number {
    return this.subscriptions.size + this.shared.size;
  }

  get retainedCount(): number {
    return this.retained.size;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  getRetained(topic: string): PublishedMessage | undefined {
    return this.retained.get(topic);
  }

  getSubscriptions(clientId: string): SubscriptionRequest[] {
    const session = this.sessions.get(clientId);
    return session ? [...session.subscriptions.values()].map((subscription) => subscription.toJSON()) : [];
  }

  hasSession(clientId: string): boolean {
    return this.sessions.get(clientId) !== undefined;
  }

  handle(stream: Duplex, options: HandleOptions = {}): void {
    if (this.closing || stream.destroyed) {
      stream.destroy();
      return;
    }
    const connection = new ClientConnection(
      this,
      stream,
      options.transport ?? 'stream',
      options.remoteAddress,
    );
    if (options.peerCertificate) connection.peerCertificate = options.peerCertificate;
    this.connections.add(connection);
  }

  publish(options: BrokerPublishOptions): void {
    if (this.closing) throw new Error('broker is closed');
    const problem = checkTopicName(options.topic);
    if (problem !== undefined) throw new TypeError(`invalid topic name '${options.topic}'`);
    const qos = options.qos ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new TypeError(`invalid QoS ${String(qos)}`);
    const payload =
      options.payload === undefined
        ? Buffer.alloc(0)
        : typeof options.payload === 'string'
          ? Buffer.from(options.payload)
          : Buffer.from(options.payload);
    const properties: PublishProperties = { ...options.properties };
    if (properties.correlationData !== undefined)
      properties.correlationData = Buffer.from(properties.correlationData);
    const message = Message.received(
      options.topic,
      payload,
      qos,
      options.retain === true,
      properties,
      undefined,
      Date.now(),
    );
    this.publishMessage(message, undefined);
  }

  on<E extends BrokerEventName>(event: E, listener: (...args: BrokerEvents[E]) => void): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<E extends BrokerEventName>(event: E, listener: (...args: BrokerEvents[E]) => void): this {
    this.events.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<E extends BrokerEventName>(event: E, listener: (...args: BrokerEvents[E]) => void): this {
    this.events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async shutdown(): Promise<void> {
    const listenersClosed = Promise.allSettled(this.listeners.map((listener) => listener.close()));
    this.wills.clear();
    for (const connection of [...this.connections]) {
      if (connection.connected) connection.disconnect(0x8b, 'server-shutdown', 'server shutting down');
      else connection.close('server-shutdown', undefined);
    }
    if (this.connections.size > 0) {
      await new Promise<void>((resolve) => (this.drained = resolve));
    }
    this.wills.clear();
    this.sessions.clear();
    this.retained.clear();
    this.shared.clear();
    this.clients.clear();
    await listenersClosed;
    this.events.removeAllListeners();
  }

  // ---- connections and sessions -------------------------------------------------------------------

  /** Bytes of QoS 1/2 messages all sessions hold, queued or in flight. */
  get queuedBytes(): number {
    return this.sessionLimits.totalQueuedBytes;
  }

  /** True when a CONNECT for this client id would open a session beyond `maximumSessions`. */
  sessionQuotaReached(clientId: string): boolean {
    return this.sessions.size >= this.settings.maximumSessions && this.sessions.get(clientId) === undefined;
  }

  assignClientId(): string {
    for (;;) {
      const id = `mqtt-agents-${randomBytes(9).toString('base64url')}`;
      if (!this.sessions.get(id) && !this.clients.has(id)) return id;
    }
  }

  connackUserProperties(client: ClientInfo): UserProperties | undefined {
    const hook = this.hooks.connackUserProperties;
    if (!hook) return undefined;
    try {
      return hook(client);
    } catch (error) {
      this.logger.error('mqtt-agents:broker: connackUserProperties hook failed', error);
      return undefined;
    }
  }

  /**
   * Attach an accepted connection to its session: take over a connection with the same client id
   * (DISCONNECT 0x8E), end the old session on Clean Start (or when it would have ended with its
   * connection), else resume it and cancel its expiry and any pending will.
   */
  openSession(
    client: ClientConnection,
    cleanStart: boolean,
    expiryInterval: number,
  ): { session: Session; sessionPresent: boolean } {
    const clientId = client.clientId;
    let session = this.sessions.get(clientId);
    const sessionEnds = cleanStart || (session !== undefined && session.expiryInterval === 0);
    const previous = this.clients.get(clientId);
    let takenOverWill: Will | undefined;
    if (previous && previous !== client) takenOverWill = previous.takeOver(sessionEnds);
    if (session && sessionEnds) {
      this.endSession(session);
      session = undefined;
    } else if (session) {
      this.wills.cancel(clientId);
      this.sessions.cancelExpiry(session);
    }
    if (takenOverWill) this.publishWill(takenOverWill);
    const sessionPresent = session !== undefined;
    session ??= this.sessions.create(clientId, this.sessionLimits);
    session.expiryInterval = expiryInterval;
    session.connection = client;
    client.session = session;
    this.clients.set(clientId, client);
    return { session, sessionPresent };
  }

  clientConnected(client: ClientConnection, sessionPresent: boolean): void {
    const info = client.info as ClientInfo;
    this.logger.debug(`mqtt-agents:broker: client '${shown(info.id)}' connected`);
    this.emit('client-connect', info, { sessionPresent });
  }

  /** A connected client's connection ended (any cause): will, session expiry, shared re-dispatch, event. */
  connectionEnded(
    connection: ClientConnection,
    cause: DisconnectCause,
    reasonCode: number | undefined,
  ): void {
    const clientId = connection.clientId;
    if (this.clients.get(clientId) === connection) this.clients.delete(clientId);
    const session = connection.session;
    if (session && session.connection === connection) {
      session.connection = undefined;
      const will = connection.will;
      connection.will = undefined;
      const shuttingDown = this.closing !== undefined;
      const ends = session.expiryInterval === 0 || shuttingDown;
      const released = shuttingDown ? NO_RELEASED : session.releaseShared();
      if (ends) this.endSession(session);
      else this.sessions.scheduleExpiry(session, this.expireSession);
      if (released.length > 0) {
        const orphans = this.shared.redispatch(released, session);
        if (!ends) for (const orphan of orphans) session.enqueue(orphan);
      }
      if (will && !shuttingDown) {
        if (ends) this.publishWill(will);
        else this.wills.schedule(clientId, will, Math.min(will.delay, session.expiryInterval));
      }
    }
    const info = connection.info;
    if (info) {
      this.logger.debug(`mqtt-agents:broker: client '${shown(info.id)}' disconnected (${cause})`);
      this.emit('client-disconnect', info, { cause, reasonCode });
    }
  }

  /** A connection's stream closed for good. */
  connectionFinished(connection: ClientConnection): void {
    this.connections.delete(connection);
    if (this.connections.size === 0 && this.drained) {
      const drained = this.drained;
      this.drained = undefined;
      drained();
    }
  }

  private readonly expireSession = (session: Session): void => {
    if (!session.connection && !session.ended) this.endSession(session);
  };

  /** End a session: drop its subscriptions and messages (shared ones go to other members), publish its pending will. */
  endSession(session: Session): void {
    if (session.ended) return;
    for (const subscription of session.subscriptions.values()) this.removeFromIndex(subscription);
    session.subscriptions.clear();
    const released = this.closing ? NO_RELEASED : session.releaseShared();
    session.clear();
    this.sessions.delete(session);
    if (released.length > 0) this.shared.redispatch(released, session);
    this.wills.flush(session.clientId);
  }

  // ---- subscriptions --------------------------------------------------------------------------------

  /** Add or replace a subscription; returns whether one with the same topic filter existed. */
  subscribe(session: Session, request: SubscriptionRequest): boolean {
    const existing = session.subscriptions.get(request.topicFilter);
    if (existing) {
      existing.qos = request.qos;
      existing.noLocal = request.noLocal;
      existing.retainAsPublished = request.retainAsPublished;
      existing.retainHandling = request.retainHandling;
      existing.subscriptionIdentifier = request.subscriptionIdentifier;
      return true;
    }
    const subscription = new Subscription(
      session,
      request.topicFilter,
      request.filter,
      request.shareName,
      request.qos,
      request.noLocal,
      request.retainAsPublished,
      request.retainHandling,
      request.subscriptionIdentifier,
    );
    session.subscriptions.set(request.topicFilter, subscription);
    if (subscription.shareName === undefined) this.subscriptions.add(subscription.filter, subscription);
    else this.shared.add(subscription);
    return false;
  }

  /** Remove a subscription by topic filter; returns whether it existed. */
  unsubscribe(session: Session, topicFilter: string): boolean {
    const subscription = session.subscriptions.get(topicFilter);
    if (!subscription) return false;
    session.subscriptions.delete(topicFilter);
    this.removeFromIndex(subscription);
    return true;
  }

  private removeFromIndex(subscription: Subscription): void {
    if (subscription.shareName === undefined) this.subscriptions.remove(subscription.filter, subscription);
    else this.shared.remove(subscription);
  }

  /** Send the retained messages matching a new subscription (RETAIN set, QoS capped by the subscription). */
  sendRetained(session: Session, request: SubscriptionRequest): void {
    const messages = this.retained.match(request.filter);
    if (messages.length === 0) return;
    const ids = request.subscriptionIdentifier === undefined ? undefined : [request.subscriptionIdentifier];
    for (const message of messages) {
      const qos = message.qos < request.qos ? message.qos : request.qos;
      session.deliver(message, qos, true, ids, undefined);
    }
  }

  emitSubscribe(client: ClientConnection, subscriptions: readonly SubscriptionRequest[]): void {
    if (client.info) this.emit('client-subscribe', client.info, subscriptions);
  }

  emitUnsubscribe(client: ClientConnection, topicFilters: readonly string[]): void {
    if (client.info) this.emit('client-unsubscribe', client.info, topicFilters);
  }

  // ---- routing -------------------------------------------------------------------------------------

  /**
   * Accept a message for delivery: update the retained message of its topic, route it, announce it.
   * Returns the number of subscriptions it was given to (0 means no matching subscribers), or
   * RETAINED_QUOTA_EXCEEDED for a retained message the retained limits refuse (then nothing happens).
   */
  publishMessage(message: Message, client: ClientInfo | undefined): number {
    if (message.retain) {
      if (message.payload.length === 0) {
        this.retained.delete(message.topic);
      } else {
        const retained = message.toRetained();
        if (!this.retainedFits(message.topic, retained)) {
          this.logger.warn(
            `mqtt-agents:broker: refused a retained message on '${shown(message.topic)}' from '${shown(client?.id ?? '(broker)')}': retained messages are at maximumRetainedMessages or maximumRetainedBytes`,
          );
          return RETAINED_QUOTA_EXCEEDED;
        }
        this.retained.set(message.topic, retained);
      }
    }
    const matched = this.route(message);
    if (this.events.listenerCount('message-publish') > 0) this.emit('message-publish', message, client);
    return matched;
  }

  /** Whether a retained message fits the retained limits (replacing the topic's current one). */
  private retainedFits(topic: string, message: Message): boolean {
    const settings = this.settings;
    const current = this.retained.bytesOf(topic);
    const count = this.retained.size + (current === undefined ? 1 : 0);
    const bytes = this.retained.bytes - (current ?? 0) + message.byteSize();
    return count <= settings.maximumRetainedMessages && bytes <= settings.maximumRetainedBytes;
  }

  /**
   * Give a message to every matching session once (overlapping subscriptions of one session are merged:
   * highest QoS, all subscription identifiers) and to one member of every matching shared group.
   */
  route(message: Message): number {
    let matched = 0;
    const lists = this.subscriptions.match(message.topic, []);
    if (lists.length > 0) {
      const epoch = ++this.epoch;
      const publisher = message.publisherId;
      const messageQos = message.qos;
      const targets: Session[] = [];
      for (const list of lists) {
        for (const subscription of list) {
          const session = subscription.session;
          if (subscription.noLocal && session.clientId === publisher) continue;
          const qos = subscription.qos < messageQos ? subscription.qos : messageQos;
          const retain = subscription.retainAsPublished && message.retain;
          const id = subscription.subscriptionIdentifier;
          if (session.routeEpoch !== epoch) {
            session.routeEpoch = epoch;
            session.routeQos = qos;
            session.routeRetain = retain;
            session.routeSubscriptionIds = id === undefined ? undefined : [id];
            targets.push(session);
          } else {
            if (qos > session.routeQos) session.routeQos = qos;
            if (retain) session.routeRetain = true;
            if (id !== undefined) {
              if (session.routeSubscriptionIds === undefined) session.routeSubscriptionIds = [id];
              else if (!session.routeSubscriptionIds.includes(id)) session.routeSubscriptionIds.push(id);
            }
          }
        }
      }
      for (const session of targets) {
        session.deliver(
          message,
          session.routeQos,
          session.routeRetain,
          session.routeSubscriptionIds,
          undefined,
        );
      }
      matched = targets.length;
    }
    if (this.shared.size > 0) {
      for (const groups of this.shared.match(message.topic)) {
        for (const group of groups) {
          const member = group.pick();
          if (!member) continue;
          deliverToMember(member, message, group);
          matched++;
        }
      }
    }
    return matched;
  }

  /** Publish a will (after the authorizePublish hook, which sees the will's client). */
  publishWill(will: Will): void {
    if (this.closing) return;
    const message = Message.received(
      will.topic,
      will.payload,
      will.qos,
      will.retain,
      will.properties,
      will.client.id,
      Date.now(),
    );
    // A will is routed with the properties `rewritePublish` gives it, like any publish (identity stamping).
    const route = (): void => {
      const routed = rewrittenMessage(this.hooks, this.logger, will.client, message);
      if (routed !== undefined) this.publishMessage(routed, will.client);
    };
    const authorize = this.hooks.authorizePublish;
    if (!authorize) {
      route();
      return;
    }
    const finish = (verdict: HookResult): void => {
      if (verdict === true && !this.closing) route();
    };
    const failed = (error: unknown): void =>
      this.logger.error('mqtt-agents:broker: authorizePublish hook failed for a will', error);
    try {
      const verdict = authorize(will.client, message);
      if (isThenable(verdict)) verdict.then(finish, failed);
      else finish(verdict);
    } catch (error) {
      failed(error);
    }
  }

  // ---- events --------------------------------------------------------------------------------------

  reportError(client: ClientInfo | undefined, error: Error): void {
    this.logger.debug(
      `mqtt-agents:broker: client error (${client ? shown(client.id) : 'not connected'}): ${printable(error.message, LOGGED_MESSAGE_LENGTH)}`,
    );
    if (this.events.listenerCount('client-error') > 0) this.emit('client-error', client, error);
  }

  /** Emit an event; a throwing listener is logged and never breaks the connection that caused it. */
  private emit<E extends BrokerEventName>(event: E, ...args: BrokerEvents[E]): void {
    try {
      this.events.emit(event, ...args);
    } catch (error) {
      this.logger.error(`mqtt-agents:broker: a '${event}' listener threw`, error);
    }
  }
}
