import {
  MqttAgentsError,
  mcpClientCapabilityTopic,
  mcpRpcTopic,
  mcpServerCapabilityTopic,
  mcpServerControlTopic,
} from '@mqtt-agents/core';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { HealthCheck } from './health-check.js';
import { InboundSequencer } from './inbound-sequencer.js';
import type { HealthCheckOptions } from './health-check.js';
import {
  CLIENT_CAPABILITY_METHODS,
  DISCONNECTED_NOTIFICATION,
  isRequest,
  isResponse,
  methodOf,
} from './inbound-messages.js';
import type { McpMqttLink } from './mcp-mqtt-link.js';
import {
  RequestDeadlines,
  requestIdKey,
  timeoutCancellation,
  timeoutResponse,
  type ExpiredRequest,
} from './request-deadlines.js';

/** @internal What a client connection gives each of its session transports. */
export interface ClientSessionWiring {
  link: McpMqttLink;
  mcpClientId: string;
  serverId: string;
  serverName: string;
  timeouts: ReadonlyMap<string, number>;
  healthCheck: HealthCheckOptions | undefined;
  /** Pass `notifications/resources/updated` only for URIs this session subscribed to. */
  filterResourceUpdates: boolean;
  /** Claim the (connection, server-id) slot; throws `DUPLICATE_SESSION` when it is taken. */
  register(transport: MqttClientTransport): void;
  /** Give the slot (or its reservation) back; called once when the transport ends. */
  unregister(transport: MqttClientTransport): void;
  /** Called after the session ended and `onclose` fired (a dedicated connection closes here). */
  afterEnd?(transport: MqttClientTransport): Promise<void>;
}

type State = 'created' | 'starting' | 'started' | 'closed';

/**
 * The client side of one MCP session over MQTT, for an SDK `Client`. `initialize` goes to the server's
 * control topic, everything after it to `$mcp-rpc/{mcp-client-id}/{server-id}/{server-name}`, and
 * `notifications/roots/list_changed` to the client's capability topic. `sessionId` stays unset until
 * `initialize` succeeded (the SDK skips initialization for a transport that already has one).
 *
 * Get one from the client host: `await host.createTransport('factory/press')`, or let
 * `host.connect(client, 'factory/press')` create and connect it.
 */
export class MqttClientTransport implements Transport {
  /** Unset until `initialize` succeeded, then the mcp-client-id. */
  sessionId?: string | undefined;
  readonly mcpClientId: string;
  readonly serverId: string;
  readonly serverName: string;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;

  private readonly wiring: ClientSessionWiring;
  private readonly deadlines: RequestDeadlines;
  private readonly health: HealthCheck;
  private readonly sequencer = new InboundSequencer((message) => {
    if (this.state === 'started') this.onmessage?.(message);
  });
  private readonly rpcTopic: string;
  private readonly capabilityTopic: string;
  private readonly controlTopic: string;
  private readonly clientCapabilityTopic: string;
  private readonly subscribedUris = new Set<string>();
  private readonly pendingSubscriptions = new Map<string, { uri: string; subscribe: boolean }>();
  private state: State = 'created';
  private registered = false;
  private initializeKey: string | undefined;
  private initializeSent = false;
  private protocolVersion: string | undefined;
  private ending: Promise<void> | undefined;

  /** @internal Created by the client host. */
  constructor(wiring: ClientSessionWiring) {
    this.wiring = wiring;
    this.mcpClientId = wiring.mcpClientId;
    this.serverId = wiring.serverId;
    this.serverName = wiring.serverName;
    const address = { serverId: wiring.serverId, serverName: wiring.serverName };
    this.rpcTopic = mcpRpcTopic({ ...address, mcpClientId: wiring.mcpClientId });
    this.capabilityTopic = mcpServerCapabilityTopic(address);
    this.controlTopic = mcpServerControlTopic(address);
    this.clientCapabilityTopic = mcpClientCapabilityTopic(wiring.mcpClientId);
    this.deadlines = new RequestDeadlines({
      timeouts: wiring.timeouts,
      onExpired: (request) => this.expire(request),
    });
    this.health = new HealthCheck({
      send: (request) => this.wiring.link.publishMessage(this.rpcTopic, request),
      onFailure: (error) => {
        void this.end({
          notifyPeer: true,
          reason: new MqttAgentsError(
            'REQUEST_TIMEOUT',
            `server '${this.serverId}' (${this.serverName}) failed a health check: session closed`,
            { cause: error },
          ),
        });
      },
    });
  }

  /** True once `initialize` succeeded, until the session ends. */
  get isEstablished(): boolean {
    return this.sessionId !== undefined && this.state === 'started';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** The protocol version negotiated in `initialize`, once known. */
  get negotiatedProtocolVersion(): string | undefined {
    return this.protocolVersion;
  }

  /** Subscribes (with No Local) to the session's RPC topic and the server's capability topic, awaiting SUBACK. */
  async start(): Promise<void> {
    if (this.state !== 'created') {
      throw new MqttAgentsError(
        this.state === 'closed' ? 'CLOSED' : 'ALREADY_STARTED',
        this.state === 'closed'
          ? 'mqtt client transport is closed: create a new transport for a new session'
          : 'mqtt client transport already started: an sdk client starts it in connect(), do not call start() yourself',
      );
    }
    this.state = 'starting';
    this.wiring.register(this);
    this.registered = true;
    try {
      await this.wiring.link.subscribe([this.rpcTopic, this.capabilityTopic], { noLocal: true });
    } catch (error) {
      await this.end({ notifyPeer: false });
      throw error;
    }
    if (this.state !== 'starting') {
      throw new MqttAgentsError(
        'CONNECTION_CLOSED',
        `session with server '${this.serverId}' closed while starting`,
      );
    }
    this.state = 'started';
  }

  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    if (this.state !== 'started') {
      throw new MqttAgentsError(
        this.state === 'closed' ? 'CONNECTION_CLOSED' : 'NOT_CONNECTED',
        this.state === 'closed'
          ? `session with server '${this.serverId}' (${this.serverName}) is closed`
          : 'mqtt client transport is not started',
      );
    }
    const method = methodOf(message);
    if (method !== undefined && !('id' in message) && CLIENT_CAPABILITY_METHODS.has(method)) {
      await this.wiring.link.publishCoalesced(this.clientCapabilityTopic, message);
      return;
    }
    if (isRequest(message) && message.method === 'initialize') {
      this.initializeKey = requestIdKey(message.id);
      this.initializeSent = true;
      this.deadlines.track(message);
      try {
        await this.wiring.link.publishMessage(this.controlTopic, message);
      } catch (error) {
        this.deadlines.forget(message.id);
        throw error;
      }
      return;
    }
    if (
      isRequest(message) &&
      (message.method === 'resources/subscribe' || message.method === 'resources/unsubscribe')
    ) {
      const uri = (message.params as { uri?: unknown } | undefined)?.uri;
      if (typeof uri === 'string') {
        this.pendingSubscriptions.set(requestIdKey(message.id), {
          uri,
          subscribe: message.method === 'resources/subscribe',
        });
      }
    }
    if (method === 'notifications/cancelled') {
      const requestId = (message as { params?: { requestId?: RequestId } }).params?.requestId;
      if (requestId !== undefined) this.deadlines.forget(requestId);
    }
    if (isRequest(message)) this.deadlines.track(message);
    try {
      await this.wiring.link.publishMessage(this.rpcTopic, message);
    } catch (error) {
      if (isRequest(message)) this.deadlines.forget(message.id);
      throw error;
    }
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  /** Ping the server now (a private id, never seen by the SDK) and wait for its answer. */
  checkHealth(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    return this.health.ping(options);
  }

  /**
   * De-initialize: publish `notifications/disconnected` on the RPC topic, unsubscribe from the session's
   * topics and fire `onclose`, while the MQTT connection stays. Idempotent.
   */
  close(): Promise<void> {
    return this.end({ notifyPeer: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal A message on the session's RPC topic. */
  receiveRpc(message: JSONRPCMessage): void {
    if (this.state !== 'started') return;
    if (methodOf(message) === 'notifications/disconnected') {
      void this.end({
        notifyPeer: false,
        reason: new MqttAgentsError(
          'CONNECTION_CLOSED',
          `server '${this.serverId}' (${this.serverName}) ended the session`,
        ),
      });
      return;
    }
    if (this.health.consume(message)) return;
    if (!this.deadlines.observe(message)) {
      this.wiring.link.logger.debug(`dropped a late response from server '${this.serverId}'`);
      return;
    }
    if (isResponse(message)) this.onResponse(message as JSONRPCMessage & { id: RequestId });
    this.sequencer.push(message);
  }

  /** @internal A message on the server's capability topic. */
  receiveCapability(message: JSONRPCMessage): void {
    if (this.state !== 'started') return;
    if (
      this.wiring.filterResourceUpdates &&
      methodOf(message) === 'notifications/resources/updated' &&
      !this.subscribedUris.has(String((message as { params?: { uri?: unknown } }).params?.uri))
    ) {
      return;
    }
    this.sequencer.push(message);
  }

  /** @internal Report a problem with this session's inbound traffic. */
  report(error: Error): void {
    this.onerror?.(error);
  }

  /** @internal End the session. `notifyPeer` de-initializes on the RPC topic first. Idempotent. */
  end(ending: { notifyPeer: boolean; reason?: MqttAgentsError }): Promise<void> {
    this.ending ??= this.finish(ending);
    return this.ending;
  }

  private async finish(ending: { notifyPeer: boolean; reason?: MqttAgentsError }): Promise<void> {
    const wasActive = this.state === 'started' || this.state === 'starting';
    this.state = 'closed';
    this.health.dispose();
    this.deadlines.dispose();
    this.sequencer.clear();
    const link = this.wiring.link;
    if (ending.notifyPeer && this.initializeSent && link.connected) {
      try {
        await link.publishMessage(this.rpcTopic, DISCONNECTED_NOTIFICATION);
      } catch (error) {
        link.logger.debug(`could not tell server '${this.serverId}' about the disconnect`, error);
      }
    }
    this.wiring.unregister(this);
    if (this.registered) {
      this.registered = false;
      link.unsubscribeQuietly([this.rpcTopic, this.capabilityTopic]);
    }
    if (ending.reason && wasActive) this.onerror?.(ending.reason);
    this.onclose?.();
    await this.wiring.afterEnd?.(this);
  }

  private onResponse(message: JSONRPCMessage & { id: RequestId }): void {
    const key = requestIdKey(message.id);
    if (key === this.initializeKey) {
      this.initializeKey = undefined;
      if ('result' in message) {
        const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
        if (typeof version === 'string') this.protocolVersion = version;
        // Spec decision: the session id appears only once initialize succeeded.
        this.sessionId = this.mcpClientId;
        if (this.wiring.healthCheck) this.health.schedule(this.wiring.healthCheck);
      }
      return;
    }
    const subscription = this.pendingSubscriptions.get(key);
    if (subscription) {
      this.pendingSubscriptions.delete(key);
      if (!('result' in message)) return;
      if (subscription.subscribe) this.subscribedUris.add(subscription.uri);
      else this.subscribedUris.delete(subscription.uri);
    }
  }

  private expire(request: ExpiredRequest): void {
    if (this.state !== 'started') return;
    if (request.method !== 'initialize') {
      this.wiring.link
        .publishMessage(this.rpcTopic, timeoutCancellation(request))
        .catch((error: unknown) => this.wiring.link.logger.debug('could not send a cancellation', error));
    }
    this.sequencer.push(timeoutResponse(request));
  }
}
