import {
  McpComponentType,
  McpUserProperty,
  MqttAgentsError,
  getUserProperty,
  mcpAnyClientCapabilityFilter,
  mcpAnyClientPresenceFilter,
  mcpInstanceRpcFilter,
  mcpServerCapabilityTopic,
  mcpServerControlTopic,
  mcpServerPresenceTopic,
} from '@mqtt-agents/core';
import type { Logger, MqttConnection } from '@mqtt-agents/core';
import type { JSONRPCMessage } from '../json-rpc-types.js';
import { resolveRequestTimeouts } from '../default-timeouts.js';
import { DEFAULT_MAX_INBOUND_BYTES } from '../inbound/inbound-messages.js';
import { InboundRouter } from '../inbound/inbound-router.js';
import { McpMqttLink } from '../mcp-mqtt-link.js';
import { TypedEvents } from '../typed-events.js';
import { ClosableHost } from '../host-lifecycle.js';
import { ControlTopic } from './control-topic.js';
import { HostDrain, drainGrace, nothingDrained } from './host-drain.js';
import type { McpDrainOptions, McpDrainResult } from './host-drain.js';
import type { ServerHostContext } from './host-context.js';
import type { McpServerHostEvents, McpServerSession, ServeMcpOverMqttOptions } from './options.js';
import { serverOnlineNotification } from './server-presence.js';
import type { McpServerRbac } from './server-presence.js';
import type { McpMqttServerSessionTransport, SessionEnding } from './server-session-transport.js';
import { DEFAULT_INITIALIZATION_TIMEOUT_MS, DEFAULT_SESSION_IDLE_TIMEOUT_MS } from './session-activity.js';
import {
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_SESSIONS_PER_SENDER,
  SessionAdmission,
  sessionLimit,
  sessionTimeout,
} from './session-admission.js';
import { SessionOpener, clientSessionTopics } from './session-opener.js';
import { SessionRegistry } from './session-registry.js';
import { routeSessionTopic } from './session-topics.js';

const CAPABILITY_NOTIFICATIONS = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
} as const;

/**
 * An MCP server instance on an MQTT broker: one MQTT connection, one SDK server object per client session.
 * Created by `serveMcpOverMqtt`. Inbound traffic goes through `ControlTopic` (initialize) and
 * `routeSessionTopic` (everything of a session); `SessionOpener` admits and opens sessions.
 */
export class McpServerHost extends ClosableHost {
  readonly serverId: string;
  /** The server name in use (the broker's suggestion when it made one). */
  readonly serverName: string;
  /** The MQTT connection (its `client` is the MQTT.js client). */
  readonly connection: MqttConnection;

  private readonly options: ServeMcpOverMqttOptions;
  private readonly link: McpMqttLink;
  private readonly logger: Logger;
  private readonly registry = new SessionRegistry();
  /** What the inbound stages and the session opener see of this host. */
  private readonly context: ServerHostContext;
  private readonly events: TypedEvents<McpServerHostEvents>;
  private readonly control: ControlTopic;
  private readonly controlTopic: string;
  private readonly presenceTopic: string;
  private readonly capabilityTopic: string;
  private readonly ownsConnection: boolean;
  private description: string;
  private meta: Record<string, unknown> | undefined;
  private rbac: McpServerRbac | undefined;
  private draining: HostDrain | undefined;
  /** Set before the drain starts, so that its first presence already says so. */
  private drainBegun = false;

  /** @internal Use `serveMcpOverMqtt`. */
  constructor(init: {
    options: ServeMcpOverMqttOptions;
    connection: MqttConnection;
    serverId: string;
    serverName: string;
    logger: Logger;
    ownsConnection: boolean;
  }) {
    super();
    const { options } = init;
    this.options = options;
    this.connection = init.connection;
    this.serverId = init.serverId;
    this.serverName = init.serverName;
    this.logger = init.logger;
    this.ownsConnection = init.ownsConnection;
    this.events = new TypedEvents<McpServerHostEvents>(init.logger);
    this.description = options.description;
    this.meta = options.meta;
    this.rbac = options.rbac;
    this.link = new McpMqttLink({
      connection: init.connection,
      componentType: McpComponentType.Server,
      qos: options.qos ?? 1,
      logger: init.logger,
      coalesceWindowMs: options.coalesceWindowMs ?? 0,
    });
    this.context = {
      serverId: this.serverId,
      serverName: this.serverName,
      link: this.link,
      logger: this.logger,
      options,
      registry: this.registry,
      trustBrokerIdentity: options.trustBrokerIdentity === true,
      inbound: new InboundRouter({
        peerKind: 'client',
        maxInboundBytes: options.maxInboundBytes ?? DEFAULT_MAX_INBOUND_BYTES,
        logger: init.logger,
        report: (error, session) => this.report(error, session),
      }),
      isClosed: () => this.closed,
      isDraining: () => this.drainBegun,
    };
    const address = { serverId: this.serverId, serverName: this.serverName };
    this.controlTopic = mcpServerControlTopic(address);
    this.presenceTopic = mcpServerPresenceTopic(address);
    this.capabilityTopic = mcpServerCapabilityTopic(address);
    const opener = new SessionOpener(this.context, {
      admission: new SessionAdmission({
        maxSessions: sessionLimit(options.maxSessions, DEFAULT_MAX_SESSIONS, 'maxSessions'),
        maxSessionsPerSender: sessionLimit(
          options.maxSessionsPerSender,
          DEFAULT_MAX_SESSIONS_PER_SENDER,
          'maxSessionsPerSender',
        ),
      }),
      timeouts: resolveRequestTimeouts(options.requestTimeouts),
      healthCheck: options.healthCheck,
      idleTimeoutMs: sessionTimeout(
        options.sessionIdleTimeoutMs,
        DEFAULT_SESSION_IDLE_TIMEOUT_MS,
        'sessionIdleTimeoutMs',
      ),
      initializationTimeoutMs: sessionTimeout(
        options.initializationTimeoutMs,
        DEFAULT_INITIALIZATION_TIMEOUT_MS,
        'initializationTimeoutMs',
      ),
      capabilityTopic: this.capabilityTopic,
      onInitialized: (session) => this.onInitialized(session),
      onEnded: (session, ending) => this.onEnded(session, ending),
    });
    this.control = new ControlTopic(this.context, opener);
  }

  /** Sessions by mcp-client-id, including those still initializing. */
  get sessions(): ReadonlyMap<string, McpServerSession> {
    return this.registry.snapshot();
  }

  /**
   * Call `listener` on every `event` (`session-open`, `session-close`, `draining`, `error`; see
   * {@link McpServerHostEvents}). Returns a function that removes the listener.
   */
  on<E extends keyof McpServerHostEvents>(event: E, listener: McpServerHostEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  /** @internal Subscribe, register presence, start serving. */
  async start(options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    const address = { serverId: this.serverId, serverName: this.serverName };
    this.removers.push(
      this.link.route(this.controlTopic, (message) => this.control.onMessage(message)),
      this.link.route(mcpInstanceRpcFilter(address), (message) =>
        routeSessionTopic(this.context, message, 'rpc'),
      ),
      this.link.route(mcpAnyClientPresenceFilter(), (message) =>
        routeSessionTopic(this.context, message, 'client-presence'),
      ),
      this.link.route(mcpAnyClientCapabilityFilter(), (message) =>
        routeSessionTopic(this.context, message, 'client-capability'),
      ),
      this.connection.on('connection-drop', () => this.onConnectionDrop()),
      this.connection.on('connection-open', () => this.onReconnect()),
      this.connection.on('connection-close', () => void this.close()),
    );
    await this.link.subscribe([this.controlTopic], { noLocal: true }, options.signal);
    await this.publishPresence();
  }

  /** Tell every client of this instance that the tool list changed (one publish on the capability topic). */
  notifyToolListChanged(): Promise<void> {
    return this.publishCapability({ jsonrpc: '2.0', method: CAPABILITY_NOTIFICATIONS.tools });
  }

  /** Tell every client of this instance that the prompt list changed. */
  notifyPromptListChanged(): Promise<void> {
    return this.publishCapability({ jsonrpc: '2.0', method: CAPABILITY_NOTIFICATIONS.prompts });
  }

  /** Tell every client of this instance that the resource list changed. */
  notifyResourceListChanged(): Promise<void> {
    return this.publishCapability({ jsonrpc: '2.0', method: CAPABILITY_NOTIFICATIONS.resources });
  }

  /**
   * Tell clients that a resource changed. The capability topic reaches every client of this instance;
   * client transports pass it only to sessions that subscribed to the URI.
   */
  notifyResourceUpdated(uri: string): Promise<void> {
    return this.publishCapability({
      jsonrpc: '2.0',
      method: 'notifications/resources/updated',
      params: { uri },
    });
  }

  /** Publish a new presence (description, meta, rbac), retained. */
  async updatePresence(update: {
    description?: string;
    meta?: Record<string, unknown>;
    rbac?: McpServerRbac;
  }): Promise<void> {
    if (update.description !== undefined) this.description = update.description;
    if (update.meta !== undefined) this.meta = update.meta;
    if (update.rbac !== undefined) this.rbac = update.rbac;
    await this.publishPresence();
  }

  /** De-initialize one session: `notifications/disconnected` to the client, unsubscribe, close its server. */
  async closeSession(mcpClientId: string): Promise<void> {
    await this.registry.get(mcpClientId)?.session.transport.end({ notifyPeer: true, unsubscribe: true });
  }

  /** True once `drain()` was called. */
  get isDraining(): boolean {
    return this.drainBegun;
  }

  /**
   * Take this instance out of service without losing a call: the retained presence says
   * `meta.draining: true` at once (clients move their sessions elsewhere), every new `initialize` is
   * refused (JSON-RPC error -32000, `data.reason: 'draining'`, see `sessionRefusalReason`), and the open
   * sessions go on being served. Resolves once every session ended, or when `graceMs` ran out (or `signal`
   * aborted, or `close()` was called): then the remaining sessions are closed and the host closes as
   * `close()` does. A second call returns the same promise; on a host already closed it resolves with zeros.
   * Throws for a `graceMs` that is not a number of ms >= 0.
   */
  drain(options: McpDrainOptions = {}): Promise<McpDrainResult> {
    if (this.draining) return this.draining.done;
    const graceMs = drainGrace(options.graceMs);
    if (this.closed) return Promise.resolve(nothingDrained());
    this.drainBegun = true;
    this.draining = new HostDrain(
      {
        sessionCount: () => this.registry.all().length,
        requestsInFlight: () =>
          this.registry.all().reduce((sum, record) => sum + record.session.transport.requestsInFlight, 0),
        publishPresence: () => this.publishPresence(),
        report: (error) => this.report(error),
        close: () => this.close(),
      },
      { graceMs, signal: options.signal },
    );
    this.events.emit('draining', { sessions: this.registry.all().length, graceMs });
    return this.draining.done;
  }

  /**
   * Stop serving: every session is de-initialized, the retained presence is cleared, and the MQTT
   * connection is closed (a client you passed stays open unless `closeClient` was set). Idempotent.
   * During a drain, ends the drain at once (it resolves once the host is closed).
   */
  override close(): Promise<void> {
    this.draining?.settle();
    return super.close();
  }

  protected async shutdown(): Promise<void> {
    const connected = this.connection.connected;
    await Promise.all(
      this.registry
        .all()
        .map((record) =>
          record.session.transport.end({ notifyPeer: connected, unsubscribe: !this.ownsConnection }),
        ),
    );
    if (connected) {
      try {
        if (!this.ownsConnection) await this.connection.unsubscribe(this.controlTopic);
        await this.link.publish(this.presenceTopic, '', { retain: true });
      } catch (error) {
        this.logger.debug('could not clear the presence', error);
      }
    }
    await this.connection.close();
    this.events.clear();
  }

  private publishCapability(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return Promise.reject(new MqttAgentsError('CLOSED', 'the server host is closed'));
    return this.link.publishCoalesced(this.capabilityTopic, message);
  }

  private async publishPresence(): Promise<void> {
    const notification = serverOnlineNotification({
      serverName: this.serverName,
      description: this.description,
      meta: this.drainBegun ? { ...this.meta, draining: true } : this.meta,
      rbac: this.rbac,
    });
    await this.link.publish(this.presenceTopic, JSON.stringify(notification), { retain: true });
  }

  private report(error: Error, session?: { report(error: Error): void }): void {
    this.logger.warn(error.message);
    session?.report(error);
    this.options.onerror?.(error);
    this.events.emit('error', error);
  }

  private onInitialized(transport: McpMqttServerSessionTransport): void {
    const record = this.registry.get(transport.mcpClientId);
    if (!record || record.session.transport !== transport) return;
    record.open = true;
    this.events.emit('session-open', record.session);
  }

  private onEnded(transport: McpMqttServerSessionTransport, ending: SessionEnding): void {
    const record = this.registry.get(transport.mcpClientId);
    if (!record || record.session.transport !== transport) return;
    this.registry.remove(transport.mcpClientId);
    record.slot?.release();
    record.slot = undefined;
    if (ending.unsubscribe)
      this.link.unsubscribeQuietly(clientSessionTopics(transport.mcpClientId, this.context));
    if (ending.reason) this.logger.debug(ending.reason.message);
    this.events.emit('session-close', record.session, ending.reason);
    this.draining?.sessionEnded();
  }

  private onConnectionDrop(): void {
    const reason = new MqttAgentsError('CONNECTION_CLOSED', 'mqtt connection lost: session closed');
    for (const record of this.registry.all()) {
      void record.session.transport.end({ notifyPeer: false, unsubscribe: true, reason });
    }
  }

  private onReconnect(): void {
    if (this.closed) return;
    const newName = getUserProperty(this.connection.connack, McpUserProperty.ServerName);
    if (newName !== undefined && newName !== this.serverName) {
      this.logger.warn(
        `broker suggested server name '${newName}' on reconnect; keeping '${this.serverName}'`,
      );
    }
    void (async () => {
      try {
        await this.link.subscribe([this.controlTopic], { noLocal: true });
        await this.publishPresence();
        this.logger.debug('presence restored after reconnect');
      } catch (error) {
        this.report(
          new MqttAgentsError('PUBLISH_FAILED', 'could not restore presence after reconnect', {
            cause: error,
          }),
        );
      }
    })();
  }
}
