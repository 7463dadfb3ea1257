import { MqttAgentsError } from '@mqtt-agents/core';
import type { Transport, TransportSendOptions } from '../json-rpc-types.js';
import type { JSONRPCMessage, MessageExtraInfo, RequestId } from '../json-rpc-types.js';
import { SERVER_CAPABILITY_METHODS, isResponse, methodOf } from '../inbound/inbound-messages.js';
import type { McpMqttLink } from '../mcp-mqtt-link.js';
import type { HealthCheckOptions } from '../session/health-check.js';
import { SessionCore } from '../session/session-core.js';
import { SessionTransport } from '../session/session-transport.js';
import type { SessionEnding } from '../session/session-core.js';
import { callerAuthInfo } from './caller-identity.js';
import type { McpCallerIdentity } from './caller-identity.js';
import { SessionActivity } from './session-activity.js';
import type { SessionExpiry } from './session-activity.js';

export type { SessionEnding };

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
  onInitialized(transport: McpMqttServerSessionTransport): void;
  /** The session ended; the host forgets it and unsubscribes when asked. */
  onEnded(transport: McpMqttServerSessionTransport, ending: SessionEnding): void;
}

/**
 * The server side of one MCP session over MQTT: the SDK `Server` (or `McpServer`) created for one MCP
 * client talks through it, a thin SDK 1.x `Transport` facade over the shared session core. `sessionId` is
 * the client's mcp-client-id. Requests, responses and notifications travel on the session's RPC topic
 * (`$mcp-rpc/{mcp-client-id}/{server-id}/{server-name}`); list-changed and resource-updated notifications
 * go to the instance's shared capability topic, coalesced across sessions.
 *
 * Instances are created by the server host (`serveMcpOverMqtt`), one per `initialize`.
 */
export class McpMqttServerSessionTransport extends SessionTransport implements Transport {
  /** The mcp-client-id of the session's client. */
  readonly sessionId: string;
  /** The client as the host verified it at initialize; tool handlers see it as `extra.authInfo`. */
  readonly caller: McpCallerIdentity;

  private readonly wiring: ServerSessionWiring;
  protected readonly core: SessionCore;
  private readonly activity: SessionActivity;
  /** Messages that arrived before the SDK server started the transport. */
  private queued: Array<{ message: JSONRPCMessage; extra: MessageExtraInfo | undefined }> = [];

  /** @internal Created by the server host. */
  constructor(wiring: ServerSessionWiring) {
    super(wiring);
    this.wiring = wiring;
    this.sessionId = wiring.mcpClientId;
    this.caller = wiring.caller;
    this.activity = new SessionActivity({
      idleTimeoutMs: wiring.idleTimeoutMs,
      initializationTimeoutMs: wiring.initializationTimeoutMs,
      onExpired: (expiry, milliseconds) => this.expireSession(expiry, milliseconds),
    });
    this.core = new SessionCore({
      role: 'server',
      link: wiring.link,
      rpcTopic: wiring.rpcTopic,
      peer: `client '${wiring.mcpClientId}'`,
      timeouts: wiring.timeouts,
      healthCheck: wiring.healthCheck,
      sink: this,
      defaultExtra: { authInfo: callerAuthInfo(wiring.caller) },
      hooks: {
        mayNotifyPeer: () => true,
        dispose: () => {
          this.queued = [];
          this.activity.dispose();
        },
        ended: (ending) => this.wiring.onEnded(this, ending),
      },
    });
  }

  /** True once the initialize response went out, until the session ends. */
  get isEstablished(): boolean {
    return this.core.isEstablished;
  }

  /** @internal Requests of the client this session has not answered yet (what a drain cut short). */
  get requestsInFlight(): number {
    return this.core.state.is('closed') ? 0 : this.activity.requestsInProgress;
  }

  /**
   * Start delivering the session's messages (those that arrived before are delivered now); the SDK server
   * calls it from `connect()`. A second call throws (`ALREADY_STARTED`, or `CLOSED` once the session
   * closed).
   */
  async start(): Promise<void> {
    this.core.state.beginStart();
    this.core.state.completeStart();
    const queued = this.queued;
    this.queued = [];
    for (const { message, extra } of queued) this.dispatch(message, extra);
  }

  /**
   * Publish one JSON-RPC message to the session's client; capability-change notifications go to the
   * server's capability topic instead, coalesced. A message too large for the broker throws
   * `PAYLOAD_TOO_LARGE` (a response is first answered with a JSON-RPC error).
   */
  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    this.core.state.assertCanSend(this.core.peer);
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
    await this.core.publishTracked(message, { payload });
    this.activity.sent(message);
    if (isResponse(message)) {
      const outcome = this.core.observeInitializeAnswer(message as JSONRPCMessage & { id: RequestId });
      if (outcome === 'succeeded') {
        this.activity.answeredInitialize();
        this.wiring.onInitialized(this);
      }
    }
  }

  /**
   * End the session from the server side while the MQTT connection stays: publishes
   * `notifications/disconnected` on the RPC topic, unsubscribes from the client's topics, fires `onclose`.
   * Idempotent.
   */
  close(): Promise<void> {
    return this.end({ notifyPeer: true, unsubscribe: true });
  }

  /** @internal The host hands over the `initialize` request it received on the control topic. */
  receiveInitialize(message: JSONRPCMessage): void {
    if ('id' in message) this.core.expectInitialize((message as { id: RequestId }).id);
    this.receive(message);
  }

  /**
   * @internal A message from the client on the RPC or client capability topic. `extra` carries the
   * caller identity of this very message when the broker stamped one; else the session's is used.
   */
  receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    if (this.core.state.is('closed')) return;
    this.activity.heard(message);
    if (!this.core.state.is('started')) {
      this.queued.push({ message, extra });
      return;
    }
    this.dispatch(message, extra);
  }

  /** @internal End the session as the host decides. Idempotent. */
  end(ending: SessionEnding): Promise<void> {
    return this.core.end(ending);
  }

  private dispatch(message: JSONRPCMessage, extra: MessageExtraInfo | undefined): void {
    if (this.core.admit(message)) this.core.deliver(message, extra);
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
}
