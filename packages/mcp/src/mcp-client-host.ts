import {
  McpComponentType,
  McpUserProperty,
  MqttAgentsError,
  abortError,
  assertMcpClientId,
  assertServerId,
  assertServerName,
  assertServerNameFilter,
  connectMqtt,
  createLogger,
  decodeJson,
  getUserProperty,
  isValidIdentifier,
  matchTopicFilter,
  mcpServerPresenceFilter,
  parseMcpTopic,
} from '@mqtt-agents/core';
import type { Logger, MqttConnection, MqttMessage, MqttQoS } from '@mqtt-agents/core';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { clientWill, openBindingConnection } from './binding-connect-options.js';
import { resolveRequestTimeouts } from './default-timeouts.js';
import type { RequestTimeoutsOption } from './default-timeouts.js';
import type { HealthCheckOptions } from './health-check.js';
import { DEFAULT_MAX_INBOUND_BYTES } from './inbound-messages.js';
import { InstanceSelectionState } from './instance-selection.js';
import type { InstanceSelection } from './instance-selection.js';
import { McpClientConnection } from './mcp-client-connection.js';
import type { ClientSessionSettings } from './mcp-client-connection.js';
import { McpMqttLink, spoofedSender } from './mcp-mqtt-link.js';
import type { MqttClientTransport } from './mqtt-client-transport.js';
import { isClientOptions } from './mqtt-connect-options.js';
import type { McpMqttConnectOptions } from './mqtt-connect-options.js';
import { randomId } from './random-id.js';
import { ServerDiscovery } from './server-discovery.js';
import type { McpServerChange } from './server-discovery.js';
import { readServerPresence } from './server-presence.js';
import type { McpServerInstance } from './server-presence.js';
import { TypedEvents } from './typed-events.js';

/** A role the broker granted this client on some server (CONNACK `MCP-RBAC`). */
export interface McpClientRole {
  /** The server name (or server name filter) the role applies to. */
  serverName: string;
  roleName: string;
}

/** What `connect()` accepts: an SDK `Client` (anything whose `connect` takes a transport and request options). */
export interface McpClientLike {
  connect(transport: Transport, options?: { timeout?: number; signal?: AbortSignal }): Promise<void>;
}

export interface CreateMcpMqttClientHostOptions {
  /** Broker connection options, or your own MQTT.js client (see `mcpClientMqttOptions`). */
  mqtt: McpMqttConnectOptions;
  /**
   * Server name filters to discover (`factory/#`). Default `['#']`. Broker-suggested filters (CONNACK
   * `MCP-SERVER-NAME-FILTERS`) replace them.
   */
  serverNameFilters?: string[];
  /** The mcp-client-id (MQTT client id) of the host's connection; generated when omitted. */
  clientId?: string;
  /** `MCP-META` on CONNECT (version, implementation, location), for brokers that suggest filters. */
  componentMeta?: Record<string, unknown>;
  /** QoS of every publish and subscription. Default 1. */
  qos?: MqttQoS;
  /** Timeouts of client requests per method; defaults from the spec (`MCP_MQTT_DEFAULT_TIMEOUTS`). */
  requestTimeouts?: RequestTimeoutsOption;
  /** Ping every server of a session periodically; a failed ping closes that session. Off by default. */
  healthCheck?: HealthCheckOptions;
  /**
   * The capability topic reaches every client of a server instance: pass `notifications/resources/updated`
   * only to sessions that subscribed to the URI. Default true.
   */
  filterResourceUpdates?: boolean;
  /** Identical capability notifications within this many ms are published once. Default 0 (same tick). */
  coalesceWindowMs?: number;
  /** Largest inbound payload decoded, in bytes; larger ones are dropped and reported. Default 16 MiB. */
  maxInboundBytes?: number;
  /** Receives every problem the host notices (bad input, garbage presence); also logged. */
  onerror?: (error: Error) => void;
  logger?: Logger;
  signal?: AbortSignal;
}

export interface ConnectToServerOptions {
  /** How to choose among the online instances of the server name. Default `random`. */
  select?: InstanceSelection;
  /** Talk to this instance, without waiting for its presence. */
  serverId?: string;
  /**
   * Open a dedicated MQTT connection (a fresh mcp-client-id) for this session; it closes with the session.
   * Needed for a second session with the same server instance. Only with connection options, not a client.
   */
  dedicatedConnection?: boolean;
  /** How long to wait for an instance to come online, in ms. Default 30 000. */
  waitTimeoutMs?: number;
  /** Timeout of `initialize`, in ms. Default 30 000 (the spec's). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface McpClientHostEvents {
  /** A problem the host reported (the same errors `onerror` receives). */
  error: (error: Error) => void;
}

/**
 * MCP clients on an MQTT broker: one MQTT connection (one mcp-client-id), discovery of servers by presence,
 * and sessions with server instances for SDK `Client`s. Created by {@link createMcpMqttClientHost}.
 */
export class McpClientHost {
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
  private readonly removers: Array<() => void> = [];
  private closing: Promise<void> | undefined;

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
    this.primary = this.wrap(init.connection, false);
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  on<E extends keyof McpClientHostEvents>(event: E, listener: McpClientHostEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  /** @internal Subscribe to presence (awaiting SUBACK). */
  async start(signal: AbortSignal | undefined): Promise<void> {
    this.removers.push(
      this.connection.addMessageHandler('$mcp-server/presence/#', (message) => this.onPresence(message)),
      this.connection.on('connection-drop', () => this.discovery.allOffline()),
      this.connection.on('connection-open', () => this.onReconnect()),
      this.connection.on('connection-close', () => void this.close()),
    );
    await this.subscribePresence(signal);
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
   * you connect yourself: `await client.connect(await host.createTransport('factory/press'))`.
   */
  async createTransport(
    serverName: string,
    options: ConnectToServerOptions = {},
  ): Promise<MqttClientTransport> {
    this.assertOpen();
    assertServerName(serverName);
    const signal = options.signal;
    if (signal?.aborted) throw abortError(signal, `connect to server '${serverName}'`);
    const dedicated = options.dedicatedConnection === true;
    let serverId: string;
    if (options.serverId !== undefined) {
      serverId = assertServerId(options.serverId);
    } else {
      const online = await this.discovery.waitFor(serverName, {
        signal,
        timeoutMs: options.waitTimeoutMs ?? 30_000,
      });
      const candidates = dedicated
        ? online
        : online.filter((instance) => !this.primary.hasSessionWith(instance.serverId));
      if (candidates.length === 0) {
        throw new MqttAgentsError(
          'DUPLICATE_SESSION',
          `every online instance of server '${serverName}' already has a session on mqtt client '${this.mcpClientId}': connect with { dedicatedConnection: true }`,
          { details: { serverName, instances: online.map((instance) => instance.serverId) } },
        );
      }
      const chosen = this.selection.select(options.select ?? 'random', candidates, serverName);
      if (!chosen) {
        throw new MqttAgentsError(
          'NOT_CONNECTED',
          `instance selection chose no instance of server '${serverName}'`,
          {
            details: { serverName },
          },
        );
      }
      serverId = chosen.serverId;
    }
    if (!dedicated) return this.primary.createTransport({ serverId, serverName });
    const connection = await this.openDedicatedConnection(signal);
    return connection.createTransport({ serverId, serverName }, () => connection.close());
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
  ): Promise<MqttClientTransport> {
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
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async shutdown(): Promise<void> {
    for (const remove of this.removers.splice(0)) remove();
    this.discovery.end();
    if (!this.ownsConnection && this.connection.connected) {
      await this.connection
        .unsubscribe(this.serverNameFilters.map((filter) => mcpServerPresenceFilter(filter)))
        .catch((error: unknown) => this.logger.debug('could not unsubscribe from presence', error));
    }
    await Promise.all([...this.connections].map((connection) => connection.close()));
    this.events.clear();
  }

  private assertOpen(): void {
    if (this.closing) throw new MqttAgentsError('CLOSED', 'the mcp client host is closed');
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

  private async openDedicatedConnection(signal: AbortSignal | undefined): Promise<McpClientConnection> {
    const mqtt = this.options.mqtt;
    if (isClientOptions(mqtt)) {
      throw new MqttAgentsError(
        'UNSUPPORTED',
        'dedicatedConnection needs connection options ({ url }), not an mqtt client',
      );
    }
    const connection = await openClientConnection(mqtt, {
      mcpClientId: randomId('mcp-client'),
      componentMeta: this.options.componentMeta,
      qos: this.options.qos ?? 1,
      logger: this.logger,
      signal,
    });
    if (this.closing) {
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
    if (this.closing) return;
    this.subscribePresence().catch((error: unknown) =>
      this.report(
        new MqttAgentsError('SUBSCRIBE_FAILED', 'could not restore discovery after reconnect', {
          cause: error,
        }),
      ),
    );
  }

  private onPresence(message: MqttMessage): void {
    if (this.closing) return;
    const topic = parseMcpTopic(message.topic);
    if (!topic || topic.kind !== 'server-presence') {
      this.report(
        new MqttAgentsError(
          'PROTOCOL_ERROR',
          `ignored a presence message on an invalid topic '${message.topic}'`,
          {
            details: { topic: message.topic },
          },
        ),
      );
      return;
    }
    const claimed = spoofedSender(message, topic.serverId);
    if (claimed !== undefined) {
      this.report(
        new MqttAgentsError(
          'PROTOCOL_ERROR',
          `ignored presence on '${message.topic}': MCP-MQTT-CLIENT-ID '${claimed}' does not match server '${topic.serverId}'`,
          { details: { topic: message.topic, claimed } },
        ),
      );
      return;
    }
    const reading = readServerPresence(topic, message.payload);
    switch (reading.kind) {
      case 'online':
        this.discovery.online(reading.instance);
        return;
      case 'offline':
        this.discovery.offline(topic);
        for (const connection of this.connections) connection.serverOffline(topic.serverId);
        return;
      case 'invalid':
        this.report(
          new MqttAgentsError(
            'PROTOCOL_ERROR',
            `ignored presence of server '${topic.serverId}' (${topic.serverName}): ${reading.reason}`,
            { details: { topic: message.topic, retained: message.retain } },
          ),
        );
        return;
    }
  }
}

async function openClientConnection(
  mqtt: McpMqttConnectOptions,
  options: {
    mcpClientId: string;
    componentMeta: Record<string, unknown> | undefined;
    qos: MqttQoS;
    logger: Logger;
    signal: AbortSignal | undefined;
  },
): Promise<MqttConnection> {
  return openBindingConnection(
    mqtt,
    {
      clientId: options.mcpClientId,
      componentType: McpComponentType.Client,
      componentMeta: options.componentMeta,
      will: clientWill({ mcpClientId: options.mcpClientId, qos: options.qos }),
    },
    { logger: options.logger, signal: options.signal },
  );
}

function parseJsonProperty(value: string | undefined, what: string, logger: Logger): unknown {
  if (value === undefined) return undefined;
  const decoded = decodeJson(value, { maxBytes: 256 * 1024 });
  if (!decoded.ok) {
    logger.warn(`ignored broker ${what}: ${decoded.error.message}`);
    return undefined;
  }
  return decoded.value;
}

function readSuggestedFilters(value: unknown, logger: Logger): string[] | undefined {
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((item) => isValidIdentifier('server-name-filter', item))
  ) {
    logger.warn('ignored broker-suggested server name filters: not a non-empty array of valid filters');
    return undefined;
  }
  return value as string[];
}

function readRoles(value: unknown, logger: Logger): McpClientRole[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    logger.warn('ignored broker MCP-RBAC: not a json array');
    return [];
  }
  const roles: McpClientRole[] = [];
  for (const entry of value) {
    const record = entry as { server_name?: unknown; role_name?: unknown } | null;
    if (typeof record?.server_name === 'string' && typeof record.role_name === 'string') {
      roles.push({ serverName: record.server_name, roleName: record.role_name });
    } else {
      logger.warn('ignored a malformed MCP-RBAC entry');
    }
  }
  return roles;
}

/**
 * Connect MCP clients to an MQTT broker: opens the connection (or adopts your client) with the client
 * will, reads the broker's suggestions from CONNACK, and subscribes to server presence before returning.
 *
 * ```ts
 * await using clients = await createMcpMqttClientHost({ mqtt: { url }, serverNameFilters: ['factory/#'] });
 * const client = new Client({ name: 'planner', version: '1.0.0' });
 * await clients.connect(client, 'factory/line-7/press');
 * ```
 */
export async function createMcpMqttClientHost(
  options: CreateMcpMqttClientHostOptions,
): Promise<McpClientHost> {
  const logger = createLogger('mqtt-agents:mcp', options.logger);
  if (options.signal?.aborted) throw abortError(options.signal, 'create mcp client host');
  const configuredFilters = options.serverNameFilters ?? ['#'];
  if (configuredFilters.length === 0) {
    throw new MqttAgentsError('INVALID_TOPIC_FILTER', 'serverNameFilters must hold at least one filter');
  }
  for (const filter of configuredFilters) assertServerNameFilter(filter);
  const qos = options.qos ?? 1;
  let connection: MqttConnection;
  let mcpClientId: string;
  let owns: boolean;
  if (isClientOptions(options.mqtt)) {
    const mqtt = options.mqtt;
    connection = await connectMqtt({
      client: mqtt.client,
      closeClient: mqtt.closeClient ?? false,
      ...(mqtt.connectTimeoutMs !== undefined ? { connectTimeoutMs: mqtt.connectTimeoutMs } : {}),
      logger,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    owns = mqtt.closeClient ?? false;
    mcpClientId = assertMcpClientId(connection.connack.clientId || mqtt.client.options.clientId);
    const will = mqtt.client.options.will;
    if (will?.topic !== `$mcp-client/presence/${mcpClientId}`) {
      logger.warn(
        "the mqtt client's will is not notifications/disconnected on its presence topic: build its options with mcpClientMqttOptions()",
      );
    }
  } else {
    mcpClientId = assertMcpClientId(options.clientId ?? randomId('mcp-client'));
    owns = true;
    connection = await openClientConnection(options.mqtt, {
      mcpClientId,
      componentMeta: options.componentMeta,
      qos,
      logger,
      signal: options.signal,
    });
  }
  const connack = connection.connack;
  const suggested = readSuggestedFilters(
    parseJsonProperty(
      getUserProperty(connack, McpUserProperty.ServerNameFilters),
      'MCP-SERVER-NAME-FILTERS',
      logger,
    ),
    logger,
  );
  const roles = readRoles(
    parseJsonProperty(getUserProperty(connack, McpUserProperty.Rbac), 'MCP-RBAC', logger),
    logger,
  );
  const host = new McpClientHost({
    options,
    connection,
    mcpClientId,
    serverNameFilters: suggested ?? configuredFilters,
    roles,
    logger,
    ownsConnection: owns,
  });
  try {
    await host.start(options.signal);
  } catch (error) {
    await host.close();
    throw error;
  }
  return host;
}
