import {
  McpComponentType,
  McpUserProperty,
  MqttAgentsError,
  abortError,
  assertServerId,
  assertServerName,
  connectMqtt,
  createLogger,
  getUserProperty,
  isValidIdentifier,
  mcpClientCapabilityTopic,
  mcpClientPresenceTopic,
  mcpRpcTopic,
  mcpServerCapabilityTopic,
  mcpServerControlTopic,
  mcpServerPresenceTopic,
  printable,
  readPublishMetadata,
} from '@mqtt-agents/core';
import type { Logger, MqttConnection, MqttMessage } from '@mqtt-agents/core';
import type { JSONRPCMessage, MessageExtraInfo, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { openBindingConnection, serverWill } from './binding-connect-options.js';
import { brokerCaller, callerAuthInfo, sameCaller, stampedSender, topicCaller } from './caller-identity.js';
import type { McpCallerIdentity, StampedSender } from './caller-identity.js';
import { resolveRequestTimeouts } from './default-timeouts.js';
import { DEFAULT_MAX_INBOUND_BYTES, decodeMcpPayload, isRequest, methodOf } from './inbound-messages.js';
import { McpMqttLink, spoofedSender } from './mcp-mqtt-link.js';
import { isClientOptions } from './mqtt-connect-options.js';
import { MqttServerSessionTransport } from './mqtt-server-session-transport.js';
import type { SessionEnding } from './mqtt-server-session-transport.js';
import { randomId } from './random-id.js';
import {
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_SESSIONS_PER_SENDER,
  SessionAdmission,
  isRefusal,
  sessionLimit,
  sessionTimeout,
} from './session-admission.js';
import type { SessionRefusal, SessionSlot } from './session-admission.js';
import { DEFAULT_INITIALIZATION_TIMEOUT_MS, DEFAULT_SESSION_IDLE_TIMEOUT_MS } from './session-activity.js';
import { serverOnlineNotification } from './server-presence.js';
import type { McpServerRbac } from './server-presence.js';
import { TypedEvents } from './typed-events.js';
import type {
  McpServerHostEvents,
  McpServerLike,
  McpServerSession,
  ServeMcpOverMqttOptions,
} from './mcp-server-host-options.js';

export type { McpServerHostEvents, McpServerLike, McpServerSession, ServeMcpOverMqttOptions };

const RPC_PREFIX = '$mcp-rpc/';
const CLIENT_PRESENCE_PREFIX = '$mcp-client/presence/';
const CLIENT_CAPABILITY_PREFIX = '$mcp-client/capability/';

/** The per-session topics a server host routes by mcp-client-id. */
type SessionTopicKind = 'rpc' | 'client-presence' | 'client-capability';

/**
 * The mcp-client-id level of a topic that matched the route of `kind`: `$mcp-rpc/{id}/{server-id}/{name}`,
 * `$mcp-client/presence/{id}` or `$mcp-client/capability/{id}`.
 */
function sessionTopicClientId(topic: string, kind: SessionTopicKind): string {
  if (kind === 'rpc') return topic.slice(RPC_PREFIX.length, topic.indexOf('/', RPC_PREFIX.length));
  return topic.slice((kind === 'client-presence' ? CLIENT_PRESENCE_PREFIX : CLIENT_CAPABILITY_PREFIX).length);
}

interface SessionRecord {
  session: McpServerSession;
  server: McpServerLike | undefined;
  open: boolean;
  /** Its place in the session limits; moved to the new record when the client initializes again. */
  slot: SessionSlot | undefined;
}

const CAPABILITY_NOTIFICATIONS = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
} as const;

/**
 * An MCP server instance on an MQTT broker: one MQTT connection, one SDK server object per client session.
 * Created by {@link serveMcpOverMqtt}.
 */
export class McpServerHost {
  readonly serverId: string;
  /** The server name in use (the broker's suggestion when it made one). */
  readonly serverName: string;
  /** The MQTT connection (its `client` is the MQTT.js client). */
  readonly connection: MqttConnection;

  private readonly options: ServeMcpOverMqttOptions;
  private readonly link: McpMqttLink;
  private readonly logger: Logger;
  private readonly events: TypedEvents<McpServerHostEvents>;
  private readonly records = new Map<string, SessionRecord>();
  private readonly opening = new Map<string, Promise<void>>();
  /** Clients whose sessions ended lately: late messages from them are expected, not suspicious. */
  private readonly recentlyEnded = new Set<string>();
  private readonly timeouts: ReadonlyMap<string, number>;
  private readonly admission: SessionAdmission;
  private readonly idleTimeoutMs: number;
  private readonly initializationTimeoutMs: number;
  private readonly trustBrokerIdentity: boolean;
  private readonly controlTopic: string;
  private readonly presenceTopic: string;
  private readonly capabilityTopic: string;
  private readonly ownsConnection: boolean;
  private readonly removers: Array<() => void> = [];
  private description: string;
  private meta: Record<string, unknown> | undefined;
  private rbac: McpServerRbac | undefined;
  private closing: Promise<void> | undefined;

  /** @internal Use {@link serveMcpOverMqtt}. */
  constructor(init: {
    options: ServeMcpOverMqttOptions;
    connection: MqttConnection;
    serverId: string;
    serverName: string;
    logger: Logger;
    ownsConnection: boolean;
  }) {
    this.options = init.options;
    this.connection = init.connection;
    this.serverId = init.serverId;
    this.serverName = init.serverName;
    this.logger = init.logger;
    this.ownsConnection = init.ownsConnection;
    this.events = new TypedEvents<McpServerHostEvents>(init.logger);
    this.description = init.options.description;
    this.meta = init.options.meta;
    this.rbac = init.options.rbac;
    this.timeouts = resolveRequestTimeouts(init.options.requestTimeouts);
    this.admission = new SessionAdmission({
      maxSessions: sessionLimit(init.options.maxSessions, DEFAULT_MAX_SESSIONS, 'maxSessions'),
      maxSessionsPerSender: sessionLimit(
        init.options.maxSessionsPerSender,
        DEFAULT_MAX_SESSIONS_PER_SENDER,
        'maxSessionsPerSender',
      ),
    });
    this.idleTimeoutMs = sessionTimeout(
      init.options.sessionIdleTimeoutMs,
      DEFAULT_SESSION_IDLE_TIMEOUT_MS,
      'sessionIdleTimeoutMs',
    );
    this.initializationTimeoutMs = sessionTimeout(
      init.options.initializationTimeoutMs,
      DEFAULT_INITIALIZATION_TIMEOUT_MS,
      'initializationTimeoutMs',
    );
    this.trustBrokerIdentity = init.options.trustBrokerIdentity === true;
    this.link = new McpMqttLink({
      connection: init.connection,
      componentType: McpComponentType.Server,
      qos: init.options.qos ?? 1,
      logger: init.logger,
      coalesceWindowMs: init.options.coalesceWindowMs ?? 0,
    });
    const address = { serverId: this.serverId, serverName: this.serverName };
    this.controlTopic = mcpServerControlTopic(address);
    this.presenceTopic = mcpServerPresenceTopic(address);
    this.capabilityTopic = mcpServerCapabilityTopic(address);
  }

  /** Sessions by mcp-client-id, including those still initializing. */
  get sessions(): ReadonlyMap<string, McpServerSession> {
    return new Map([...this.records].map(([id, record]) => [id, record.session]));
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  on<E extends keyof McpServerHostEvents>(event: E, listener: McpServerHostEvents[E]): () => void {
    return this.events.on(event, listener);
  }

  /** @internal Subscribe, register presence, start serving. */
  async start(signal: AbortSignal | undefined): Promise<void> {
    const rpcFilter = `$mcp-rpc/+/${this.serverId}/${this.serverName}`;
    this.removers.push(
      this.link.route(this.controlTopic, (message) => this.onControl(message)),
      this.link.route(rpcFilter, (message) => this.onSessionTopic(message, 'rpc')),
      this.link.route(`${CLIENT_PRESENCE_PREFIX}+`, (message) =>
        this.onSessionTopic(message, 'client-presence'),
      ),
      this.link.route(`${CLIENT_CAPABILITY_PREFIX}+`, (message) =>
        this.onSessionTopic(message, 'client-capability'),
      ),
      this.connection.on('connection-drop', () => this.onConnectionDrop()),
      this.connection.on('connection-open', () => this.onReconnect()),
      this.connection.on('connection-close', () => void this.close()),
    );
    await this.link.subscribe([this.controlTopic], { noLocal: true }, signal);
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
    await this.records.get(mcpClientId)?.session.transport.end({ notifyPeer: true, unsubscribe: true });
  }

  /**
   * Stop serving: every session is de-initialized, the retained presence is cleared, and the MQTT
   * connection is closed (a client you passed stays open unless `closeClient` was set). Idempotent.
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
    const connected = this.connection.connected;
    await Promise.all(
      [...this.records.values()].map((record) =>
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
    if (this.closing) return Promise.reject(new MqttAgentsError('CLOSED', 'the server host is closed'));
    return this.link.publishCoalesced(this.capabilityTopic, message);
  }

  private async publishPresence(): Promise<void> {
    const notification = serverOnlineNotification({
      serverName: this.serverName,
      description: this.description,
      meta: this.meta,
      rbac: this.rbac,
    });
    await this.link.publish(this.presenceTopic, JSON.stringify(notification), { retain: true });
  }

  private report(error: Error, session?: MqttServerSessionTransport): void {
    this.logger.warn(error.message);
    session?.report(error);
    this.options.onerror?.(error);
    this.events.emit('error', error);
  }

  private problem(message: string, details: Record<string, unknown>): MqttAgentsError {
    return new MqttAgentsError('PROTOCOL_ERROR', message, { details });
  }

  // --- inbound ---

  /**
   * Requests, replies and `initialize` are never retained (only presence and capability messages may
   * be): a retained one is a replay the broker hands every new subscriber, so it is reported and dropped.
   */
  private droppedRetained(message: MqttMessage): boolean {
    if (!message.retain) return false;
    this.report(
      this.problem(
        `ignored a retained message on '${printable(message.topic)}': mcp requests and replies are never retained`,
        { topic: message.topic },
      ),
    );
    return true;
  }

  /**
   * With `trustBrokerIdentity`: the broker-stamped sender of a message for client `mcpClientId`, or the
   * reason to drop it (no stamp, or another client's). Undefined sender when the host does not trust stamps.
   */
  private verifiedSender(
    message: MqttMessage,
    mcpClientId: string,
    options: { allowUnstamped: boolean },
  ): { ok: true; sender: StampedSender | undefined } | { ok: false; problem: string } {
    if (!this.trustBrokerIdentity) return { ok: true, sender: undefined };
    const sender = stampedSender(message);
    if (sender === undefined) {
      return options.allowUnstamped
        ? { ok: true, sender: undefined }
        : {
            ok: false,
            problem: `no broker-stamped sender on '${printable(message.topic)}' (trustBrokerIdentity is on): dropped`,
          };
    }
    if (sender.clientId !== mcpClientId) {
      return {
        ok: false,
        problem: `mqtt client '${printable(sender.clientId)}' sent a message for client '${printable(mcpClientId)}' on '${printable(message.topic)}': dropped`,
      };
    }
    return { ok: true, sender };
  }

  private onControl(message: MqttMessage): void {
    if (this.closing || this.droppedRetained(message)) return;
    let mcpClientId = getUserProperty(message.properties, McpUserProperty.MqttClientId);
    let sender: StampedSender | undefined;
    if (this.trustBrokerIdentity) {
      // A stamping broker names the sender; a message without MCP-MQTT-CLIENT-ID is the stamped client's.
      sender = stampedSender(message);
      mcpClientId ??= sender?.clientId;
    }
    const decoded = decodeMcpPayload(
      message.payload,
      this.options.maxInboundBytes ?? DEFAULT_MAX_INBOUND_BYTES,
    );
    for (const problem of decoded.problems) {
      this.report(
        this.problem(`dropped a message on the control topic: ${problem}`, { topic: message.topic }),
      );
    }
    if (decoded.batch) {
      this.report(this.problem('json-rpc batch on the control topic was split', { topic: message.topic }));
    }
    for (const rpc of decoded.messages) {
      if (this.trustBrokerIdentity && mcpClientId !== undefined) {
        const verified = this.verifiedSender(message, mcpClientId, { allowUnstamped: false });
        if (!verified.ok) {
          // Never answered: the answer would go to the client the sender claims to be, who did not ask.
          this.report(
            this.problem(
              `refused ${methodOf(rpc) ?? 'a response'} on the control topic: ${verified.problem}`,
              {
                topic: message.topic,
                mcpClientId,
                sender: sender?.clientId,
              },
            ),
          );
          continue;
        }
      }
      if (!isRequest(rpc) || rpc.method !== 'initialize') {
        this.rejectOnControl(rpc, mcpClientId);
        continue;
      }
      if (mcpClientId === undefined || !isValidIdentifier('mcp-client-id', mcpClientId)) {
        this.report(
          this.problem(
            mcpClientId === undefined
              ? 'initialize without an MCP-MQTT-CLIENT-ID user property: cannot answer it'
              : `initialize from an invalid mcp-client-id ${JSON.stringify(mcpClientId)}`,
            { topic: message.topic },
          ),
        );
        continue;
      }
      const userProperties = readPublishMetadata({
        topic: message.topic,
        qos: message.qos,
        retain: message.retain,
        properties: message.properties,
      }).userProperties;
      const caller = sender !== undefined ? brokerCaller(mcpClientId, sender) : topicCaller(mcpClientId);
      const clientId = mcpClientId;
      const previous = this.opening.get(mcpClientId) ?? Promise.resolve();
      const next = previous
        .then(() => this.openSession(clientId, rpc, userProperties, caller))
        .catch((error: unknown) =>
          this.report(
            new MqttAgentsError('PROTOCOL_ERROR', `session with client '${mcpClientId}' failed to open`, {
              cause: error,
            }),
          ),
        )
        .finally(() => {
          if (this.opening.get(mcpClientId) === next) this.opening.delete(mcpClientId);
        });
      this.opening.set(mcpClientId, next);
    }
  }

  /** Anything but `initialize` on the control topic: reported, and a request is answered with an error. */
  private rejectOnControl(rpc: JSONRPCMessage, mcpClientId: string | undefined): void {
    const method = methodOf(rpc) ?? 'a response';
    const known = mcpClientId !== undefined && this.records.has(mcpClientId);
    this.report(
      this.problem(
        known
          ? `client '${mcpClientId}' sent ${method} on the control topic instead of its rpc topic`
          : `${method} from ${mcpClientId === undefined ? 'an unnamed client' : `client '${mcpClientId}'`} without a session: send initialize first`,
        { method, mcpClientId },
      ),
    );
    if (!isRequest(rpc) || mcpClientId === undefined || !isValidIdentifier('mcp-client-id', mcpClientId))
      return;
    const topic = mcpRpcTopic({ mcpClientId, serverId: this.serverId, serverName: this.serverName });
    this.link
      .publishMessage(topic, {
        jsonrpc: '2.0',
        id: rpc.id,
        error: { code: -32600, message: 'no session: send initialize on the control topic first' },
      })
      .catch((error: unknown) => this.logger.debug('could not answer a request on the control topic', error));
  }

  private async openSession(
    mcpClientId: string,
    initialize: JSONRPCMessage & { id: RequestId },
    userProperties: Readonly<Record<string, readonly string[]>>,
    caller: McpCallerIdentity,
  ): Promise<void> {
    if (this.closing) return;
    const rpcTopic = mcpRpcTopic({ mcpClientId, serverId: this.serverId, serverName: this.serverName });
    const senderKey = this.trustBrokerIdentity ? (caller.principal ?? caller.mqttClientId) : undefined;
    const existing = this.records.get(mcpClientId);
    let slot: SessionSlot;
    if (existing) {
      // The replaced session's place passes to the new one (unless the sender changed and must be counted
      // again), so a client re-initializing at the limit is not refused.
      let kept = existing.slot;
      existing.slot = undefined;
      if (kept === undefined || kept.senderKey !== senderKey) {
        kept?.release();
        const admitted = this.admission.admit(senderKey);
        if (isRefusal(admitted)) {
          await existing.session.transport.end({ notifyPeer: false, unsubscribe: true });
          await this.refuse(mcpClientId, rpcTopic, initialize, admitted);
          return;
        }
        kept = admitted;
      }
      slot = kept;
      // Spec decision: a second initialize from the same client replaces its session. The topics stay
      // subscribed for the new session, and nothing is published that the new session could mistake.
      await existing.session.transport.end({
        notifyPeer: false,
        unsubscribe: false,
        reason: new MqttAgentsError(
          'CLOSED',
          `client '${mcpClientId}' initialized again: this session is replaced`,
        ),
      });
    } else {
      // The slot is taken before any await: a flood of initializes cannot pass the limit while the first
      // ones are still subscribing.
      const admitted = this.admission.admit(senderKey);
      if (isRefusal(admitted)) {
        await this.refuse(mcpClientId, rpcTopic, initialize, admitted);
        return;
      }
      slot = admitted;
      try {
        // Spec: subscribe to the client's capability, presence and RPC topics before answering initialize.
        await this.link.subscribe(
          [mcpClientCapabilityTopic(mcpClientId), mcpClientPresenceTopic(mcpClientId), rpcTopic],
          { noLocal: true },
        );
      } catch (error) {
        slot.release();
        throw error;
      }
      if (this.closing) {
        slot.release();
        return;
      }
    }

    const transport = new MqttServerSessionTransport({
      link: this.link,
      mcpClientId,
      serverId: this.serverId,
      serverName: this.serverName,
      rpcTopic,
      capabilityTopic: this.capabilityTopic,
      timeouts: this.timeouts,
      healthCheck: this.options.healthCheck,
      idleTimeoutMs: this.idleTimeoutMs,
      initializationTimeoutMs: this.initializationTimeoutMs,
      caller,
      onInitialized: (session) => this.onInitialized(session),
      onEnded: (session, ending) => this.onEnded(session, ending),
    });
    const params = (initialize as { params?: unknown }).params;
    const session: McpServerSession = {
      mcpClientId,
      serverId: this.serverId,
      serverName: this.serverName,
      transport,
      initializeParams:
        typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : {},
      userProperties,
      caller,
    };
    const record: SessionRecord = { session, server: undefined, open: false, slot };
    this.records.set(mcpClientId, record);
    this.recentlyEnded.delete(mcpClientId);
    try {
      const server = await this.options.createServer(session);
      record.server = server;
      await server.connect(transport);
    } catch (error) {
      this.report(
        new MqttAgentsError('PROTOCOL_ERROR', `createServer failed for client '${mcpClientId}'`, {
          cause: error,
        }),
      );
      await this.link
        .publishMessage(rpcTopic, {
          jsonrpc: '2.0',
          id: initialize.id,
          error: { code: -32603, message: 'server could not create a session' },
        })
        .catch(() => {});
      await transport.end({ notifyPeer: false, unsubscribe: true });
      return;
    }
    transport.receiveInitialize(initialize);
  }

  /** Answer an initialize the limits refused: a JSON-RPC error the client sees, and a report. */
  private async refuse(
    mcpClientId: string,
    rpcTopic: string,
    initialize: JSONRPCMessage & { id: RequestId },
    refusal: SessionRefusal,
  ): Promise<void> {
    const perSender = refusal.limit === 'max-sessions-per-sender';
    this.report(
      this.problem(
        perSender
          ? `refused client '${mcpClientId}': its sender already holds ${refusal.max} sessions (maxSessionsPerSender)`
          : `refused client '${mcpClientId}': ${refusal.max} sessions already open (maxSessions)`,
        { mcpClientId, limit: refusal.limit, max: refusal.max },
      ),
    );
    await this.link.publishMessage(rpcTopic, {
      jsonrpc: '2.0',
      id: initialize.id,
      error: {
        code: -32000,
        message: perSender
          ? 'too many sessions from this sender: close one first'
          : 'server instance has no room for another session',
        data: { limit: refusal.limit, max: refusal.max },
      },
    });
  }

  private onInitialized(transport: MqttServerSessionTransport): void {
    const record = this.records.get(transport.mcpClientId);
    if (!record || record.session.transport !== transport) return;
    record.open = true;
    this.events.emit('session-open', record.session);
  }

  private onEnded(transport: MqttServerSessionTransport, ending: SessionEnding): void {
    const record = this.records.get(transport.mcpClientId);
    if (record && record.session.transport === transport) {
      this.records.delete(transport.mcpClientId);
      record.slot?.release();
      record.slot = undefined;
      this.recentlyEnded.add(transport.mcpClientId);
      if (this.recentlyEnded.size > 1024)
        this.recentlyEnded.delete(this.recentlyEnded.values().next().value as string);
      if (ending.unsubscribe) {
        this.link.unsubscribeQuietly([
          mcpClientCapabilityTopic(transport.mcpClientId),
          mcpClientPresenceTopic(transport.mcpClientId),
          mcpRpcTopic({
            mcpClientId: transport.mcpClientId,
            serverId: this.serverId,
            serverName: this.serverName,
          }),
        ]);
      }
      if (ending.reason) this.logger.debug(ending.reason.message);
      this.events.emit('session-close', record.session, ending.reason);
    }
  }

  /**
   * RPC, client presence and client capability topics: routed by the topic's mcp-client-id. The route's
   * filter already fixed the topic's shape, so the id is sliced out of it; only an id that belongs to no
   * session is validated (a known id was validated when its session was initialized).
   */
  private onSessionTopic(message: MqttMessage, kind: SessionTopicKind): void {
    if (this.closing) return;
    if (kind === 'rpc' && this.droppedRetained(message)) return;
    if (kind === 'client-presence' && message.retain) {
      // A retained presence describes the past; the client that just initialized is evidently there.
      this.logger.debug(`ignored a retained client presence on '${printable(message.topic)}'`);
      return;
    }
    const mcpClientId = sessionTopicClientId(message.topic, kind);
    const record = this.records.get(mcpClientId);
    if (!record) {
      if (kind === 'client-presence' || this.recentlyEnded.has(mcpClientId)) {
        // A client that already de-initialized may still announce its disconnect or have messages in flight;
        // every client's presence reaches every server.
        this.logger.debug(`dropped a message from client '${mcpClientId}' without a session here`);
        return;
      }
      const valid = isValidIdentifier('mcp-client-id', mcpClientId);
      this.report(
        this.problem(
          valid
            ? `dropped a message for a session that does not exist: client '${mcpClientId}'`
            : `dropped a message on '${message.topic}': '${mcpClientId}' is not a valid mcp-client-id`,
          { topic: message.topic, mcpClientId },
        ),
      );
      return;
    }
    const transport = record.session.transport;
    const claimed = spoofedSender(message, mcpClientId);
    if (claimed !== undefined) {
      this.report(
        this.problem(
          `dropped a message on '${message.topic}': MCP-MQTT-CLIENT-ID '${claimed}' does not match client '${mcpClientId}'`,
          { topic: message.topic, claimed, mcpClientId },
        ),
        transport,
      );
      return;
    }
    // A will carries no stamp (the broker publishes it), so presence may come unstamped.
    const verified = this.verifiedSender(message, mcpClientId, {
      allowUnstamped: kind === 'client-presence',
    });
    if (!verified.ok) {
      this.report(this.problem(verified.problem, { topic: message.topic, mcpClientId }), transport);
      return;
    }
    if (kind === 'client-presence' && message.payload.byteLength === 0) {
      void transport.end({ notifyPeer: false, unsubscribe: true });
      return;
    }
    const decoded = decodeMcpPayload(
      message.payload,
      this.options.maxInboundBytes ?? DEFAULT_MAX_INBOUND_BYTES,
    );
    for (const problem of decoded.problems) {
      this.report(
        this.problem(`dropped a message from client '${mcpClientId}': ${problem}`, { topic: message.topic }),
        transport,
      );
    }
    if (decoded.batch) {
      this.report(
        this.problem(
          `client '${mcpClientId}' sent a json-rpc batch: split into ${decoded.messages.length} messages`,
          {
            topic: message.topic,
          },
        ),
        transport,
      );
    }
    for (const rpc of decoded.messages) {
      if (methodOf(rpc) === 'notifications/disconnected') {
        // The client de-initialized (RPC topic) or went away (presence, possibly its will).
        void transport.end({ notifyPeer: false, unsubscribe: true });
        return;
      }
      if (kind === 'client-presence') {
        this.report(
          this.problem(`unexpected ${methodOf(rpc) ?? 'response'} on the client presence topic`, {
            topic: message.topic,
          }),
          transport,
        );
        continue;
      }
      transport.receive(rpc, this.messageAuthInfo(transport, verified.sender));
    }
  }

  /**
   * The caller identity a message carries: the session's, unless a trusted broker stamped a different
   * principal or roles on this very message (then the message's own stamp is what the handler sees).
   */
  private messageAuthInfo(
    transport: MqttServerSessionTransport,
    sender: StampedSender | undefined,
  ): MessageExtraInfo | undefined {
    if (sender === undefined || sameCaller(transport.caller, sender)) return undefined;
    return { authInfo: callerAuthInfo(brokerCaller(transport.mcpClientId, sender)) };
  }

  private onConnectionDrop(): void {
    const reason = new MqttAgentsError('CONNECTION_CLOSED', 'mqtt connection lost: session closed');
    for (const record of [...this.records.values()]) {
      void record.session.transport.end({ notifyPeer: false, unsubscribe: true, reason });
    }
  }

  private onReconnect(): void {
    if (this.closing) return;
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

/**
 * Serve an MCP server over MQTT: connects (or adopts your client), subscribes to the control topic,
 * publishes the retained `notifications/server/online` presence, and creates one SDK server per client
 * session with `createServer`.
 *
 * ```ts
 * await using host = await serveMcpOverMqtt({
 *   mqtt: { url: 'mqtt://localhost:1883' },
 *   serverName: 'factory/line-7/press',
 *   description: 'Press controls',
 *   createServer: () => buildPressServer(),
 * });
 * ```
 */
export async function serveMcpOverMqtt(options: ServeMcpOverMqttOptions): Promise<McpServerHost> {
  const logger = createLogger('mqtt-agents:mcp', options.logger);
  if (options.signal?.aborted) throw abortError(options.signal, 'serve mcp over mqtt');
  if (typeof options.createServer !== 'function') {
    throw new MqttAgentsError('INVALID_PAYLOAD', 'serveMcpOverMqtt needs a createServer function');
  }
  if (typeof options.description !== 'string') {
    throw new MqttAgentsError('INVALID_PAYLOAD', 'serveMcpOverMqtt needs a description string');
  }
  // Bad limits fail here, before any connection is opened.
  sessionLimit(options.maxSessions, DEFAULT_MAX_SESSIONS, 'maxSessions');
  sessionLimit(options.maxSessionsPerSender, DEFAULT_MAX_SESSIONS_PER_SENDER, 'maxSessionsPerSender');
  sessionTimeout(options.sessionIdleTimeoutMs, DEFAULT_SESSION_IDLE_TIMEOUT_MS, 'sessionIdleTimeoutMs');
  sessionTimeout(
    options.initializationTimeoutMs,
    DEFAULT_INITIALIZATION_TIMEOUT_MS,
    'initializationTimeoutMs',
  );
  let serverName = assertServerName(options.serverName);
  const qos = options.qos ?? 1;
  const connectOptions = options.mqtt;
  let connection: MqttConnection;
  let serverId: string;
  let owns: boolean;

  if (isClientOptions(connectOptions)) {
    connection = await connectMqtt({
      client: connectOptions.client,
      closeClient: connectOptions.closeClient ?? false,
      ...(connectOptions.connectTimeoutMs !== undefined
        ? { connectTimeoutMs: connectOptions.connectTimeoutMs }
        : {}),
      logger,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    owns = connectOptions.closeClient ?? false;
    serverId = assertServerId(connection.connack.clientId || connectOptions.client.options.clientId);
    if (options.serverId !== undefined && options.serverId !== serverId) {
      await connection.close();
      throw new MqttAgentsError(
        'INVALID_IDENTIFIER',
        `serverId '${options.serverId}' differs from the mqtt client's id '${serverId}': the server-id is the client id`,
      );
    }
    const suggested = getUserProperty(connection.connack, McpUserProperty.ServerName);
    if (suggested !== undefined && isValidIdentifier('server-name', suggested)) serverName = suggested;
    const will = connectOptions.client.options.will;
    const expected = mcpServerPresenceTopic({ serverId, serverName });
    if (will?.topic !== expected || will.retain !== true) {
      logger.warn(
        `the mqtt client's will is not the retained empty presence on '${expected}': build its options with mcpServerMqttOptions()`,
      );
    }
  } else {
    serverId = assertServerId(options.serverId ?? randomId('mcp-server'));
    owns = true;
    const open = (name: string): Promise<MqttConnection> =>
      openBindingConnection(
        connectOptions,
        {
          clientId: serverId,
          componentType: McpComponentType.Server,
          componentMeta: options.componentMeta,
          will: serverWill({ serverId, serverName: name, qos }),
        },
        { logger, signal: options.signal },
      );
    connection = await open(serverName);
    const suggested = getUserProperty(connection.connack, McpUserProperty.ServerName);
    if (suggested !== undefined && suggested !== serverName) {
      if (isValidIdentifier('server-name', suggested)) {
        // The will names the presence topic, which holds the server name: reconnect with the right will.
        logger.info(`broker suggested server name '${suggested}'`);
        serverName = suggested;
        await connection.close();
        connection = await open(serverName);
      } else {
        logger.warn(`ignored invalid broker-suggested server name ${JSON.stringify(suggested)}`);
      }
    }
  }

  const host = new McpServerHost({ options, connection, serverId, serverName, logger, ownsConnection: owns });
  try {
    await host.start(options.signal);
  } catch (error) {
    await host.close();
    throw error;
  }
  return host;
}
