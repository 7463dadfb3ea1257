import {
  MqttAgentsError,
  mcpClientCapabilityTopic,
  mcpRpcTopic,
  mcpServerCapabilityTopic,
  mcpServerControlTopic,
} from '@mqtt-agents/core';
import type { Transport, TransportSendOptions } from '../json-rpc-types.js';
import type { JSONRPCMessage, RequestId } from '../json-rpc-types.js';
import { CLIENT_CAPABILITY_METHODS, isRequest, isResponse, methodOf } from '../inbound/inbound-messages.js';
import type { McpMqttLink } from '../mcp-mqtt-link.js';
import type { HealthCheckOptions } from '../session/health-check.js';
import { SessionCore } from '../session/session-core.js';
import { SessionTransport } from '../session/session-transport.js';
import type { SessionEnding } from '../session/session-core.js';
import { ResourceSubscriptions } from './resource-subscriptions.js';

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
  register(transport: InstanceTransport): void;
  /** Give the slot (or its reservation) back; called once when the transport ends. */
  unregister(transport: InstanceTransport): void;
  /** Called after the session ended and `onclose` fired (a dedicated connection closes here). */
  afterEnd?(transport: InstanceTransport): Promise<void>;
}

/**
 * @internal The client side of one MCP session with one server instance: a `Transport` over the shared
 * session core. The public `McpMqttClientTransport` holds one at a time and moves to a new one when the
 * instance is lost or drains. `initialize` goes to the server's control topic, everything after it to the
 * session's RPC topic (`$mcp-rpc/{mcp-client-id}/{server-id}/{server-name}`), and
 * `notifications/roots/list_changed` to the client's capability topic. `sessionId` stays unset until
 * `initialize` succeeded (the SDK skips initialization for a transport that already has one).
 *
 */
export class InstanceTransport extends SessionTransport implements Transport {
  /** Unset until `initialize` succeeded, then the mcp-client-id. */
  sessionId?: string | undefined;

  private readonly wiring: ClientSessionWiring;
  protected readonly core: SessionCore;
  private readonly capabilityTopic: string;
  private readonly controlTopic: string;
  private readonly clientCapabilityTopic: string;
  private readonly resources = new ResourceSubscriptions();
  private registered = false;
  private initializeSent = false;

  /** @internal Created by the client host. */
  constructor(wiring: ClientSessionWiring) {
    super(wiring);
    this.wiring = wiring;
    const address = { serverId: wiring.serverId, serverName: wiring.serverName };
    this.capabilityTopic = mcpServerCapabilityTopic(address);
    this.controlTopic = mcpServerControlTopic(address);
    this.clientCapabilityTopic = mcpClientCapabilityTopic(wiring.mcpClientId);
    this.core = new SessionCore({
      role: 'client',
      link: wiring.link,
      rpcTopic: mcpRpcTopic({ ...address, mcpClientId: wiring.mcpClientId }),
      peer: `server '${wiring.serverId}' (${wiring.serverName})`,
      timeouts: wiring.timeouts,
      healthCheck: wiring.healthCheck,
      sink: this,
      cancelsOnTimeout: (request) => request.method !== 'initialize',
      hooks: {
        mayNotifyPeer: () => this.initializeSent,
        ended: () => {
          this.wiring.unregister(this);
          if (this.registered) {
            this.registered = false;
            this.wiring.link.unsubscribeQuietly([this.core.rpcTopic, this.capabilityTopic]);
          }
        },
        afterClose: async () => {
          await this.wiring.afterEnd?.(this);
        },
      },
    });
  }

  /** True once `initialize` succeeded, until the session ends. */
  get isEstablished(): boolean {
    return this.sessionId !== undefined && this.core.state.is('started');
  }

  /** Subscribes (with No Local) to the session's RPC topic and the server's capability topic, awaiting SUBACK. */
  async start(): Promise<void> {
    this.core.state.beginStart();
    this.wiring.register(this);
    this.registered = true;
    try {
      await this.wiring.link.subscribe([this.core.rpcTopic, this.capabilityTopic], { noLocal: true });
    } catch (error) {
      await this.end({ notifyPeer: false });
      throw error;
    }
    if (!this.core.state.completeStart()) {
      throw new MqttAgentsError(
        'CONNECTION_CLOSED',
        `session with server '${this.serverId}' closed while starting`,
      );
    }
  }

  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    this.core.state.assertCanSend(this.core.peer);
    const method = methodOf(message);
    if (method !== undefined && !('id' in message) && CLIENT_CAPABILITY_METHODS.has(method)) {
      await this.wiring.link.publishCoalesced(this.clientCapabilityTopic, message);
      return;
    }
    if (isRequest(message) && message.method === 'initialize') {
      this.core.expectInitialize(message.id);
      this.initializeSent = true;
      await this.core.publishTracked(message, { topic: this.controlTopic });
      return;
    }
    if (isRequest(message)) this.resources.sent(message);
    await this.core.publishTracked(message);
  }

  /**
   * De-initialize: publish `notifications/disconnected` on the RPC topic, unsubscribe from the session's
   * topics and fire `onclose`, while the MQTT connection stays. Idempotent.
   */
  close(): Promise<void> {
    return this.end({ notifyPeer: true });
  }

  /** @internal A message on the session's RPC topic. */
  receiveRpc(message: JSONRPCMessage): void {
    if (!this.core.state.is('started')) return;
    if (methodOf(message) === 'notifications/disconnected') {
      void this.end({
        notifyPeer: false,
        reason: new MqttAgentsError('CONNECTION_CLOSED', `${this.core.peer} ended the session`, {
          details: { loss: 'peer-ended' },
        }),
      });
      return;
    }
    if (!this.core.admit(message)) return;
    if (isResponse(message)) this.onResponse(message as JSONRPCMessage & { id: RequestId });
    this.core.deliver(message);
  }

  /** @internal A message on the server's capability topic. */
  receiveCapability(message: JSONRPCMessage): void {
    if (!this.core.state.is('started')) return;
    if (this.wiring.filterResourceUpdates && !this.resources.passes(message)) return;
    this.core.deliver(message);
  }

  /** @internal End the session. `notifyPeer` de-initializes on the RPC topic first. Idempotent. */
  end(ending: Omit<SessionEnding, 'unsubscribe'>): Promise<void> {
    return this.core.end(ending);
  }

  private onResponse(message: JSONRPCMessage & { id: RequestId }): void {
    const outcome = this.core.observeInitializeAnswer(message);
    // Spec decision: the session id appears only once initialize succeeded.
    if (outcome === 'succeeded') this.sessionId = this.mcpClientId;
    if (outcome === undefined) this.resources.answered(message);
  }
}
