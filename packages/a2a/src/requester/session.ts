// What the requester's stages share: the session of one factory, and the plan of one operation.
import type { Logger, MqttConnection, RequestReply } from '@mqtt-agents/core';
import type { AgentAddress } from '../agent-address.js';
import type { RequesterAuthOptions } from '../oauth.js';
import type { RetryPolicy } from '../retry-policy.js';
import type { UbspRequesterCodec } from '../security/ubsp-codec.js';
import type { TaskRouteStore } from '../task-routes.js';

/** What every transport of one requester shares: its connection's request/reply engine and its policy. */
export interface RequesterSession {
  readonly requestReply: RequestReply;
  readonly connection: MqttConnection;
  /** taskId -> concrete responder, learnt from `a2a-responder-agent-id` (pool dispatch, task handover). */
  readonly routes: TaskRouteStore;
  /** `fail`: a request to an agent whose card says offline fails at once with `AGENT_OFFLINE`. */
  readonly offlineAgents: 'fail' | 'send';
  /** After the retries to a handed-over task's agent failed, try the card's agent once more. */
  readonly fallbackToCardAgent: boolean;
  /** OAuth 2.0 / OIDC bearer tokens. */
  readonly auth: RequesterAuthOptions | undefined;
  /** Largest JSON reply accepted, in bytes. */
  readonly maxReplyBytes: number;
  /** The requester's own address (`a2a-requester-agent-id`). */
  readonly identity: AgentAddress;
  /** The reply topic requests name as Response Topic. */
  readonly replyTopic: string;
  /** The untrusted-broker profile's codec: every request encrypted, every reply decrypted. */
  readonly ubsp: UbspRequesterCodec | undefined;
  /** `binary`: streaming requests ask for native binary artifact chunks. */
  readonly artifactMode: 'json' | 'binary';
  readonly policy: RetryPolicy;
  /** Message Expiry Interval set on every request, in seconds. */
  readonly requestExpirySeconds: number | undefined;
  readonly logger: Logger;
}

/** How one logical operation reads its replies. */
export interface ExchangePlan {
  /** True when this result is the last one of the exchange. */
  isFinal(result: unknown): boolean;
  /** Task to look up with GetTask when the stream stalls after its first item. */
  recoverTaskId: string | undefined;
  /** The task the operation is about: routed to its known responder, which replies may update. */
  taskId: string | undefined;
  /** User property `a2a-context-id`, for transport-level visibility. */
  contextId?: string;
  /** The replies are a stream, where binary artifact chunks may travel. */
  streaming?: boolean;
  /** After a stall: throw (streams) or return what GetTask found (SendMessage). */
  onStall: 'throw' | 'return';
}

/** Where one attempt of an operation goes. */
export interface Route {
  readonly topic: string;
  /** Published to the pool topic: every reply must name its responder. */
  readonly pooled: boolean;
  /** The concrete agent, when the attempt goes to one. */
  readonly agent: AgentAddress | undefined;
  /** The agent came from the route store (pool answer or handover), not from the transport's target. */
  readonly learnt: boolean;
}
