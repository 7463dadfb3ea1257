import {
  McpComponentType,
  MqttAgentsError,
  abortError,
  assertServerId,
  assertServerName,
  isClientConnectionOptions,
  matchTopicFilter,
  mcpAnyServerPresenceFilter,
  mcpServerPresenceFilter,
} from '@mqtt-agents/core';
import type { Logger, MqttConnection, MqttMessage } from '@mqtt-agents/core';
import { resolveRequestTimeouts } from '../default-timeouts.js';
import { DEFAULT_MAX_INBOUND_BYTES } from '../inbound/inbound-messages.js';
import { InboundRouter } from '../inbound/inbound-router.js';
import { McpMqttLink } from '../mcp-mqtt-link.js';
import { randomId } from '../random-id.js';
import type { McpServerInstance } from '../server/server-presence.js';
import { TypedEvents } from '../typed-events.js';
import { ClosableHost } from '../host-lifecycle.js';
import { McpClientConnection } from './client-connection.js';
import type { ClientSessionSettings } from './client-connection.js';
import { McpMqttClientTransport } from './client-transport.js';
import type { McpFailoverEvent } from './failover-policy.js';
import { resolveFailover } from './failover-policy.js';
import type { InstanceTransport } from './instance-transport.js';
import type { InstanceSelection } from './instance-selection.js';
import { openClientConnection } from './connack-suggestions.js';
import { chooseInstance, isDraining } from './instance-choice.js';
import { InstanceSelectionState } from './instance-selection.js';
import type {
  ConnectToServerOptions,
  CreateMcpMqttClientHostOptions,
  McpClientHostEvents,
  McpClientLike,
  McpClientRole,
} from './options.js';
import { routePresence } from './presence-topic.js';
import { ServerDiscovery } from './server-discovery.js';
import type { McpServerChange } from './server-discovery.js';

/**
 * MCP clients on an MQTT broker: one MQTT connection (one mcp-client-id), discovery of servers by presence,
 * and sessions with server instances for SDK `Client`s. Created by {@link createMcpMqttClientHost}.
 */
export class McpClientHost extends ClosableHost {
  /** The mcp-client-id of the host's connection. */
  readonly mcpClientId: string;
  /** The server name filters in use (the broker's suggestion when it made one). */
  readonly serverNameFilters: readonly string[];
  /** Roles the broker granted in CONNACK (`MCP-RBAC`); empty when it sent none. */
  readonly roles: readonly McpClientRole[];
  /** The MQTT connection (its `client` is the MQTT.js client). */
  readonly connection: MqttConnection;

  private readonly options: CreateMcpMqttClientHostOptions;
  private readonly logger: Logger;
  private readonly primary: McpClientConnection;
  private readonly connections = new Set<McpClientConnection>();
  private readonly discovery = new ServerDiscovery();
  private readonly selection = new InstanceSelectionState();
  private readonly settings: ClientSessionSettings;
  private readonly events: TypedEvents<McpClientHostEvents>;
  private readonly ownsConnection: boolean;
  private readonly inbound: InboundRouter;
  /** The public session transports, for drain notices; each leaves when it closes. */
  private readonly transports = new Set<McpMqttClientTransport>();
  private readonly maxConnections: number;

  /** @internal Use {@link createMcpMqttClientHost}. */
  constructor(init: {
    options: CreateMcpMqttClientHostOptions;
    connection: MqttConnection;
    mcpClientId: string;
    serverNameFilters: string[];
    roles: McpClientRole[];
    logger: Logger;
    ownsConnection: boolean;
  }) {
    super();
    this.options = init.options;
    this.connection = init.connection;
    this.mcpClientId = init.mcpClientId;
    this.serverNameFilters = Object.freeze([...init.serverNameFilters]);
    this.roles = Object.freeze([...init.roles]);
    this.logger = init.logger;
    this.ownsConnection = init.ownsConnection;
    this.events = new TypedEvents<McpClientHostEvents>(init.logger);
    this.settings = {
      timeouts: resolveRequestTimeouts(init.options.requestTimeouts),
      healthCheck: init.options.healthCheck,
      filterResourceUpdates: init.options.filterResourceUpdates ?? true,
      maxInboundBytes: init.options.maxInboundBytes ?? DEFAULT_MAX_INBOUND_BYTES,
    };
    this.inbound = new InboundRouter({
      peerKind: 'server',
      maxInboundBytes: this.settings.maxInboundBytes,
      logger: init.logger,
      report: (error) => this.report(error),
    });
    this.maxConnections = init.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (!Number.isInteger(this.maxConnections) || this.maxConnections < 0) {
      throw new MqttAgentsError('INVALID_PAYLOAD', 'maxConnections must be a whole number >= 0');
    }
    this.primary = this.wrap(init.connection, false);
  }

  /**
   * Call `listener` on every `event` (`error`, `failover`; see {@link McpClientHostEvents}). Returns a
   * function that removes the listener.
   */
  on<E extends keyof McpClientHostEvents>(event: E, listener: McpClientHostEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  /** @internal Subscribe to presence (awaiting SUBACK). */
  async start(options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    this.removers.push(
      this.connection.addMessageHandler(mcpAnyServerPresenceFilter(), (message) => this.onPresence(message)),
      this.connection.on('connection-drop', () => this.discovery.allOffline()),
      this.connection.on('connection-open', () => this.onReconnect()),
      this.connection.on('connection-close', () => void this.close()),
    );
    await this.subscribePresence(options.signal);
  }

  /** The online server instances seen so far, by server name. */
  servers(): Map<string, McpServerInstance[]> {
    return this.discovery.snapshot();
  }

  /** The online instances of one server name. */
  instancesOf(serverName: string): McpServerInstance[] {
    return this.discovery.instancesOf(serverName);
  }

  /**
   * Server presence changes: first an `online` change for every instance already known, then every change
   * as it happens. Ends when the host closes or the signal aborts.
   *
   * ```ts
   * for await (const change of host.discover({ signal })) console.log(change.type, change.server.serverName);
   * ```
   */
  discover(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<McpServerChange> {
    return this.discovery.changes(options.signal);
  }

  /** The role names the broker granted this client for `serverName` (CONNACK `MCP-RBAC`). */
  rolesFor(serverName: string): string[] {
    return this.roles
      .filter((role) => {
        if (role.serverName === serverName) return true;
        try {
          return matchTopicFilter(role.serverName, serverName);
        } catch {
          return false;
        }
      })
      .map((role) => role.roleName);
  }

  /** Wait until an instance of `serverName` is online. */
  async waitForServer(
    serverName: string,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<McpServerInstance[]> {
    return await this.discovery.waitFor(assertServerName(serverName), {
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? 30_000,
    });
  }

  /**
   * A transport for a new session with an instance of `serverName` (chosen with `select`), for SDK clients
   * you connect yourself: `await client.connect(await host.createTransport('factory/press'))`. With
   * failover on (the default) the session moves to another instance when its instance is lost or drains.
   */
  async createTransport(
    serverName: string,
    options: ConnectToServerOptions = {},
  ): Promise<McpMqttClientTransport> {
    this.assertOpen();
    assertServerName(serverName);
    const signal = options.signal;
    if (signal?.aborted) throw abortError(signal, `connect to server '${serverName}'`);
    const policy = resolveFailover(options.failover ?? this.options.failover);
    const placeOptions = {
      serverName,
      select: options.select,
      dedicated: options.dedicatedConnection === true,
    };
    const first = await this.placeSession({
      ...placeOptions,
      ...(options.serverId !== undefined ? { serverId: assertServerId(options.serverId) } : {}),
      exclude: new Set(),
      signal,
      timeoutMs: options.waitTimeoutMs ?? 30_000,
    });
    const transport = new McpMqttClientTransport(first, {
      serverName,
      policy,
      logger: this.logger,
      pinned: options.serverId !== undefined,
      place: ({ exclude, signal: moveSignal }) =>
        this.placeSession({
          ...placeOptions,
          exclude,
          signal: moveSignal,
          timeoutMs: policy?.timeoutMs ?? 30_000,
        }),
      hasAlternative: (exclude) =>
        this.discovery
          .instancesOf(serverName)
          .some((instance) => !exclude.has(instance.serverId) && !isDraining(instance)),
      report: (event) => this.reportFailover(event),
      closed: (closed) => this.transports.delete(closed as McpMqttClientTransport),
    });
    this.transports.add(transport);
    return transport;
  }

  /**
   * Connect an SDK `Client` to an instance of `serverName`: picks the instance, runs `initialize` over the
   * control topic (with the spec's 30 s timeout) and returns the session's transport. Close the session
   * with `client.close()` (de-initializes; the MQTT connection stays).
   */
  async connect(
    client: McpClientLike,
    serverName: string,
    options: ConnectToServerOptions = {},
  ): Promise<McpMqttClientTransport> {
    const transport = await this.createTransport(serverName, options);
    try {
      await client.connect(transport, {
        timeout: options.timeoutMs ?? this.settings.timeouts.get('initialize') ?? 30_000,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      await transport.end({ notifyPeer: true });
      throw error;
    }
    return transport;
  }

  /**
   * Close every session, announce `notifications/disconnected` on the client presence topic and close the
   * MQTT connection (a client you passed stays open unless `closeClient` was set). Ends `discover()`
   * iterators. Idempotent.
   */
  override close(): Promise<void> {
    return super.close();
  }

  protected async shutdown(): Promise<void> {
    // Sessions first, so none starts a move while the connections go.
    await Promise.all([...this.transports].map((transport) => transport.end({ notifyPeer: false })));
    this.discovery.end();
    if (!this.ownsConnection && this.connection.connected) {
      await this.connection
        .unsubscribe(this.serverNameFilters.map((filter) => mcpServerPresenceFilter(filter)))
        .catch((error: unknown) => this.logger.debug('could not unsubscribe from presence', error));
    }
    await Promise.all([...this.connections].map((connection) => connection.close()));
    this.events.clear();
  }

  /**
   * A new, unstarted instance session for `serverName`: on the host's own connection when it has no session
   * with the chosen instance yet, else on a connection opened on demand (closed with the session).
   */
  private async placeSession(request: {
    serverName: string;
    select: InstanceSelection | undefined;
    dedicated: boolean;
    serverId?: string;
    exclude: ReadonlySet<string>;
    signal: AbortSignal | undefined;
    timeoutMs: number;
  }): Promise<InstanceTransport> {
    const { serverName, dedicated } = request;
    let choice: { serverId: string; onPrimary: boolean };
    if (request.serverId !== undefined) {
      choice = {
        serverId: request.serverId,
        onPrimary: !dedicated && !this.primary.hasSessionWith(request.serverId),
      };
    } else {
      const online = await this.discovery.waitFor(serverName, {
        signal: request.signal,
        timeoutMs: request.timeoutMs,
        accept: (instance) => !request.exclude.has(instance.serverId) && !isDraining(instance),
      });
      choice = chooseInstance(
        { selection: this.selection, hasSessionWith: (id) => this.primary.hasSessionWith(id) },
        serverName,
        online,
        { select: request.select, dedicated },
      );
    }
    const server = { serverId: choice.serverId, serverName };
    if (choice.onPrimary) return this.primary.createTransport(server);
    const connection = await this.openDedicatedConnection(request.signal, server, dedicated);
    return connection.createTransport(server, () => connection.close());
  }

  private reportFailover(event: McpFailoverEvent): void {
    const where = event.to ? `to '${event.to}'` : 'nowhere';
    const message = `session with '${event.serverName}' moved from '${event.from}' ${where} (${event.reason}): ${event.retried} retried, ${event.failed} failed`;
    if (event.outcome === 'moved') this.logger.info(message);
    else this.logger.warn(`${message}: ${event.error?.message ?? 'no instance'}`);
    this.events.emit('failover', event);
  }

  private assertOpen(): void {
    if (this.closed) throw new MqttAgentsError('CLOSED', 'the mcp client host is closed');
  }

  private wrap(connection: MqttConnection, dedicated: boolean): McpClientConnection {
    const link = new McpMqttLink({
      connection,
      componentType: McpComponentType.Client,
      qos: this.options.qos ?? 1,
      logger: this.logger,
      coalesceWindowMs: this.options.coalesceWindowMs ?? 0,
    });
    const wrapped = new McpClientConnection({
      link,
      dedicated,
      settings: this.settings,
      report: (error) => this.report(error),
    });
    this.connections.add(wrapped);
    connection.on('connection-close', () => this.connections.delete(wrapped));
    return wrapped;
  }

  private async openDedicatedConnection(
    signal: AbortSignal | undefined,
    server: { serverId: string; serverName: string },
    asked: boolean,
  ): Promise<McpClientConnection> {
    const mqtt = this.options.mqtt;
    if (isClientConnectionOptions(mqtt)) {
      if (asked) {
        throw new MqttAgentsError(
          'UNSUPPORTED',
          'dedicatedConnection needs connection options ({ url }), not an mqtt client',
        );
      }
      throw duplicateSession(
        server,
        this.mcpClientId,
        'the host opens another connection on demand only with connection options ({ url }), not with an mqtt client you passed',
      );
    }
    if (!asked && this.connections.size - 1 >= this.maxConnections) {
      throw duplicateSession(
        server,
        this.mcpClientId,
        `the host already holds maxConnections (${this.maxConnections}) extra connections`,
      );
    }
    const connection = await openClientConnection(mqtt, {
      mcpClientId: randomId('mcp-client'),
      componentMeta: this.options.componentMeta,
      qos: this.options.qos ?? 1,
      logger: this.logger,
      signal,
    });
    if (this.closed) {
      await connection.close();
      throw new MqttAgentsError('CLOSED', 'the mcp client host is closed');
    }
    return this.wrap(connection, true);
  }

  private report(error: Error): void {
    this.logger.warn(error.message);
    this.options.onerror?.(error);
    this.events.emit('error', error);
  }

  private async subscribePresence(signal?: AbortSignal): Promise<void> {
    await this.connection.subscribe(
      this.serverNameFilters.map((filter) => mcpServerPresenceFilter(filter)),
      { qos: this.options.qos ?? 1 },
      signal,
    );
  }

  private onReconnect(): void {
    if (this.closed) return;
    this.subscribePresence().catch((error: unknown) =>
      this.report(
        new MqttAgentsError('SUBSCRIBE_FAILED', 'could not restore discovery after reconnect', {
          cause: error,
        }),
      ),
    );
  }

  private onPresence(message: MqttMessage): void {
    if (this.closed) return;
    routePresence(message, {
      inbound: this.inbound,
      discovery: this.discovery,
      onOnline: (instance) => {
        if (!isDraining(instance)) return;
        for (const transport of [...this.transports]) transport.instanceDraining(instance.serverId);
      },
      onOffline: (serverId) => {
        for (const connection of this.connections) connection.serverOffline(serverId);
      },
    });
  }
}

/** Default of `maxConnections`: extra connections a client host opens on demand. */
export const DEFAULT_MAX_CONNECTIONS = 16;

/**
 * The spec's topics carry one session per (mcp-client-id, server-id): a second session with an instance
 * needs a second connection. This error says so, and why the host could not open one.
 */
function duplicateSession(
  server: { serverId: string; serverName: string },
  mcpClientId: string,
  why: string,
): MqttAgentsError {
  return new MqttAgentsError(
    'DUPLICATE_SESSION',
    `every usable instance of server '${server.serverName}' already has a session on mqtt client '${mcpClientId}' (the MCP over MQTT topics carry one session per client and instance), and ${why}`,
    { details: { serverId: server.serverId, serverName: server.serverName, mcpClientId } },
  );
}
