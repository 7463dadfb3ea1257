import {
  MqttAgentsError,
  mcpClientCapabilityTopic,
  mcpClientPresenceTopic,
  mcpRpcTopic,
} from '@mqtt-agents/core';
import type { JSONRPCMessage, RequestId } from '../json-rpc-types.js';
import type { HealthCheckOptions } from '../session/health-check.js';
import type { McpCallerIdentity } from './caller-identity.js';
import type { ServerHostContext } from './host-context.js';
import type { McpServerSession } from './options.js';
import { McpMqttServerSessionTransport } from './server-session-transport.js';
import type { SessionEnding } from './server-session-transport.js';
import { sessionRefusalError } from '../session-refusal.js';
import { isRefusal } from './session-admission.js';
import type { SessionAdmission, SessionRefusal, SessionSlot } from './session-admission.js';
import type { SessionRecord } from './session-registry.js';

/** @internal What every session of a host is opened with. */
export interface SessionSettings {
  admission: SessionAdmission;
  timeouts: ReadonlyMap<string, number>;
  healthCheck: HealthCheckOptions | undefined;
  idleTimeoutMs: number;
  initializationTimeoutMs: number;
  capabilityTopic: string;
  onInitialized(transport: McpMqttServerSessionTransport): void;
  onEnded(transport: McpMqttServerSessionTransport, ending: SessionEnding): void;
}

/** The three topics a server subscribes to for one client's session. */
export function clientSessionTopics(mcpClientId: string, server: { serverId: string; serverName: string }) {
  return [
    mcpClientCapabilityTopic(mcpClientId),
    mcpClientPresenceTopic(mcpClientId),
    mcpRpcTopic({ ...server, mcpClientId }),
  ];
}

/**
 * Opens the session of one `initialize`: admission (the session limits), replacement of the client's
 * earlier session, subscription to the client's topics, the session transport, and the SDK server from
 * `createServer`, which then receives the `initialize`.
 */
export class SessionOpener {
  private readonly context: ServerHostContext;
  private readonly settings: SessionSettings;

  constructor(context: ServerHostContext, settings: SessionSettings) {
    this.context = context;
    this.settings = settings;
  }

  async open(
    mcpClientId: string,
    initialize: JSONRPCMessage & { id: RequestId },
    userProperties: Readonly<Record<string, readonly string[]>>,
    caller: McpCallerIdentity,
  ): Promise<void> {
    const { context } = this;
    if (context.isClosed()) return;
    const address = { serverId: context.serverId, serverName: context.serverName };
    const rpcTopic = mcpRpcTopic({ ...address, mcpClientId });
    const slot = await this.admit(mcpClientId, rpcTopic, initialize, caller);
    if (slot === undefined) return;
    const transport = new McpMqttServerSessionTransport({
      link: context.link,
      mcpClientId,
      ...address,
      rpcTopic,
      capabilityTopic: this.settings.capabilityTopic,
      timeouts: this.settings.timeouts,
      healthCheck: this.settings.healthCheck,
      idleTimeoutMs: this.settings.idleTimeoutMs,
      initializationTimeoutMs: this.settings.initializationTimeoutMs,
      caller,
      onInitialized: (session) => this.settings.onInitialized(session),
      onEnded: (session, ending) => this.settings.onEnded(session, ending),
    });
    const params = (initialize as { params?: unknown }).params;
    const session: McpServerSession = {
      mcpClientId,
      ...address,
      transport,
      initializeParams:
        typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : {},
      userProperties,
      caller,
    };
    const record: SessionRecord = { session, server: undefined, open: false, slot };
    context.registry.add(record);
    try {
      const server = await context.options.createServer(session);
      record.server = server;
      await server.connect(transport);
    } catch (error) {
      context.inbound.report(
        new MqttAgentsError('PROTOCOL_ERROR', `createServer failed for client '${mcpClientId}'`, {
          cause: error,
        }),
      );
      await context.link
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

  /**
   * A place in the session limits for the new session, with the client's topics subscribed, or undefined
   * when it was refused (answered and reported) or the host closed meanwhile.
   */
  private async admit(
    mcpClientId: string,
    rpcTopic: string,
    initialize: JSONRPCMessage & { id: RequestId },
    caller: McpCallerIdentity,
  ): Promise<SessionSlot | undefined> {
    const { context } = this;
    const { admission } = this.settings;
    const senderKey = context.trustBrokerIdentity ? (caller.principal ?? caller.mqttClientId) : undefined;
    const existing = context.registry.get(mcpClientId);
    if (context.isDraining()) {
      // A second initialize means the client gave up its session here: it ends, and no new one opens.
      await existing?.session.transport.end({ notifyPeer: false, unsubscribe: true });
      await this.refuse(mcpClientId, rpcTopic, initialize, 'draining');
      return undefined;
    }
    if (existing) {
      // The replaced session's place passes to the new one (unless the sender changed and must be counted
      // again), so a client re-initializing at the limit is not refused.
      let kept = existing.slot;
      existing.slot = undefined;
      if (kept === undefined || kept.senderKey !== senderKey) {
        kept?.release();
        const admitted = admission.admit(senderKey);
        if (isRefusal(admitted)) {
          await existing.session.transport.end({ notifyPeer: false, unsubscribe: true });
          await this.refuse(mcpClientId, rpcTopic, initialize, admitted);
          return undefined;
        }
        kept = admitted;
      }
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
      return kept;
    }
    // The slot is taken before any await: a flood of initializes cannot pass the limit while the first
    // ones are still subscribing.
    const admitted = admission.admit(senderKey);
    if (isRefusal(admitted)) {
      await this.refuse(mcpClientId, rpcTopic, initialize, admitted);
      return undefined;
    }
    try {
      // Spec: subscribe to the client's capability, presence and RPC topics before answering initialize.
      await context.link.subscribe(clientSessionTopics(mcpClientId, context), { noLocal: true });
    } catch (error) {
      admitted.release();
      throw error;
    }
    if (context.isClosed()) {
      admitted.release();
      return undefined;
    }
    if (context.isDraining()) {
      // The drain began while the client's topics were being subscribed.
      admitted.release();
      context.link.unsubscribeQuietly(clientSessionTopics(mcpClientId, context));
      await this.refuse(mcpClientId, rpcTopic, initialize, 'draining');
      return undefined;
    }
    return admitted;
  }

  /** Answer an initialize the limits or a drain refused: a JSON-RPC error the client sees, and a report. */
  private async refuse(
    mcpClientId: string,
    rpcTopic: string,
    initialize: JSONRPCMessage & { id: RequestId },
    refusal: SessionRefusal | 'draining',
  ): Promise<void> {
    const { inbound } = this.context;
    let error: ReturnType<typeof sessionRefusalError>;
    if (refusal === 'draining') {
      // Expected while draining, not a problem: logged, not reported.
      this.context.logger.debug(`refused client '${mcpClientId}': this instance is draining`);
      error = sessionRefusalError('draining', 'server instance is draining: connect to another instance');
    } else {
      const perSender = refusal.limit === 'max-sessions-per-sender';
      inbound.report(
        inbound.problem(
          perSender
            ? `refused client '${mcpClientId}': its sender already holds ${refusal.max} sessions (maxSessionsPerSender)`
            : `refused client '${mcpClientId}': ${refusal.max} sessions already open (maxSessions)`,
          { mcpClientId, limit: refusal.limit, max: refusal.max },
        ),
      );
      error = sessionRefusalError(
        'session-limit',
        perSender
          ? 'too many sessions from this sender: close one first'
          : 'server instance has no room for another session',
        { limit: refusal.limit, max: refusal.max },
      );
    }
    await this.context.link.publishMessage(rpcTopic, { jsonrpc: '2.0', id: initialize.id, error });
  }
}
