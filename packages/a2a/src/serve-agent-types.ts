// The public shapes of an agent served over MQTT: what `serveA2AOverMqtt` takes and what it returns.
import type { AgentCard } from '@a2a-js/sdk';
import type {
  AgentExecutor,
  DefaultRequestHandler,
  DefaultRequestHandlerOptions,
  ExtendedAgentCardProvider,
  PushNotificationSender,
  PushNotificationStore,
  TaskStore,
} from '@a2a-js/sdk/server';
import type { Logger, MqttConnection, MqttConnectionOptions } from '@mqtt-agents/core';
import type { AgentCardInput } from './agent-card.js';
import type { BinaryArtifactOptions } from './binary-artifacts.js';
import type { BoundedTaskStoreOptions } from './bounded-task-store.js';
import type { CardSigningOptions } from './card-signatures.js';
import type { BearerAuthOptions } from './oauth.js';
import type { ResponderLimits } from './responder/api.js';
import type { CardSecurityMetadata } from './security-metadata.js';
import type { ServeUbspOptions } from './ubsp.js';

/** Options of a blocking call: `signal` aborts it. */
export interface SignalOptions {
  signal?: AbortSignal;
}

/** The signal of `options`, which may still be a bare `AbortSignal` (the deprecated positional form). */
export function signalOf(options: AbortSignal | SignalOptions | undefined): AbortSignal | undefined {
  return options instanceof AbortSignal ? options : options?.signal;
}

/**
 * How `serveA2AOverMqtt` serves an agent: where the broker is, the agent's identity `{org}/{unit}/{agentId}`,
 * its card and executor, and the optional pools, security and limits.
 */
export interface ServeA2AOverMqttOptions {
  /** Where the broker is; with `url` the agent connects as `{org}/{unit}/{agentId}` with the profile's will. */
  mqtt: MqttConnectionOptions;
  /** The organisation level of the agent's topics and client id. */
  org: string;
  /** The unit level of the agent's topics and client id, inside `org`. */
  unit: string;
  /** The agent's id inside `{org}/{unit}`: the last level of its discovery and request topics. */
  agentId: string;
  /** The agent's card; only `name` is required. The MQTT interface entry is added for you. */
  card: AgentCardInput;
  /** Your agent logic, exactly as for any `@a2a-js/sdk` server. */
  executor: AgentExecutor;
  /**
   * Pools this agent also serves (shared pool dispatch): it subscribes to
   * `$share/{group}/$a2a/v1/request/{org}/{unit}/pool/{poolId}` with the profile's deterministic group id
   * (or `groupId`, which every member of the pool must then share), and names itself in
   * `a2a-responder-agent-id` on every reply to a pooled request.
   */
  pools?: ReadonlyArray<string | { poolId: string; groupId?: string }>;
  /**
   * Default true: publish the card retained on the discovery topic, with presence and a will. False for an
   * instance that takes tasks handed over by a card-owning agent and has no card of its own.
   */
  publishCard?: boolean;
  /**
   * OAuth 2.0 / OIDC: validate `a2a-authorization: Bearer <token>` on every request (signature against the
   * issuer's keys, `exp`, `iss`, `aud`, and the scopes of `requiredScopes` and the card's
   * `securityRequirements`) before any executor runs. Executors see the caller in
   * `requestContext.context.user` (a `BearerTokenUser` with `claims` and `scopes`).
   */
  auth?: BearerAuthOptions;
  /**
   * Native binary artifact mode: when a streaming request asks for `a2a-artifact-mode=binary`, artifact
   * updates made of one raw part go as raw MQTT chunks instead of base64 JSON. Supported by default; false
   * answers such requests in JSON (and says so in `a2a-artifact-mode`).
   */
  binaryArtifacts?: BinaryArtifactOptions | false;
  /**
   * Sign the published card (JWS over its canonical JSON, A2A v1.0 §8.4), again on every `updateCard`.
   * Discovery subscribers verify it with `discoverAgents({ verifyCards })`.
   */
  signCard?: CardSigningOptions;
  /**
   * Public key metadata for the card (`jwksUri`, inline `jwks`), published in the
   * `urn:a2a:mqtt-profile:v1` extension as EIP-0033 describes. Only public key members are kept.
   */
  securityMetadata?: CardSecurityMetadata;
  /**
   * The untrusted-broker profile `ubsp-v1`: the card publishes the public key of `privateKey` (inline JWKS
   * in the security metadata); protected requests are decrypted and their replies and stream items
   * encrypted to the requester's key, resolved from its card (only signed ones with `verifyCards`).
   * `required: true` refuses plaintext requests.
   */
  ubsp?: ServeUbspOptions;
  /**
   * Where tasks live: any SDK `TaskStore`. Default: a fresh `BoundedTaskStore` with `taskLimits` (10,000
   * tasks, 64 MiB, terminal tasks kept 1 hour and evicted first, at most 5,000 unfinished tasks; see
   * `BoundedTaskStoreOptions`). With a `BoundedTaskStore` (yours or the default), new tasks beyond its
   * `maxActiveTasks` are refused with `responder_unavailable`.
   */
  taskStore?: TaskStore;
  /** Limits of the default task store; ignored when `taskStore` is given. */
  taskLimits?: Omit<BoundedTaskStoreOptions, 'logger'>;
  /**
   * Trust the `mqtt-agents-sender-*` user properties as the broker's verified identity of each request's
   * publisher. Only on a broker that strips and stamps them (the embedded broker with `agentTopicAcl`): on
   * any other broker a client writes them itself. Then executors see the sender as
   * `requestContext.context.user` (a `BrokerIdentityUser`, unless a bearer token was validated), tasks of
   * the default store are scoped per sender, and duplicate-detection limits count per sender. Default false:
   * the properties are ignored, the caller is unauthenticated (or the OAuth user), and limits count per
   * reply-topic identity `{org}/{unit}/{agent}`.
   */
  trustBrokerIdentity?: boolean;
  /**
   * Response Topics outside the profile's reply topics (`$a2a/v1/reply/{org}/{unit}/{agent}/{suffix}`)
   * that this agent answers too, as MQTT topic filters (`legacy/replies/#`). Default none: a request naming
   * any other Response Topic (another agent's request topic, a presence or MCP topic ...) is not answered,
   * and it is logged. Requests answered on such topics count for duplicate detection by the Response Topic
   * itself, which the client chooses.
   */
  allowedReplyTopics?: readonly string[];
  /** Broker URL written into the card when it differs from the one connected to (for example behind a proxy). */
  brokerUrl?: string;
  /** Served by `GetExtendedAgentCard` when `card.capabilities.extendedAgentCard` is true. */
  extendedAgentCard?: AgentCard | ExtendedAgentCardProvider;
  pushNotificationStore?: PushNotificationStore;
  pushNotificationSender?: PushNotificationSender;
  /** Passed to the SDK's `DefaultRequestHandler`. */
  requestHandlerOptions?: DefaultRequestHandlerOptions;
  limits?: ResponderLimits;
  /** How long `close()` waits for requests in flight before disconnecting, in ms. Default 2 000. */
  shutdownGraceMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
}

/** A running agent. Close it (or `await using` it) to go offline gracefully. */
export interface A2AMqttAgent {
  readonly org: string;
  readonly unit: string;
  readonly agentId: string;
  /** `{org}/{unit}/{agentId}`, also the MQTT client id when the agent opened the connection. */
  readonly clientId: string;
  readonly discoveryTopic: string;
  readonly requestTopic: string;
  /** The shared subscriptions of the pools the agent serves. */
  readonly poolSubscriptions: readonly string[];
  /** The card as published (with the MQTT interface entry). */
  readonly card: AgentCard;
  /** The SDK request handler serving the agent; useful to share its task store or call it in-process. */
  readonly requestHandler: DefaultRequestHandler;
  readonly connection: MqttConnection;
  /** True between `unregister()` and the next `updateCard()`. */
  readonly registered: boolean;
  /**
   * Republish a changed card (retained, `a2a-status=online`). A bare `AbortSignal` as second argument is
   * deprecated: pass `{ signal }`.
   */
  updateCard(card: AgentCardInput, options?: SignalOptions | AbortSignal): Promise<void>;
  /**
   * Clear the retained card (empty retained payload): discovery subscribers see the agent unregistered.
   * A bare `AbortSignal` is deprecated: pass `{ signal }`.
   */
  unregister(options?: SignalOptions | AbortSignal): Promise<void>;
  /**
   * Hand a task over to another agent instance: replies about it name `agentId` in
   * `a2a-responder-agent-id`, so requesters send its next operations there. See `handOverTask`.
   */
  handOver(taskId: string, agentId: string): void;
  /** Idempotent: republish the card as offline (unless unregistered), stop serving, disconnect. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
