import {
  AgentCard,
  CancelTaskRequest,
  DeleteTaskPushNotificationConfigRequest,
  GetExtendedAgentCardRequest,
  GetTaskPushNotificationConfigRequest,
  GetTaskRequest,
  ListTaskPushNotificationConfigsRequest,
  ListTaskPushNotificationConfigsResponse,
  ListTasksRequest,
  ListTasksResponse,
  SendMessageRequest,
  StreamResponse,
  SubscribeToTaskRequest,
  Task,
  TaskPushNotificationConfig,
  taskStateToJSON,
} from '@a2a-js/sdk';
import type { SendMessageResult } from '@a2a-js/sdk';
import type { RequestOptions, Transport } from '@a2a-js/sdk/client';
import { InvalidAgentResponseError, fromJsonRpcErrorResponse } from '@a2a-js/sdk/errors';
import {
  A2AUserProperty,
  MqttAgentsError,
  a2aPoolRequestTopic,
  a2aRequestTopic,
  classifyJsonRpc,
  decodeJson,
  getUserProperty,
  isValidIdentifier,
  printable,
} from '@mqtt-agents/core';
import type {
  Logger,
  MqttConnection,
  MqttMessage,
  MqttPublishProperties,
  RequestReply,
} from '@mqtt-agents/core';
import { A2A_PROTOCOL_VERSION } from './agent-card.js';
import type { AgentAddress } from './agent-address.js';
import { MqttAuthError, readAuthErrorKind } from './auth-errors.js';
import { ArtifactAssembler, isBinaryChunk, readBinaryChunk } from './binary-artifacts.js';
import { MqttBindingError, readBindingErrorKind } from './binding-errors.js';
import { bearerRequirements, isTlsConnection, secondsToExpiry } from './oauth.js';
import { payloadFingerprint } from './payload-fingerprint.js';
import { UBSP_V1, UbspHeader, decryptPayload, encryptPayload, ubspCorrelationHeader } from './ubsp.js';
import type { ReplayGuard, UbspOptions } from './ubsp.js';
import type { PeerKeyResolver } from './discovery/peer-keys.js';
import type { RequesterAuthOptions } from './oauth.js';
import type { JsonRpcErrorObject } from './binding-errors.js';
import { delay } from './mqtt-connection.js';
import { backoffDelay } from './retry-policy.js';
import type { RetryPolicy } from './retry-policy.js';
import { isPoolAddress } from './task-routes.js';
import type { PoolAddress, TaskRouteStore } from './task-routes.js';
import {
  StreamFolder,
  isSendMessageFinalResponse,
  isStreamFinalResponse,
  isStreamFinalState,
} from './stream-states.js';

/** What every transport of one requester shares: its connection's request/reply engine and its policy. */
export interface RequesterSession {
  readonly requestReply: RequestReply;
  readonly connection: MqttConnection;
  /** taskId -> concrete responder, learnt from `a2a-responder-agent-id` (pool dispatch, task handover). */
  readonly routes: TaskRouteStore;
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
  /** The untrusted-broker profile: every request encrypted, every reply decrypted. */
  readonly ubsp: { options: UbspOptions; keys: PeerKeyResolver; replay: ReplayGuard } | undefined;
  /** `binary`: streaming requests ask for native binary artifact chunks. */
  readonly artifactMode: 'json' | 'binary';
  readonly policy: RetryPolicy;
  /** Message Expiry Interval set on every request, in seconds. */
  readonly requestExpirySeconds: number | undefined;
  readonly logger: Logger;
}

type ParsedReply =
  { kind: 'result'; result: unknown } | { kind: 'error'; error: JsonRpcErrorObject; id: unknown };

interface ExchangePlan {
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
}

/** A stream item rebuilt from binary chunks: already a typed StreamResponse, no JSON round trip. */
class ReassembledItem {
  constructor(readonly response: StreamResponse) {}
}

function topicOf(agent: AgentAddress): string {
  return a2aRequestTopic({ orgId: agent.org, unitId: agent.unit, agentId: agent.agentId });
}

/** Where one attempt of an operation goes. */
interface Route {
  readonly topic: string;
  /** Published to the pool topic: every reply must name its responder. */
  readonly pooled: boolean;
  /** The concrete agent, when the attempt goes to one. */
  readonly agent: AgentAddress | undefined;
  /** The agent came from the route store (pool answer or handover), not from the transport's target. */
  readonly learnt: boolean;
}

function uuid(): string {
  return globalThis.crypto.randomUUID();
}

/** Typed stream items already decoded from a reply's JSON result (each reply is read by `isFinal`, then used). */
const decodedItems = new WeakMap<object, StreamResponse>();

function streamResponseOf(result: unknown): StreamResponse {
  if (result instanceof ReassembledItem) return result.response;
  if (typeof result !== 'object' || result === null) return StreamResponse.fromJSON({});
  let decoded = decodedItems.get(result);
  if (decoded === undefined) {
    decoded = StreamResponse.fromJSON(result);
    decodedItems.set(result, decoded);
  }
  return decoded;
}

const FIRST_JSON_REPLY = 'json\nfirst';

/**
 * Duplicate keys (QoS 1 redelivery) for the replies of one attempt: chunk identity for binary chunks, whose
 * payloads may well be byte-identical (core's default would drop them), and a payload fingerprint otherwise.
 * Most requests get one JSON reply, so the first is only fingerprinted once a second one arrives; until then
 * the attempt holds on to that one payload.
 */
function replyDedupKeys(): (reply: MqttMessage) => string {
  let firstPayload: Uint8Array | undefined;
  let firstFingerprint: string | undefined;
  return (reply) => {
    if (isBinaryChunk(reply)) {
      const get = (name: string) => getUserProperty(reply.properties, name) ?? '';
      return `chunk\n${get(A2AUserProperty.TaskId)}\n${get(A2AUserProperty.ArtifactId)}\n${get(A2AUserProperty.ChunkSeqno)}`;
    }
    if (firstPayload === undefined && firstFingerprint === undefined) {
      firstPayload = reply.payload;
      return FIRST_JSON_REPLY;
    }
    if (firstPayload !== undefined) {
      firstFingerprint = payloadFingerprint(firstPayload);
      firstPayload = undefined;
    }
    const print = payloadFingerprint(reply.payload);
    return print === firstFingerprint ? FIRST_JSON_REPLY : `json\n${print}`;
  };
}

/** Service parameters travel as `a2a-` user properties (`A2A-Version` -> `a2a-version`, `Authorization` -> `a2a-authorization`). */
export function serviceParametersToUserProperties(
  parameters: Record<string, string> | undefined,
): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters ?? {})) {
    const lower = name.toLowerCase();
    properties[lower.startsWith('a2a-') ? lower : `a2a-${lower}`] = value;
  }
  return properties;
}

/** Turn a JSON-RPC error from a responder into the error the caller sees: binding errors by their marker. */
export function toA2AError(error: JsonRpcErrorObject, id: unknown): Error {
  const kind = readBindingErrorKind(error);
  if (kind) return new MqttBindingError(kind, error);
  const authKind = readAuthErrorKind(error);
  if (authKind) return new MqttAuthError(authKind, error);
  return fromJsonRpcErrorResponse({
    jsonrpc: '2.0',
    id: typeof id === 'string' || typeof id === 'number' ? id : null,
    error: error as Parameters<typeof fromJsonRpcErrorResponse>[0]['error'],
  });
}

function isRetryableLocalError(error: unknown): boolean {
  return (
    MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT') || MqttAgentsError.hasCode(error, 'PUBLISH_FAILED')
  );
}

/**
 * The `Transport` of `@a2a-js/sdk`'s client for one agent over MQTT: JSON-RPC requests published with QoS 1,
 * Response Topic and Correlation Data, answers read from the requester's reply topic, with the profile's
 * retry and timeout rules. Created by `MqttTransportFactory`.
 */
export class MqttClientTransport implements Transport {
  /** The agent (or pool) this transport talks to. */
  readonly target: AgentAddress | PoolAddress;
  /** Where requests go until a task's responder is known: the agent's or the pool's request topic. */
  readonly requestTopic: string;
  readonly #session: RequesterSession;
  readonly #protocolName: string;
  readonly #parsed = new WeakMap<MqttMessage, ParsedReply>();
  /** Scopes to ask the token provider for; undefined when requests carry no token. */
  readonly #tokenScopes: readonly string[] | undefined;
  /** The card the transport was created from, if any. */
  readonly #card: AgentCard | undefined;

  constructor(
    session: RequesterSession,
    target: AgentAddress | PoolAddress,
    protocolName: string,
    card?: AgentCard,
  ) {
    this.#session = session;
    this.#card = card;
    const auth = session.auth;
    const alternatives = bearerRequirements(card);
    this.#tokenScopes =
      auth?.getToken === undefined
        ? undefined
        : alternatives.length > 0
          ? (alternatives[0] as string[])
          : auth.send === 'always'
            ? []
            : undefined;
    if (isPoolAddress(target)) {
      this.target = { org: target.org, unit: target.unit, poolId: target.poolId };
      this.requestTopic = a2aPoolRequestTopic({
        orgId: target.org,
        unitId: target.unit,
        poolId: target.poolId,
      });
    } else {
      this.target = { org: target.org, unit: target.unit, agentId: target.agentId };
      this.requestTopic = topicOf(this.target);
    }
    this.#protocolName = protocolName;
  }

  /** `agent 'x'` or `pool 'y'`, for messages. */
  get #name(): string {
    return isPoolAddress(this.target) ? `pool '${this.target.poolId}'` : `agent '${this.target.agentId}'`;
  }

  get protocolName(): string {
    return this.#protocolName;
  }

  get protocolVersion(): string {
    return A2A_PROTOCOL_VERSION;
  }

  async getExtendedAgentCard(
    params: GetExtendedAgentCardRequest,
    options?: RequestOptions,
  ): Promise<AgentCard> {
    return AgentCard.fromJSON(
      await this.#unary('GetExtendedAgentCard', GetExtendedAgentCardRequest.toJSON(params), options),
    );
  }

  /**
   * SendMessage. A new task gets a requester-generated UUIDv4 `taskId` (and a `contextId` when none is set).
   * One reply is the answer; a responder that streams instead is followed to a final state and folded.
   */
  async sendMessage(params: SendMessageRequest, options?: RequestOptions): Promise<SendMessageResult> {
    const request = withRequesterIds(params);
    const message = request.message as NonNullable<SendMessageRequest['message']>;
    const returnImmediately = request.configuration?.returnImmediately === true;
    const folder = new StreamFolder();
    const plan: ExchangePlan = {
      isFinal: (result) => returnImmediately || isSendMessageFinalResponse(streamResponseOf(result)),
      recoverTaskId: message.taskId,
      taskId: message.taskId,
      contextId: message.contextId,
    };
    for await (const result of this.#exchange(
      'SendMessage',
      SendMessageRequest.toJSON(request),
      options,
      plan,
      'return',
    )) {
      folder.add(streamResponseOf(result));
    }
    const folded = folder.result();
    if (!folded)
      throw new InvalidAgentResponseError('the agent answered SendMessage with neither a task nor a message');
    return folded;
  }

  /** SendStreamingMessage: every reply is one stream item; the stream ends on a terminal or interrupted state. */
  async *sendMessageStream(
    params: SendMessageRequest,
    options?: RequestOptions,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    const request = withRequesterIds(params);
    const message = request.message as NonNullable<SendMessageRequest['message']>;
    const plan: ExchangePlan = {
      isFinal: (result) => isStreamFinalResponse(streamResponseOf(result)),
      recoverTaskId: message.taskId,
      taskId: message.taskId,
      contextId: message.contextId,
      streaming: true,
    };
    for await (const result of this.#exchange(
      'SendStreamingMessage',
      SendMessageRequest.toJSON(request),
      options,
      plan,
      'throw',
    )) {
      yield streamResponseOf(result);
    }
  }

  async createTaskPushNotificationConfig(
    params: TaskPushNotificationConfig,
    options?: RequestOptions,
  ): Promise<TaskPushNotificationConfig> {
    return TaskPushNotificationConfig.fromJSON(
      await this.#unary(
        'CreateTaskPushNotificationConfig',
        TaskPushNotificationConfig.toJSON(params),
        options,
        params.taskId,
      ),
    );
  }

  async getTaskPushNotificationConfig(
    params: GetTaskPushNotificationConfigRequest,
    options?: RequestOptions,
  ): Promise<TaskPushNotificationConfig> {
    return TaskPushNotificationConfig.fromJSON(
      await this.#unary(
        'GetTaskPushNotificationConfig',
        GetTaskPushNotificationConfigRequest.toJSON(params),
        options,
        params.taskId,
      ),
    );
  }

  async listTaskPushNotificationConfig(
    params: ListTaskPushNotificationConfigsRequest,
    options?: RequestOptions,
  ): Promise<ListTaskPushNotificationConfigsResponse> {
    return ListTaskPushNotificationConfigsResponse.fromJSON(
      await this.#unary(
        'ListTaskPushNotificationConfigs',
        ListTaskPushNotificationConfigsRequest.toJSON(params),
        options,
        params.taskId,
      ),
    );
  }

  async deleteTaskPushNotificationConfig(
    params: DeleteTaskPushNotificationConfigRequest,
    options?: RequestOptions,
  ): Promise<void> {
    await this.#unary(
      'DeleteTaskPushNotificationConfig',
      DeleteTaskPushNotificationConfigRequest.toJSON(params),
      options,
      params.taskId,
    );
  }

  async getTask(params: GetTaskRequest, options?: RequestOptions): Promise<Task> {
    return Task.fromJSON(await this.#unary('GetTask', GetTaskRequest.toJSON(params), options, params.id));
  }

  async cancelTask(params: CancelTaskRequest, options?: RequestOptions): Promise<Task> {
    return Task.fromJSON(
      await this.#unary('CancelTask', CancelTaskRequest.toJSON(params), options, params.id),
    );
  }

  async listTasks(params: ListTasksRequest, options?: RequestOptions): Promise<ListTasksResponse> {
    return ListTasksResponse.fromJSON(
      await this.#unary('ListTasks', ListTasksRequest.toJSON(params), options),
    );
  }

  /** SubscribeToTask: the task's current state, then its updates until a terminal or interrupted state. */
  async *resubscribeTask(
    params: SubscribeToTaskRequest,
    options?: RequestOptions,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    const plan: ExchangePlan = {
      isFinal: (result) => isStreamFinalResponse(streamResponseOf(result)),
      recoverTaskId: params.id,
      taskId: params.id,
      streaming: true,
    };
    for await (const result of this.#exchange(
      'SubscribeToTask',
      SubscribeToTaskRequest.toJSON(params),
      options,
      plan,
      'throw',
    )) {
      yield streamResponseOf(result);
    }
  }

  async #unary(
    method: string,
    params: unknown,
    options: RequestOptions | undefined,
    taskId?: string,
  ): Promise<unknown> {
    const plan: ExchangePlan = {
      isFinal: () => true,
      recoverTaskId: undefined,
      taskId: taskId === '' ? undefined : taskId,
    };
    for await (const result of this.#exchange(method, params, options, plan, 'throw')) return result;
    throw new InvalidAgentResponseError(`${this.#name} sent no answer to ${method}`);
  }

  #parse(reply: MqttMessage): ParsedReply {
    const cached = this.#parsed.get(reply);
    if (cached) return cached;
    const parsed = this.#parseUncached(reply);
    this.#parsed.set(reply, parsed);
    return parsed;
  }

  #parseUncached(reply: MqttMessage, payload: Uint8Array = reply.payload): ParsedReply {
    const decoded = decodeJson(payload, { maxBytes: this.#session.maxReplyBytes });
    if (!decoded.ok) {
      throw new MqttAgentsError(
        'PROTOCOL_ERROR',
        `reply from ${this.#name} is not json: ${decoded.error.message}`,
        {
          details: { topic: reply.topic },
        },
      );
    }
    const classified = classifyJsonRpc(decoded.value);
    if (classified.kind === 'response') return { kind: 'result', result: classified.message.result };
    if (classified.kind === 'error')
      return { kind: 'error', error: classified.message.error, id: classified.message.id };
    throw new MqttAgentsError('PROTOCOL_ERROR', `reply from ${this.#name} is not a JSON-RPC response`, {
      details: { topic: reply.topic, kind: classified.kind },
    });
  }

  #isFinalReply(reply: MqttMessage, plan: ExchangePlan): boolean {
    if (isBinaryChunk(reply)) return false;
    try {
      const parsed = this.#parse(reply);
      return parsed.kind === 'error' || plan.isFinal(parsed.result);
    } catch {
      return true;
    }
  }

  #requestProperties(
    options: RequestOptions | undefined,
    plan: ExchangePlan,
  ): Omit<MqttPublishProperties, 'responseTopic' | 'correlationData'> {
    const userProperties = serviceParametersToUserProperties(options?.serviceParameters);
    if (plan.contextId) userProperties[A2AUserProperty.ContextId] = plan.contextId;
    if (plan.streaming && this.#session.artifactMode === 'binary') {
      userProperties[A2AUserProperty.ArtifactMode] ??= 'binary';
    }
    // MQTT.js never completes a publish whose user properties are an empty object: leave them out.
    return {
      contentType: 'application/json',
      ...(Object.keys(userProperties).length > 0 ? { userProperties } : {}),
      ...(this.#session.requestExpirySeconds === undefined
        ? {}
        : { messageExpiryInterval: this.#session.requestExpirySeconds }),
    };
  }

  /**
   * The properties of one attempt: the bearer token (fresh on retries and after a refusal) is added when
   * the card asks for one, and no token ever leaves on a connection without TLS unless the user said so.
   */
  async #attemptProperties(
    base: Omit<MqttPublishProperties, 'responseTopic' | 'correlationData'>,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<Omit<MqttPublishProperties, 'responseTopic' | 'correlationData'>> {
    const auth = this.#session.auth;
    let properties = base;
    if (this.#tokenScopes !== undefined && auth?.getToken) {
      const ask = (refresh: boolean) =>
        (auth.getToken as NonNullable<RequesterAuthOptions['getToken']>)({
          agent: this.target,
          scopes: this.#tokenScopes as readonly string[],
          attempt,
          refresh,
          ...(signal ? { signal } : {}),
        });
      let token = await ask(attempt > 1);
      // A provider that hands out an expired JWT gets one more chance to refresh it.
      if ((secondsToExpiry(token) ?? 1) <= 0) token = await ask(true);
      if (typeof token !== 'string' || token === '') {
        throw new MqttAgentsError('INVALID_PAYLOAD', 'the token provider returned no token');
      }
      properties = {
        ...base,
        userProperties: { ...base.userProperties, [A2AUserProperty.Authorization]: `Bearer ${token}` },
      };
    }
    if (
      properties.userProperties?.[A2AUserProperty.Authorization] !== undefined &&
      auth?.allowInsecureTransport !== true &&
      !isTlsConnection(this.#session.connection)
    ) {
      throw new MqttAgentsError(
        'UNSUPPORTED',
        `refusing to send a bearer token to ${this.#name} over a connection without TLS: connect with mqtts:// or wss://, or set auth.allowInsecureTransport for local development`,
        { details: { reason: 'insecure-transport' } },
      );
    }
    return properties;
  }

  /**
   * Encrypt one attempt's request to the responder's key (`ubsp-v1`): bound to this requester, the
   * recipient and the reply topic. Fails closed: without a trusted key nothing is sent.
   */
  async #seal(
    payload: string,
    properties: Omit<MqttPublishProperties, 'responseTopic' | 'correlationData'>,
    route: Route,
  ): Promise<{
    payload: string;
    properties: Omit<MqttPublishProperties, 'responseTopic' | 'correlationData'>;
  }> {
    const ubsp = this.#session.ubsp;
    if (!ubsp) return { payload, properties };
    const recipient = route.agent;
    if (!recipient) {
      throw new MqttAgentsError(
        'UNSUPPORTED',
        `ubsp-v1 needs one recipient, and ${this.#name} has many members: send to a member directly`,
      );
    }
    const card =
      !route.learnt && this.#card && !isPoolAddress(this.target) && recipient.agentId === this.target.agentId
        ? this.#card
        : undefined;
    const key = await ubsp.keys.resolve(recipient, card);
    const requesterId = this.#session.identity.agentId;
    const sealed = await encryptPayload(
      payload,
      key,
      {
        [UbspHeader.Requester]: requesterId,
        [UbspHeader.Recipient]: recipient.agentId,
        [UbspHeader.ResponseTopic]: this.#session.replyTopic,
      },
      {
        serialization: ubsp.options.serialization ?? 'compact',
        maxAgeSeconds: ubsp.options.maxAgeSeconds ?? 60,
      },
    );
    return {
      payload: sealed.payload,
      properties: {
        ...properties,
        contentType: sealed.contentType,
        userProperties: {
          ...properties.userProperties,
          [A2AUserProperty.SecurityProfile]: UBSP_V1,
          [A2AUserProperty.RequesterAgentId]: requesterId,
          [A2AUserProperty.RecipientAgentId]: recipient.agentId,
          ...(key.kid === undefined ? {} : { [A2AUserProperty.RecipientKid]: key.kid }),
        },
      },
    };
  }

  /**
   * Decrypt and check a reply to a `ubsp-v1` request: it must be protected (a plaintext
   * `transport_protocol_error` is the one exception: the agent could not read the request's metadata),
   * addressed to this requester, bound to this correlation, and not replayed.
   */
  async #open(reply: MqttMessage, correlation: Uint8Array): Promise<ParsedReply> {
    const ubsp = this.#session.ubsp as NonNullable<RequesterSession['ubsp']>;
    const fail = (reason: string): never => {
      throw new MqttAgentsError('PROTOCOL_ERROR', `rejected a ubsp-v1 reply from ${this.#name}: ${reason}`, {
        details: { topic: reply.topic },
      });
    };
    if (getUserProperty(reply.properties, A2AUserProperty.SecurityProfile) !== UBSP_V1) {
      const parsed = this.#parse(reply);
      if (parsed.kind === 'error' && readBindingErrorKind(parsed.error) === 'transport_protocol_error')
        return parsed;
      return fail('it is not protected (plaintext)');
    }
    let decrypted;
    try {
      decrypted = await decryptPayload(reply.payload, reply.properties.contentType, ubsp.options.privateKey);
    } catch {
      return fail('it cannot be decrypted with this requester key');
    }
    const header = decrypted.header;
    if (header[UbspHeader.Requester] !== this.#session.identity.agentId)
      fail('it is addressed to another requester');
    if (header[UbspHeader.CorrelationData] !== ubspCorrelationHeader(correlation))
      fail('it belongs to another request');
    const replay = ubsp.replay.check(header);
    if (replay !== undefined) fail(replay);
    return this.#parseUncached(reply, decrypted.plaintext);
  }

  /**
   * Where an attempt goes: the task's known responder (learnt from a pooled answer or a handover), else
   * this transport's agent or pool.
   */
  async #route(taskId: string | undefined): Promise<Route> {
    const known = taskId === undefined ? undefined : await this.#session.routes.get(taskId);
    if (known) return { topic: topicOf(known), pooled: false, agent: known, learnt: true };
    if (isPoolAddress(this.target)) {
      return { topic: this.requestTopic, pooled: true, agent: undefined, learnt: false };
    }
    return { topic: this.requestTopic, pooled: false, agent: this.target, learnt: false };
  }

  /**
   * Read `a2a-responder-agent-id` from a reply: required on replies to pooled requests (a missing or
   * malformed one is a protocol error), a handover otherwise. Answers (not errors) update the task's route.
   */
  async #learnResponder(
    reply: MqttMessage,
    route: Route,
    plan: ExchangePlan,
    isError: boolean,
  ): Promise<void> {
    const responderId = getUserProperty(reply.properties, A2AUserProperty.ResponderAgentId);
    const valid = responderId !== undefined && isValidIdentifier('agent-id', responderId);
    if (route.pooled && !valid) {
      throw new MqttAgentsError(
        'PROTOCOL_ERROR',
        responderId === undefined
          ? `reply to a request to ${this.#name} has no ${A2AUserProperty.ResponderAgentId}: a pooled reply must name its responder`
          : `reply to a request to ${this.#name} names an invalid responder '${String(responderId).slice(0, 80)}'`,
        { details: { topic: route.topic, responderId } },
      );
    }
    if (!valid) {
      if (responderId !== undefined) {
        this.#session.logger.warn(
          `ignored an invalid ${A2AUserProperty.ResponderAgentId} '${String(responderId).slice(0, 80)}'`,
        );
      }
      return;
    }
    if (isError || plan.taskId === undefined) return;
    // The agent we asked names itself: nothing new.
    if (route.agent?.agentId === responderId) return;
    const { org, unit } = route.agent ?? this.target;
    this.#session.logger.debug(`task ${plan.taskId} is served by agent '${responderId}' from now on`);
    await this.#session.routes.set(plan.taskId, { org, unit, agentId: responderId });
  }

  /**
   * One logical operation: publish, read correlated replies until `plan.isFinal`, and apply the retry
   * profile (new correlation per attempt, same payload; no retry once a reply arrived; GetTask after a stall).
   * Every attempt goes where the task's responder is known to be; when the agent a task was handed over to
   * stays silent through all attempts, the card's agent gets one more (`fallbackToCardAgent`).
   */
  async *#exchange(
    method: string,
    params: unknown,
    options: RequestOptions | undefined,
    plan: ExchangePlan,
    onStall: 'throw' | 'return',
  ): AsyncGenerator<unknown, void, undefined> {
    const { policy, logger, requestReply } = this.#session;
    const payload = JSON.stringify({ jsonrpc: '2.0', id: uuid(), method, params });
    const properties = this.#requestProperties(options, plan);
    const signal = options?.signal;
    let budget = policy.maxAttempts;
    let refusedToken = false;
    /** An earlier attempt was published and went unanswered: the agent may have run it. */
    let mayHaveRun = false;
    for (let attempt = 1; ; attempt++) {
      const route = await this.#route(plan.taskId);
      const sealed = await this.#seal(
        payload,
        await this.#attemptProperties(properties, attempt, signal),
        route,
      );
      const protectedReplies = this.#session.ubsp !== undefined;
      const dedupKey = replyDedupKeys();
      const replies = requestReply.stream(route.topic, sealed.payload, {
        // Protected replies can only be read asynchronously: the loop below decides where the stream ends.
        // A retained reply never ends a stream: replies are never retained (the loop ignores them).
        isFinal: protectedReplies ? () => false : (reply) => !reply.retain && this.#isFinalReply(reply, plan),
        timeoutMs: policy.replyFirstTimeoutMs,
        idleTimeoutMs: policy.streamIdleTimeoutMs,
        properties: sealed.properties,
        dedupKey: (reply) => (reply.retain ? undefined : dedupKey(reply)),
        ...(signal ? { signal } : {}),
      });
      const assembler = new ArtifactAssembler();
      let received = 0;
      let retryBecause: unknown;
      let backoff = true;
      try {
        for await (const reply of replies) {
          if (reply.retain) {
            // Stale (or planted) state the broker kept on the reply topic and delivered at (re)subscribe.
            logger.warn(
              `ignored a retained reply on '${printable(reply.topic)}': replies are never retained`,
            );
            continue;
          }
          const chunk = readBinaryChunk(reply);
          if (chunk) {
            await this.#learnResponder(reply, route, plan, false);
            received++;
            const artifact = assembler.add(chunk);
            if (artifact) yield new ReassembledItem(artifact);
            continue;
          }
          const parsed = protectedReplies
            ? await this.#open(reply, replies.correlationData)
            : this.#parse(reply);
          await this.#learnResponder(reply, route, plan, parsed.kind === 'error');
          if (parsed.kind === 'error') {
            const error = toA2AError(parsed.error, parsed.id);
            const retryable =
              error instanceof MqttBindingError && error.retryable && policy.retryRetryableErrors;
            if (received === 0 && retryable && attempt < budget) {
              retryBecause = error;
              break;
            }
            if (mayHaveRun && error instanceof MqttBindingError && !error.mayHaveRun) {
              // This attempt was refused, but an earlier one went unanswered: it may have run.
              throw new MqttBindingError(error.kind, parsed.error, { mayHaveRun: true });
            }
            // A refused token (expired, revoked) gets one immediate retry with a fresh one.
            if (
              error instanceof MqttAuthError &&
              error.kind === 'unauthenticated' &&
              this.#tokenScopes !== undefined &&
              !refusedToken &&
              received === 0 &&
              attempt < budget
            ) {
              refusedToken = true;
              retryBecause = error;
              backoff = false;
              break;
            }
            throw error;
          }
          received++;
          const final = plan.isFinal(parsed.result);
          if (final) {
            // Artifacts whose last chunk never came go out before the stream's final item.
            for (const artifact of assembler.flush()) yield new ReassembledItem(artifact);
          }
          yield parsed.result;
          if (final) break;
        }
        if (retryBecause === undefined) return;
      } catch (error) {
        const stalled = received > 0 && MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT');
        if (stalled && plan.recoverTaskId) {
          yield* this.#recover(plan.recoverTaskId, options, error, onStall);
          return;
        }
        if (received > 0 || !isRetryableLocalError(error) || signal?.aborted) throw error;
        // A published attempt that timed out may have reached the agent and run.
        if (MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT')) mayHaveRun = true;
        if (attempt >= budget) {
          if (
            route.learnt &&
            plan.taskId !== undefined &&
            this.#session.fallbackToCardAgent &&
            !isPoolAddress(this.target) &&
            route.agent?.agentId !== this.target.agentId
          ) {
            logger.info(
              `agent '${route.agent?.agentId}' did not answer ${method} for task ${plan.taskId}; falling back to ${this.#name}`,
            );
            await this.#session.routes.delete(plan.taskId);
            budget = attempt + 1;
            continue;
          }
          const timeout = MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT');
          throw new MqttAgentsError(
            timeout ? 'REQUEST_TIMEOUT' : 'PUBLISH_FAILED',
            `${method} to ${this.#name} failed after ${attempt} attempts: ${(error as Error).message}`,
            { cause: error, details: { method, topic: route.topic, attempts: attempt, mayHaveRun } },
          );
        }
        retryBecause = error;
      } finally {
        await replies.return();
      }
      const wait = backoff ? backoffDelay(policy, attempt) : 0;
      logger.debug(
        `retrying ${method} to '${route.topic}' in ${wait} ms (attempt ${attempt + 1} of ${budget})`,
        retryBecause,
      );
      await delay(wait, signal);
    }
  }

  /** After a stall: ask for the task instead of publishing the request again (profile, Streaming rule 8). */
  async *#recover(
    taskId: string,
    options: RequestOptions | undefined,
    stall: unknown,
    onStall: 'throw' | 'return',
  ): AsyncGenerator<unknown, void, undefined> {
    this.#session.logger.info(`stream for task ${taskId} stalled; recovering with GetTask`);
    const task = await this.getTask({ tenant: '', id: taskId }, options);
    yield { task: Task.toJSON(task) };
    const state = task.status?.state;
    if (isStreamFinalState(state) || onStall === 'return') return;
    throw new MqttAgentsError(
      'REQUEST_TIMEOUT',
      `stream for task ${taskId} stalled; GetTask shows it ${state === undefined ? 'without a state' : taskStateToJSON(state)}`,
      { cause: stall, details: { taskId, state: state === undefined ? undefined : taskStateToJSON(state) } },
    );
  }
}

/**
 * The profile's id rules for a request: a new task gets a UUIDv4 `taskId` generated here (and a fresh
 * `contextId`, starting a conversation, when none is given); `messageId` is filled when empty.
 */
export function withRequesterIds(params: SendMessageRequest): SendMessageRequest {
  const message = params.message;
  if (!message) throw new MqttAgentsError('INVALID_PAYLOAD', 'SendMessage needs a message');
  const next = { ...message };
  if (!next.messageId) next.messageId = uuid();
  if (!next.taskId) {
    next.taskId = uuid();
    if (!next.contextId) next.contextId = uuid();
  }
  return { ...params, message: next };
}
