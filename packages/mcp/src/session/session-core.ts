import { MqttAgentsError } from '@mqtt-agents/core';
import type { JSONRPCMessage, MessageExtraInfo, RequestId } from '../json-rpc-types.js';
import { DISCONNECTED_NOTIFICATION, isRequest, methodOf } from '../inbound/inbound-messages.js';
import type { McpMqttLink } from '../mcp-mqtt-link.js';
import { HealthCheck } from './health-check.js';
import type { HealthCheckOptions } from './health-check.js';
import { InboundSequencer } from './inbound-sequencer.js';
import {
  RequestDeadlines,
  requestIdKey,
  timeoutCancellation,
  timeoutResponse,
  type ExpiredRequest,
} from './request-deadlines.js';
import { SessionStateMachine, type SessionRole, type SessionState } from './session-state.js';

export type { SessionRole, SessionState };

/** How a session ends. */
export interface SessionEnding {
  /** Publish `notifications/disconnected` on the session's RPC topic first (de-initialization). */
  notifyPeer: boolean;
  /** Server role: unsubscribe from the client's RPC, capability and presence topics. */
  unsubscribe?: boolean;
  /** Reported through `onerror` before `onclose`, when the end was not asked for by the session's owner. */
  reason?: MqttAgentsError | undefined;
}

/** The SDK-facing callbacks of the facade that owns a core: read at call time, set by the SDK. */
export interface SessionSink {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
}

/** What a role adds to the shared end of a session. */
export interface SessionEndHooks {
  /** Publish the de-initialization when asked to (the client only once it sent `initialize`). */
  mayNotifyPeer(): boolean;
  /** Stop the role's own clocks and queues, at once when the end begins. */
  dispose?(): void;
  /** Role clean-up between the de-initialization and `onclose` (forget the session, unsubscribe). */
  ended(ending: SessionEnding): void;
  /** After `onclose` (a dedicated client connection closes here). */
  afterClose?(): Promise<void>;
}

export interface SessionCoreOptions {
  role: SessionRole;
  link: McpMqttLink;
  /** The session's RPC topic, where requests, responses and the de-initialization travel. */
  rpcTopic: string;
  /** How messages name the peer: `server 'id' (name)` or `client 'id'`. */
  peer: string;
  timeouts: ReadonlyMap<string, number>;
  healthCheck: HealthCheckOptions | undefined;
  sink: SessionSink;
  hooks: SessionEndHooks;
  /** The session's verified caller, for messages that carry no identity of their own (server role). */
  defaultExtra?: MessageExtraInfo | undefined;
  /** Whether a request that timed out is cancelled at the peer (the client never cancels `initialize`). */
  cancelsOnTimeout?(request: ExpiredRequest): boolean;
}

/** The outcome of a response to `initialize`, once the core saw it. */
export type InitializeOutcome = 'succeeded' | 'failed' | undefined;

/**
 * The state one MCP session over MQTT holds, whichever side it is on: the state machine, request
 * deadlines, health pings, in-order delivery to the SDK, `initialize` tracking and the idempotent end.
 * The SDK `Transport` facades (client and server) add only what their role routes differently.
 */
export class SessionCore {
  readonly role: SessionRole;
  readonly link: McpMqttLink;
  readonly rpcTopic: string;
  readonly peer: string;
  readonly state: SessionStateMachine;
  private readonly options: SessionCoreOptions;
  private readonly deadlines: RequestDeadlines;
  private readonly health: HealthCheck;
  private readonly sequencer: InboundSequencer;
  private initializeKey: string | undefined;
  private established = false;
  private protocolVersion: string | undefined;
  private ending: Promise<void> | undefined;

  constructor(options: SessionCoreOptions) {
    this.options = options;
    this.role = options.role;
    this.link = options.link;
    this.rpcTopic = options.rpcTopic;
    this.peer = options.peer;
    this.state = new SessionStateMachine(options.role);
    this.sequencer = new InboundSequencer((message, extra) => {
      if (this.state.is('started')) options.sink.onmessage?.(message, extra);
    });
    this.deadlines = new RequestDeadlines({
      timeouts: options.timeouts,
      onExpired: (request) => this.expire(request),
    });
    this.health = new HealthCheck({
      send: (request) => this.link.publishMessage(this.rpcTopic, request),
      onFailure: (error) => {
        // Spec decision: after a failed health ping no more requests go to that peer.
        void this.end({
          notifyPeer: true,
          unsubscribe: true,
          reason: new MqttAgentsError(
            'REQUEST_TIMEOUT',
            `${this.peer} failed a health check: session closed`,
            { cause: error, details: { loss: 'health' } },
          ),
        });
      },
    });
  }

  /** True once `initialize` succeeded, until the session ends. */
  get isEstablished(): boolean {
    return this.established && !this.state.is('closed');
  }

  get negotiatedProtocolVersion(): string | undefined {
    return this.protocolVersion;
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  checkHealth(options: { timeoutMs?: number; signal?: AbortSignal }): Promise<void> {
    return this.health.ping(options);
  }

  // --- initialize ---

  /** The `initialize` request of this session went out (client) or came in (server). */
  expectInitialize(id: RequestId): void {
    this.initializeKey = requestIdKey(id);
  }

  /**
   * Look at a response (sent or received): when it answers `initialize`, record the negotiated version,
   * mark the session established and start the health schedule.
   */
  observeInitializeAnswer(message: JSONRPCMessage & { id: RequestId }): InitializeOutcome {
    if (this.initializeKey === undefined || requestIdKey(message.id) !== this.initializeKey) return undefined;
    this.initializeKey = undefined;
    if (!('result' in message)) return 'failed';
    const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
    if (typeof version === 'string') this.protocolVersion = version;
    this.established = true;
    if (this.options.healthCheck) this.health.schedule(this.options.healthCheck);
    return 'succeeded';
  }

  // --- outbound ---

  /**
   * Publish one message on `topic` (the RPC topic by default), with its request deadline: a request starts
   * its clock, a `notifications/cancelled` stops the clock of the request it cancels, and a request whose
   * publish fails is forgotten. `payload` is the message already serialized, when the caller has it.
   */
  async publishTracked(
    message: JSONRPCMessage,
    options: { topic?: string; payload?: string } = {},
  ): Promise<void> {
    if (methodOf(message) === 'notifications/cancelled') {
      const requestId = (message as { params?: { requestId?: RequestId } }).params?.requestId;
      if (requestId !== undefined) this.deadlines.forget(requestId);
    }
    const request = isRequest(message) ? message : undefined;
    if (request) this.deadlines.track(request);
    try {
      await this.link.publish(options.topic ?? this.rpcTopic, options.payload ?? JSON.stringify(message));
    } catch (error) {
      if (request) this.deadlines.forget(request.id);
      throw error;
    }
  }

  // --- inbound ---

  /**
   * The shared inbound stages of a session: a health-ping answer is consumed, a late response to a
   * request that timed out here is dropped. Returns true when the message goes on to the SDK.
   */
  admit(message: JSONRPCMessage): boolean {
    if (this.health.consume(message)) return false;
    if (!this.deadlines.observe(message)) {
      this.link.logger.debug(`dropped a late response from ${this.peer}`);
      return false;
    }
    return true;
  }

  /** Hand a message to the SDK, in order (see `InboundSequencer`). */
  deliver(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    this.sequencer.push(message, extra ?? this.options.defaultExtra);
  }

  // --- end ---

  /** End the session. Idempotent: every call returns the same promise. */
  end(ending: SessionEnding): Promise<void> {
    this.ending ??= this.finish(ending);
    return this.ending;
  }

  private async finish(ending: SessionEnding): Promise<void> {
    const wasActive = this.state.close();
    this.health.dispose();
    this.deadlines.dispose();
    this.sequencer.clear();
    this.options.hooks.dispose?.();
    const { link, options } = this;
    if (ending.notifyPeer && options.hooks.mayNotifyPeer() && link.connected) {
      try {
        await link.publishMessage(this.rpcTopic, DISCONNECTED_NOTIFICATION);
      } catch (error) {
        link.logger.debug(`could not tell ${this.peer} about the disconnect`, error);
      }
    }
    options.hooks.ended(ending);
    if (ending.reason && wasActive) options.sink.onerror?.(ending.reason);
    options.sink.onclose?.();
    await options.hooks.afterClose?.();
  }

  /** A request of ours ran out of time: tell the peer (unless the role says not to), answer it locally. */
  private expire(request: ExpiredRequest): void {
    if (!this.state.is('started')) return;
    if (this.options.cancelsOnTimeout?.(request) ?? true) {
      this.link
        .publishMessage(this.rpcTopic, timeoutCancellation(request))
        .catch((error: unknown) => this.link.logger.debug('could not send a cancellation', error));
    }
    this.sequencer.push(timeoutResponse(request));
  }
}
