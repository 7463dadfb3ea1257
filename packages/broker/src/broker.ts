/**
 * The broker: the public `Broker` API over its parts. Listeners hand it streams; each becomes a
 * ClientConnection (connection/) whose packet handlers (handlers/) reach the broker only through the
 * ports given here: sessions (session/), the router and retained messages (routing/), events.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { printable } from '@mqtt-agents/core/grammar';
import { ClientConnection } from './connection/client-connection.js';
import type { ConnectionHost, ManagedConnection } from './connection/connection-host.js';
import { RETAINED_QUOTA_EXCEEDED } from './limits.js';
import type { Listener } from './listeners.js';
import { LOGGED_MESSAGE_LENGTH, SILENT_LOGGER, escapingLogger, shown } from './logging.js';
import { Message } from './message.js';
import { RetainedMessages } from './routing/retained-messages.js';
import { Router } from './routing/router.js';
import { SessionLifecycle } from './session/session-lifecycle.js';
import { normalizeSettings, type BrokerSettings } from './settings.js';
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
  HandleOptions,
  PublishProperties,
  PublishedMessage,
  SubscriptionRequest,
} from './types.js';
import { createWillPublisher } from './will.js';

export class MqttBroker implements Broker {
  readonly #settings: BrokerSettings;
  readonly #hooks: BrokerHooks;
  readonly #logger: BrokerLogger;
  readonly #router = new Router();
  readonly #retained: RetainedMessages;
  readonly #sessions: SessionLifecycle;
  /** Every open connection, connected or not. */
  readonly #connections = new Set<ManagedConnection>();
  readonly #host: ConnectionHost;
  readonly #events = new EventEmitter();
  readonly #listeners: Listener[] = [];
  #closing: Promise<void> | undefined = undefined;
  #drained: (() => void) | undefined = undefined;

  host: string;
  port = 0;
  url = '';
  wsUrl: string | undefined = undefined;
  tlsUrl: string | undefined = undefined;

  constructor(options: BrokerOptions = {}) {
    const settings = normalizeSettings(options);
    this.#settings = settings;
    this.#hooks = {
      authenticate: options.authenticate,
      authorizePublish: options.authorizePublish,
      authorizeSubscribe: options.authorizeSubscribe,
      connackUserProperties: options.connackUserProperties,
      rewritePublish: options.rewritePublish,
    };
    const logger = options.logger ? escapingLogger(options.logger) : SILENT_LOGGER;
    this.#logger = logger;
    this.host = options.host ?? '127.0.0.1';
    this.#events.setMaxListeners(0);
    this.#retained = new RetainedMessages(settings, logger);
    const closing = (): boolean => this.#closing !== undefined;
    const publishWill = createWillPublisher({
      hooks: this.#hooks,
      logger,
      closing,
      publish: (message, client) => this.#publishMessage(message, client),
    });
    this.#sessions = new SessionLifecycle({
      limits: settings,
      maximumSessions: settings.maximumSessions,
      logger,
      router: this.#router,
      publishWill,
      closing,
    });
    this.#host = this.#connectionHost();
  }

  /** The ports a connection and its handlers get: never the broker itself. */
  #connectionHost(): ConnectionHost {
    const router = this.#router;
    const retained = this.#retained;
    return {
      settings: this.#settings,
      hooks: this.#hooks,
      logger: this.#logger,
      sessions: this.#sessions,
      router: {
        publish: (message, client) => this.#publishMessage(message, client),
        subscribe: (session, request) => router.subscribe(session, request),
        unsubscribe: (session, topicFilter) => router.unsubscribe(session, topicFilter),
        receivesRetained: (request) => router.receivesRetained(request),
        sendRetained: (session, request) => retained.sendTo(session, request),
      },
      events: {
        reportError: (client, error) => this.#reportError(client, error),
        clientConnected: (client, sessionPresent) => {
          this.#logger.debug(`mqtt-agents:broker: client '${shown(client.id)}' connected`);
          this.#emit('client-connect', client, { sessionPresent });
        },
        clientDisconnected: (client, cause, reasonCode) => {
          this.#logger.debug(`mqtt-agents:broker: client '${shown(client.id)}' disconnected (${cause})`);
          this.#emit('client-disconnect', client, { cause, reasonCode });
        },
        clientSubscribed: (client, subscriptions) => this.#emit('client-subscribe', client, subscriptions),
        clientUnsubscribed: (client, topicFilters) => this.#emit('client-unsubscribe', client, topicFilters),
      },
      connectionFinished: (connection) => {
        this.#connections.delete(connection);
        if (this.#connections.size === 0 && this.#drained) {
          const drained = this.#drained;
          this.#drained = undefined;
          drained();
        }
      },
    };
  }

  /** Register a listener started for this broker (startBroker does this). */
  addListener(listener: Listener): void {
    this.#listeners.push(listener);
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
    return this.#sessions.clientIds;
  }

  get clientCount(): number {
    return this.#sessions.clientCount;
  }

  get sessionCount(): number {
    return this.#sessions.sessionCount;
  }

  get subscriptionCount(): number {
    return this.#router.size;
  }

  get retainedCount(): number {
    return this.#retained.size;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Bytes of QoS 1/2 messages all sessions hold, queued or in flight (for tests of the limits). */
  get queuedBytes(): number {
    return this.#sessions.queuedBytes;
  }

  getRetained(topic: string): PublishedMessage | undefined {
    return this.#retained.get(topic);
  }

  getSubscriptions(clientId: string): SubscriptionRequest[] {
    const session = this.#sessions.get(clientId);
    return session ? [...session.subscriptions.values()].map((subscription) => subscription.toJSON()) : [];
  }

  hasSession(clientId: string): boolean {
    return this.#sessions.get(clientId) !== undefined;
  }

  handle(stream: Duplex, options: HandleOptions = {}): void {
    if (this.#closing || stream.destroyed) {
      stream.destroy();
      return;
    }
    const connection = new ClientConnection(this.#host, stream, {
      transport: options.transport ?? 'stream',
      remoteAddress: options.remoteAddress,
      peerCertificate: options.peerCertificate,
    });
    this.#connections.add(connection);
  }

  publish(options: BrokerPublishOptions): void {
    if (this.#closing) throw new Error('broker is closed');
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
    this.#publishMessage(message, undefined);
  }

  on<E extends BrokerEventName>(event: E, listener: (...args: BrokerEvents[E]) => void): this {
    this.#events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<E extends BrokerEventName>(event: E, listener: (...args: BrokerEvents[E]) => void): this {
    this.#events.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<E extends BrokerEventName>(event: E, listener: (...args: BrokerEvents[E]) => void): this {
    this.#events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  close(): Promise<void> {
    return (this.#closing ??= this.#shutdown());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(): Promise<void> {
    const listenersClosed = Promise.allSettled(this.#listeners.map((listener) => listener.close()));
    this.#sessions.dropWills();
    for (const connection of [...this.#connections]) {
      if (connection.connected) connection.disconnect(0x8b, 'server-shutdown', 'server shutting down');
      else connection.close('server-shutdown', undefined);
    }
    if (this.#connections.size > 0) {
      await new Promise<void>((resolve) => (this.#drained = resolve));
    }
    this.#sessions.clear();
    this.#retained.clear();
    this.#router.clear();
    await listenersClosed;
    this.#events.removeAllListeners();
  }

  // ---- routing -------------------------------------------------------------------------------------

  /**
   * Accept a message for delivery: update the retained message of its topic, route it, announce it.
   * Returns the number of subscriptions it was given to (0 means no matching subscribers), or
   * RETAINED_QUOTA_EXCEEDED for a retained message the retained limits refuse (then nothing happens).
   */
  #publishMessage(message: Message, client: ClientInfo | undefined): number {
    if (message.retain && !this.#retained.accept(message, client)) return RETAINED_QUOTA_EXCEEDED;
    const matched = this.#router.route(message);
    if (this.#events.listenerCount('message-publish') > 0) this.#emit('message-publish', message, client);
    return matched;
  }

  // ---- events --------------------------------------------------------------------------------------

  #reportError(client: ClientInfo | undefined, error: Error): void {
    this.#logger.debug(
      `mqtt-agents:broker: client error (${client ? shown(client.id) : 'not connected'}): ${printable(error.message, LOGGED_MESSAGE_LENGTH)}`,
    );
    if (this.#events.listenerCount('client-error') > 0) this.#emit('client-error', client, error);
  }

  /** Emit an event; a throwing listener is logged and never breaks the connection that caused it. */
  #emit<E extends BrokerEventName>(event: E, ...args: BrokerEvents[E]): void {
    try {
      this.#events.emit(event, ...args);
    } catch (error) {
      this.#logger.error(`mqtt-agents:broker: a '${event}' listener threw`, error);
    }
  }
}
