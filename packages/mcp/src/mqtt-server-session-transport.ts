import { MqttAgentsError } from '@mqtt-agents/core';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { HealthCheck } from './health-check.js';
import { InboundSequencer } from './inbound-sequencer.js';
import type { HealthCheckOptions } from './health-check.js';
import {
  DISCONNECTED_NOTIFICATION,
  SERVER_CAPABILITY_METHODS,
  isRequest,
  isResponse,
  methodOf,
} from './inbound-messages.js';
import type { McpMqttLink } from './mcp-mqtt-link.js';
import { callerAuthInfo } from './caller-identity.js';
import type { McpCallerIdentity } from './caller-identity.js';
import { SessionActivity } from './session-activity.js';
import type { SessionExpiry } from './session-activity.js';
import {
  RequestDeadlines,
  requestIdKey,
  timeoutCancellation,
  timeoutResponse,
  type ExpiredRequest,
} from './request-deadlines.js';

/** How a session ends, as the server host decides it. */
export interface SessionEnding {
  /** Publish `notifications/disconnected` on the session's RPC topic first (de-initialization). */
  notifyPeer: boolean;
  /** Unsubscribe from the client's RPC, capability and presence topics. */
  unsubscribe: boolean;
  /** Reported through `onerror` before `onclose`, when the end was not asked for by the session's owner. */
  reason?: MqttAgentsError | undefined;
}

/** @internal What the server host gives each session transport. */
export interface ServerSessionWiring {
  link: McpMqttLink;
  mcpClientId: string;
  serverId: string;
  serverName: string;
  rpcTopic: string;
  capabilityTopic: string;
  timeouts: ReadonlyMap<string, number>;
  healthCheck: HealthCheckOptions | undefined;
  /** Reaping: idle and initialization timeouts in ms (0 turns one off). */
  idleTimeoutMs: number;
  initializationTimeoutMs: number;
  /** Who the session's client is, as the host verified it at initialize. */
  caller: McpCallerIdentity;
  /** The initialize response went out: the session is established. */
  onInitialized(transport: MqttServerSessionTransport): void;
  /** The session ended; the host forgets it and unsubscribes when asked. */
  onEnded(transport: MqttServerSessionTransport, ending: SessionEnding): void;
}

type State = 'created' | 'started' | 'closed';

/**
 * The server side of one MCP session over MQTT: the SDK `Server` (or `McpServer`) created for one MCP
 * client talks through it. `sessionId` is the client's mcp-client-id. Requests, responses and
 * notifications travel on `$mcp-rpc/{mcp-client-id}/{server-id}/{server-name}`; list-changed and
 * resource-updated notifications go to the instance's shared capability topic, coalesced across sessions.
 *
 * Instances are created by the server host (`serveMcpOverMqtt`), one per `initialize`.
 */
export class MqttServerSessionTransport implements Transport {
  /** The mcp-client-id of the session's client. */
  readonly sessionId: string;
  readonly mcpClientId: string;
  /** The client as the host verified it at initialize; tool handlers see it as `extra.authInfo`. */
  readonly caller: McpCallerIdentity;
  readonly serverId: string;
  readonly serverName: string;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;

  private readonly wiring: ServerSessionWiring;
  private readonly deadlines: RequestDeadlines;
  private readonly health: HealthCheck;
  private readonly activity: SessionActivity;
  private readonly sequencer = new InboundSequencer((message, extra) => {
    if (this.state === 'started') this.onmessage?.(message, extra);
  });
  private readonly authInfo: MessageExtraInfo;
  private state: State = 'created';
  private queued: Array<{ message: JSONRPCMessage; extra: MessageExtraInfo | undefined }> = [];
  private initializeKey: string | undefined;
  private established = false;
  private protocolVersion: string | undefined;
  private ending: Promise<void> | undefined;

  /** @internal Created by the server host. */
  constructor(wiring: ServerSessionWiring) {
    this.wiring = wiring;
    this.mcpClientId = wiring.mcpClientId;
    this.sessionId = wiring.mcpClientId;
    this.serverId = wiring.serverId;
    this.serverName = wiring.serverName;
    this.caller = wiring.caller;
    this.authInfo = { authInfo: callerAuthInfo(wiring.caller) };
    this.activity = new SessionActivity({
      idleTimeoutMs: wiring.idleTimeoutMs,
      initializationTimeoutMs: wiring.initializationTimeoutMs,
      onExpired: (expiry, milliseconds) => this.expireSession(expiry, milliseconds),
    });
    this.deadlines = new RequestDeadlines({
      timeouts: wiring.timeouts,
      onExpired: (request) => this.expire(request),
    });
    this.health = new HealthCheck({
      send: (request) => this.wiring.link.publishMessage(this.wiring.rpcTopic, request),
      onFailure: (error) => {
        // Spec decision: after a failed health ping the server sends no more requests to that client.
        void this.end({
          notifyPeer: true,
          unsubscribe: true,
          reason: new MqttAgentsError(
            'REQUEST_TIMEOUT',
            `client '${this.mcpClientId}' failed a health check`,
            {
              cause: error,
            },
          ),
        });
      },
    });
  }

  /** True once the initialize response went out, until the session ends. */
  get isEstablished(): boolean {
    return this.established && this.state !== 'closed';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** The protocol version negotiated in `initialize`, once known. */
  get negotiatedProtocolVersion(): string | undefined {
    return this.protocolVersion;
  }

  async start(): Promise<void> {
    if (this.state === 'started') {
      throw new MqttAgentsError(
        'ALREADY_STARTED',
        'session transport already started: each sdk server connects to its own session transport once',
      );
    }
    if (this.state === 'closed') throw new MqttAgentsError('CLOSED', 'session transport is closed');
    this.state = 'started';
    const queued = this.queued;
    this.queued = [];
    for (const { message, extra } of queued) this.dispatch(message, extra);
  }

  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    if (this.state === 'closed') {
      throw new MqttAgentsError('CONNECTION_CLOSED', `session with client '${this.mcpClientId}' is closed`);
    }
    const method = methodOf(message);
    if (method !== undefined && !('id' in message) && SERVER_CAPABILITY_METHODS.has(method)) {
      await this.wiring.link.publishCoalesced(this.wiring.capabilityTopic, message);
      return;
    }
    const payload = JSON.stringify(message);
    try {
      this.wiring.link.assertFits(this.wiring.rpcTopic, payload);
    } catch (error) {
      if (isResponse(message) && MqttAgentsError.hasCode(error, 'PAYLOAD_TOO_LARGE')) {
        // Answer the request with an error the client can see instead of leaving it to time out.
        await this.wiring.link.publishMessage(this.wiring.rpcTopic, {
          jsonrpc: '2.0',
          id: (message as { id: RequestId }).id,
          error: { code: -32603, message: `response too large for the broker: ${(error as Error).message}` },
        });
      }
      throw error;
    }
    if (isRequest(message)) this.deadlines.track(message);
    if (method === 'notifications/cancelled') {
      const requestId = (message as { params?: { requestId?: RequestId } }).params?.requestId;
      if (requestId !== undefined) this.deadlines.forget(requestId);
    }
    await this.wiring.link.publish(this.wiring.rpcTopic, payload);
    this.activity.sent(message);
    if (isResponse(message) && this.initializeKey === requestIdKey((message as { id: RequestId }).id)) {
      this.initializeKey = undefined;
      if ('result' in message) {
        const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
        if (typeof version === 'string') this.protocolVersion = version;
        this.established = true;
        this.activity.answeredInitialize();
        if (this.wiring.healthCheck) this.health.schedule(this.wiring.healthCheck);
        this.wiring.onInitialized(this);
      }
    }
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  /** Ping the client now (a private id, never seen by the SDK) and wait for its answer. */
  checkHealth(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    return this.health.ping(options);
  }

  /**
   * End the session from the server side while the MQTT connection stays: publishes
   * `notifications/disconnected` on the RPC topic, unsubscribes from the client's topics, fires `onclose`.
   * Idempotent.
   */
  close(): Promise<void> {
    return this.end({ notifyPeer: true, unsubscribe: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal The host hands over the `initialize` request it received on the control topic. */
  receiveInitialize(message: JSONRPCMessage): void {
    if ('id' in message) this.initializeKey = requestIdKey((message as { id: RequestId }).id);
    this.receive(message);
  }

  /**
   * @internal A message from the client on the RPC or client capability topic. `extra` carries the
   * caller identity of this very message when the broker stamped one; else the session's is used.
   */
  receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    if (this.state === 'closed') return;
    this.activity.heard(message);
    if (this.state === 'created') {
      this.queued.push({ message, extra });
      return;
    }
    this.dispatch(message, extra);
  }

  /** @internal Report a problem with this session's inbound traffic. */
  report(error: Error): void {
    this.onerror?.(error);
  }

  /** @internal End the session as the host decides. Idempotent. */
  end(ending: SessionEnding): Promise<void> {
    this.ending ??= this.finish(ending);
    return this.ending;
  }

  private async finish(ending: SessionEnding): Promise<void> {
    const wasStarted = this.state === 'started';
    this.state = 'closed';
    this.queued = [];
    this.health.dispose();
    this.activity.dispose();
    this.deadlines.dispose();
    this.sequencer.clear();
    if (ending.notifyPeer && this.wiring.link.connected) {
      try {
        await this.wiring.link.publishMessage(this.wiring.rpcTopic, DISCONNECTED_NOTIFICATION);
      } catch (error) {
        this.wiring.link.logger.debug(
          `could not tell client '${this.mcpClientId}' about the disconnect`,
          error,
        );
      }
    }
    this.wiring.onEnded(this, ending);
    if (ending.reason && wasStarted) this.onerror?.(ending.reason);
    this.onclose?.();
  }

  private dispatch(message: JSONRPCMessage, extra: MessageExtraInfo | undefined): void {
    if (this.health.consume(message)) return;
    if (!this.deadlines.observe(message)) {
      this.wiring.link.logger.debug(`dropped a late response from client '${this.mcpClientId}'`);
      return;
    }
    this.sequencer.push(message, extra ?? this.authInfo);
  }

  /** Reaped: the client never confirmed initialization, or went silent for too long. */
  private expireSession(expiry: SessionExpiry, milliseconds: number): void {
    void this.end({
      notifyPeer: true,
      unsubscribe: true,
      reason: new MqttAgentsError(
        expiry === 'initialization' ? 'REQUEST_TIMEOUT' : 'CLOSED',
        expiry === 'initialization'
          ? `client '${this.mcpClientId}' did not send notifications/initialized within ${milliseconds} ms: session closed`
          : `client '${this.mcpClientId}' was silent for ${milliseconds} ms: idle session closed`,
        { details: { mcpClientId: this.mcpClientId, expiry, milliseconds } },
      ),
    });
  }

  private expire(request: ExpiredRequest): void {
    if (this.state !== 'started') return;
    this.wiring.link
      .publishMessage(this.wiring.rpcTopic, timeoutCancellation(request))
      .catch((error: unknown) => this.wiring.link.logger.debug('could not send a cancellation', error));
    this.sequencer.push(timeoutResponse(request));
  }
}
