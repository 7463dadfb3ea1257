// The responder's public surface: the methods it serves, the limits it applies, and what executors see.
import { MqttAgentsError } from '@mqtt-agents/core';
import type { RequestContext, User } from '@a2a-js/sdk/server';
import type { BrokerSender } from '../caller-identity.js';

/** Every A2A v1.0 JSON-RPC method an agent serves over MQTT. */
export const A2A_METHODS: readonly string[] = [
  'SendMessage',
  'SendStreamingMessage',
  'GetTask',
  'ListTasks',
  'CancelTask',
  'SubscribeToTask',
  'CreateTaskPushNotificationConfig',
  'GetTaskPushNotificationConfig',
  'ListTaskPushNotificationConfigs',
  'DeleteTaskPushNotificationConfig',
  'GetExtendedAgentCard',
];

/** Key of the `ServerCallContext.state` entry that describes the MQTT request being served. */
export const MQTT_REQUEST_STATE_KEY = 'mqtt';

/** Key of the `ServerCallContext.state` entry through which `handOverTask` reaches the responder. */
export const HANDOVER_STATE_KEY = 'mqtt-handover';

export interface HandoverControl {
  handOver(taskId: string, agentId: string): void;
}

/**
 * Hand the task of this request over to another agent instance (profile, Optional Task Handover): from now
 * on every reply and stream item for the task carries `a2a-responder-agent-id: agentId`, and requesters send
 * the task's next operations to that agent's request topic (`$a2a/v1/request/{org}/{unit}/{agentId}`). The
 * other instance must be able to serve the task, typically by sharing this agent's task store. Call it from
 * an executor; `agent.handOver(taskId, agentId)` does the same from outside one.
 */
export function handOverTask(requestContext: RequestContext, agentId: string): void {
  const control = requestContext.context?.state.get(HANDOVER_STATE_KEY) as HandoverControl | undefined;
  if (!control) {
    throw new MqttAgentsError(
      'UNSUPPORTED',
      'handOverTask needs a request served over MQTT by serveA2AOverMqtt',
    );
  }
  control.handOver(requestContext.taskId, agentId);
}

/** What an executor finds under `requestContext.context.state.get(MQTT_REQUEST_STATE_KEY)`. */
export interface MqttRequestInfo {
  /** The topic the request arrived on (a pool topic for pooled requests). */
  readonly topic: string;
  /** True when the request came through a pool's shared subscription. */
  readonly pooled: boolean;
  readonly responseTopic: string;
  readonly correlationData: Uint8Array;
  /** User properties of the request, `a2a-authorization` included (never echoed by this package). */
  readonly userProperties: Readonly<Record<string, string | string[]>>;
  /**
   * The verified caller, the same object as `requestContext.context.user`: the OAuth user when a bearer
   * token was validated, else (with `trustBrokerIdentity`) a `BrokerIdentityUser`, else an
   * `UnauthenticatedUser`.
   */
  readonly user: User;
  /** The broker-stamped sender (client id, principal, roles); only with `trustBrokerIdentity: true`. */
  readonly sender?: BrokerSender;
}

/** Limits that protect an agent from floods and oversize input. */
export interface ResponderLimits {
  /** Requests handled at once (streams count until their final item). Default 100. */
  maxConcurrentRequests?: number;
  /** Requests waiting for a slot; beyond that the agent answers `responder_unavailable`. Default 1000. */
  maxQueuedRequests?: number;
  /** Largest request payload in bytes; larger requests get -32600. Default 1 MiB. */
  maxRequestBytes?: number;
  /**
   * How long an answered SendMessage/SendStreamingMessage is remembered by (taskId, messageId) for
   * duplicate detection (a retry or replay gets the first answer, the task never runs twice), and a
   * delivery by its correlation. Default 10 min. Requests in flight are remembered until answered.
   */
  duplicateWindowMs?: number;
  /**
   * Requests one requester may have in the duplicate window (in flight and answered within
   * `duplicateWindowMs`). Beyond it that requester's new requests are refused with the retryable
   * `responder_unavailable` (they never run) until its entries age out; nobody else's are forgotten.
   * The requester is the broker-stamped sender with `trustBrokerIdentity`, else the `{org}/{unit}/{agent}`
   * of the reply topic. Default 20,000 (33 new tasks a second, sustained, for the 10-minute window).
   */
  maxWindowEntriesPerRequester?: number;
  /** Estimated bytes (keys and kept answers) one requester may hold in the window. Default 16 MiB. */
  maxWindowBytesPerRequester?: number;
  /** Requests of all requesters together in the duplicate window. Default 100,000. */
  maxWindowEntries?: number;
  /** Estimated bytes of the whole duplicate window. Default 64 MiB. */
  maxWindowBytes?: number;
}

/** The defaults of the duplicate window limits in {@link ResponderLimits}. */
export const DEFAULT_DUPLICATE_WINDOW = Object.freeze({
  duplicateWindowMs: 10 * 60_000,
  maxWindowEntriesPerRequester: 20_000,
  maxWindowBytesPerRequester: 16 * 1024 * 1024,
  maxWindowEntries: 100_000,
  maxWindowBytes: 64 * 1024 * 1024,
});
