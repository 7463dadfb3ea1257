import { Extensions, StreamResponse, Task } from '@a2a-js/sdk';
import type { TaskArtifactUpdateEvent } from '@a2a-js/sdk';
import { TaskNotFoundError } from '@a2a-js/sdk/errors';
import {
  JsonRpcTransportHandler,
  ServerCallContext,
  UnauthenticatedUser,
  validateVersion,
} from '@a2a-js/sdk/server';
import type { A2ARequestHandler } from '@a2a-js/sdk/server';
import type { AgentCard, Task as TaskObject } from '@a2a-js/sdk';
import type { RequestContext, User } from '@a2a-js/sdk/server';
import {
  A2AUserProperty,
  JsonRpcErrorCode,
  MqttAgentsError,
  assertAgentId,
  classifyJsonRpc,
  correlationKey,
  createPublishProperties,
  getUserProperty,
  decodeJson,
  jsonRpcError,
  jsonRpcErrorResponse,
  matchTopicFilter,
  parseA2aTopic,
  printable,
  validateTopicName,
} from '@mqtt-agents/core';
import type {
  JsonRpcId,
  JsonRpcRequest,
  Logger,
  MqttConnection,
  MqttMessage,
  MqttPublishProperties,
} from '@mqtt-agents/core';
import { A2A_PROTOCOL_VERSION, MQTT_PROTOCOL_BINDING } from './agent-card.js';
import {
  ARTIFACT_FILENAME_PROPERTY,
  ARTIFACT_NAME_PROPERTY,
  DEFAULT_CHUNK_BYTES,
  binaryPartOf,
} from './binary-artifacts.js';
import type { ArtifactMode, BinaryArtifactOptions } from './binary-artifacts.js';
import { bindingErrorObject } from './binding-errors.js';
import type { BindingErrorKind, JsonRpcErrorObject } from './binding-errors.js';
import { RecentMap } from './recent-map.js';
import { estimateBytes } from './bounded-task-store.js';
import {
  BrokerIdentityUser,
  isProfileReplyTopic,
  readBrokerSender,
  requesterKey,
} from './caller-identity.js';
import type { BrokerSender } from './caller-identity.js';
import { DuplicateWindow } from './duplicate-window.js';
import type { WindowRefusal } from './duplicate-window.js';
import type { BearerVerifier } from './oauth.js';
import { payloadFingerprint } from './payload-fingerprint.js';
import {
  JOSE_COMPACT,
  JOSE_JSON,
  UBSP_V1,
  UbspHeader,
  decryptPayload,
  encryptPayload,
  ubspCorrelationHeader,
} from './ubsp.js';
import type { ReplayGuard, ServeUbspOptions, UbspKey } from './ubsp.js';
import type { PeerKeyResolver } from './discovery/peer-keys.js';
import type { RequesterTaskIdStore } from './requester-task-ids.js';
import { isStreamFinalResponse, isStreamFinalState, isTerminalState } from './stream-states.js';

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

const SEND_METHODS = new Set(['SendMessage', 'SendStreamingMessage']);
/** The methods whose replies are streams, where binary artifact chunks can travel. */
const STREAM_METHODS = new Set(['SendStreamingMessage', 'SubscribeToTask']);
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Key of the `ServerCallContext.state` entry that describes the MQTT request being served. */
export const MQTT_REQUEST_STATE_KEY = 'mqtt';

/** Key of the `ServerCallContext.state` entry through which `handOverTask` reaches the responder. */
const HANDOVER_STATE_KEY = 'mqtt-handover';

interface HandoverControl {
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

/** Retries of one request in flight that may wait for its answer at once; more are refused. */
const MAX_ATTACHED_RETRIES = 8;

export interface ResponderOptions {
  connection: MqttConnection;
  /** This agent's id: the `a2a-responder-agent-id` of replies to pooled requests. */
  agentId: string;
  requestHandler: A2ARequestHandler;
  taskIds: RequesterTaskIdStore;
  card: () => AgentCard;
  tenant: string;
  logger: Logger;
  limits?: ResponderLimits;
  /** Validates bearer tokens before any executor runs. */
  auth?: BearerVerifier;
  /** Binary artifact mode: supported unless false. */
  binaryArtifacts?: BinaryArtifactOptions | false;
  /** The untrusted-broker profile: decrypts protected requests and encrypts their replies. */
  ubsp?: { options: ServeUbspOptions; keys: PeerKeyResolver; replay: ReplayGuard };
  /**
   * Trust the `mqtt-agents-sender-*` user properties as the broker's verified identity of the publisher:
   * only on a broker that strips and stamps them (the embedded broker with `agentTopicAcl`). Default false.
   */
  trustBrokerIdentity?: boolean;
  /** Response Topics outside the profile's reply topics that are answered too, as MQTT topic filters. */
  allowedReplyTopics?: readonly string[];
  /** Asked before a new task starts; false refuses it with `responder_unavailable` (the task store is full). */
  taskAdmission?: { admitsNewTask(): boolean };
}

interface ReplyPath {
  readonly topic: string;
  /** Echoed unchanged; `undefined` only for the error reply to a request that had none. */
  readonly correlationData: Uint8Array | undefined;
  /** The request came through a pool: every reply names this agent in `a2a-responder-agent-id`. */
  readonly pooled: boolean;
  /** The task the request is about, once known: replies carry its handover, if any. */
  taskId?: string;
  /** The artifact mode chosen for a request that asked for one (`a2a-artifact-mode` on every reply). */
  artifactMode?: ArtifactMode;
  /** Next `a2a-chunk-seqno` per artifact of this stream. */
  seqnos?: Map<string, number>;
  /** A `ubsp-v1` request: replies are encrypted to the requester's key. */
  ubsp?: { requesterId: string; key: UbspKey; kid: string | undefined; serialization: 'compact' | 'json' };
}

type SendOutcome =
  | { kind: 'error'; error: JsonRpcErrorObject }
  | { kind: 'message'; result: unknown }
  | { kind: 'task'; taskId: string };

/** What the agent remembers of a SendMessage/SendStreamingMessage, keyed by (taskId, messageId). */
interface SendRecord {
  /** Who sent it first (see `requesterKey`): a repeat from anyone else is refused. */
  readonly requester: string;
  outcome: SendOutcome | undefined;
  /** The request reached the executor (or the task store already knew the message). */
  started: boolean;
  /** Answered, and settled in (or removed from) the window. */
  finished: boolean;
  /** Retries waiting for this record's answer right now. */
  attached: number;
  /** Settles when the first answer (or stream item) exists. */
  readonly firstAnswer: Promise<void>;
  /** Settles when the original request is fully answered. */
  readonly done: Promise<void>;
  resolveFirstAnswer(): void;
  resolveDone(): void;
}

function createSendRecord(requester: string): SendRecord {
  let resolveFirstAnswer!: () => void;
  let resolveDone!: () => void;
  const firstAnswer = new Promise<void>((resolve) => (resolveFirstAnswer = resolve));
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  return {
    requester,
    outcome: undefined,
    started: false,
    finished: false,
    attached: 0,
    firstAnswer,
    done,
    resolveFirstAnswer,
    resolveDone: () => {
      resolveFirstAnswer();
      resolveDone();
    },
  };
}

type DecodedJson = ReturnType<typeof decodeJson>;

/** A send matched against the duplicate window before admission. */
interface PreparedSend {
  readonly key: string;
  readonly record: SendRecord;
  /** True for a retry of a request the agent already holds; false for the first attempt. */
  readonly retry: boolean;
}

/** What `handle()` learnt about a request before admission, for the stages after it. */
interface RequestMeta {
  /** The identity the duplicate window charges (see `requesterKey`). */
  readonly requester: string;
  /** The broker-stamped sender, when trusted. */
  readonly sender: BrokerSender | undefined;
  /** The plaintext payload, decoded once. */
  readonly decoded: DecodedJson | undefined;
  prepared?: PreparedSend;
}

class ProtocolFailure {
  readonly error: JsonRpcErrorObject;
  constructor(error: JsonRpcErrorObject) {
    this.error = error;
  }
}

/** A stream item carrying a task's current status as a TaskStatusUpdateEvent. */
function statusItem(id: JsonRpcId, task: TaskObject): unknown {
  const update = { taskId: task.id, contextId: task.contextId, status: task.status, metadata: undefined };
  return {
    jsonrpc: '2.0',
    id,
    result: StreamResponse.toJSON({ payload: { $case: 'statusUpdate', value: update } }),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAsyncIterable(value: unknown): value is AsyncGenerator<unknown, void, undefined> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** The task a request is about, when it names one. */
export function referencedTaskId(method: string, params: Record<string, unknown>): string | undefined {
  let value: unknown;
  if (SEND_METHODS.has(method)) {
    const message = params.message;
    value = isPlainObject(message) ? message.taskId : undefined;
  } else if (method === 'GetTask' || method === 'CancelTask' || method === 'SubscribeToTask') {
    value = params.id;
  } else {
    value = params.taskId;
  }
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function normaliseVersion(version: string): string {
  const match = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(version.trim());
  return match ? `${match[1]}.${match[2]}` : version.trim();
}

/**
 * The responder half of the binding: reads requests from the agent's request topic, checks them against
 * the profile, hands them to the SDK's JSON-RPC handler and publishes the answers on the Response Topic
 * with the request's Correlation Data. Nothing a peer sends can throw out of here.
 */
export class Responder {
  private readonly connection: MqttConnection;
  private readonly transport: JsonRpcTransportHandler;
  private readonly taskIds: RequesterTaskIdStore;
  private readonly card: () => AgentCard;
  private readonly tenant: string;
  private readonly logger: Logger;
  private readonly auth: BearerVerifier | undefined;
  private readonly binary: BinaryArtifactOptions | undefined;
  private readonly ubsp: ResponderOptions['ubsp'];
  private readonly maxConcurrent: number;
  private readonly maxQueued: number;
  private readonly maxRequestBytes: number;
  private readonly agentId: string;
  private readonly trustBrokerIdentity: boolean;
  private readonly allowedReplyTopics: readonly string[];
  private readonly taskAdmission: ResponderOptions['taskAdmission'];
  private readonly sends: DuplicateWindow<SendRecord>;
  /** Warned once that `trustBrokerIdentity` is set but requests arrive without the broker's stamp. */
  private warnedUnstamped = false;
  private readonly deliveries: RecentMap<string, string>;
  /** taskId -> the agent instance the task was handed over to. */
  private readonly handovers: RecentMap<string, string>;
  private readonly waiting: Array<(admitted: boolean) => void> = [];
  private readonly inFlight = new Set<Promise<void>>();
  private active = 0;
  private closing = false;

  constructor(options: ResponderOptions) {
    this.connection = options.connection;
    this.agentId = options.agentId;
    this.transport = new JsonRpcTransportHandler(options.requestHandler);
    this.taskIds = options.taskIds;
    this.card = options.card;
    this.tenant = options.tenant;
    this.logger = options.logger;
    this.auth = options.auth;
    this.binary = options.binaryArtifacts === false ? undefined : (options.binaryArtifacts ?? {});
    this.ubsp = options.ubsp;
    const limits = options.limits ?? {};
    this.maxConcurrent = limits.maxConcurrentRequests ?? 100;
    this.maxQueued = limits.maxQueuedRequests ?? 1000;
    this.maxRequestBytes = limits.maxRequestBytes ?? 1024 * 1024;
    this.trustBrokerIdentity = options.trustBrokerIdentity ?? false;
    this.allowedReplyTopics = options.allowedReplyTopics ?? [];
    this.taskAdmission = options.taskAdmission;
    const windowMs = limits.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW.duplicateWindowMs;
    this.sends = new DuplicateWindow({
      windowMs,
      maxEntriesPerRequester:
        limits.maxWindowEntriesPerRequester ?? DEFAULT_DUPLICATE_WINDOW.maxWindowEntriesPerRequester,
      maxBytesPerRequester:
        limits.maxWindowBytesPerRequester ?? DEFAULT_DUPLICATE_WINDOW.maxWindowBytesPerRequester,
      maxEntries: limits.maxWindowEntries ?? DEFAULT_DUPLICATE_WINDOW.maxWindowEntries,
      maxBytes: limits.maxWindowBytes ?? DEFAULT_DUPLICATE_WINDOW.maxWindowBytes,
    });
    // Best effort (QoS 1 redelivery of one publish): a flood may push entries out, and then the duplicate
    // window above still keeps the task from running twice.
    this.deliveries = new RecentMap({ ttlMs: windowMs, maxEntries: 10_000 });
    this.handovers = new RecentMap({ ttlMs: 24 * 60 * 60_000, maxEntries: 10_000 });
  }

  /** From now on, replies about `taskId` name `agentId` as the responder (task handover). */
  handOver(taskId: string, agentId: string): void {
    const target = assertAgentId(agentId);
    if (target === this.agentId) this.handovers.delete(taskId);
    else this.handovers.set(taskId, target);
    this.logger.info(`task ${taskId} handed over to agent '${target}'`);
  }

  /** The message handler for the request topic. Never throws. */
  readonly onMessage = (message: MqttMessage): void => {
    const work = this.handle(message, Date.now()).catch((error: unknown) => {
      this.logger.error(`request on '${message.topic}' failed unexpectedly`, error);
    });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  };

  /** Stop taking requests (new ones get `responder_unavailable`) and wait up to `graceMs` for those in flight. */
  async drain(graceMs: number): Promise<void> {
    this.closing = true;
    for (const wake of this.waiting.splice(0)) wake(false);
    if (this.inFlight.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }

  private async handle(message: MqttMessage, receivedAt: number): Promise<void> {
    const properties = message.properties;
    const topic = printable(message.topic);
    if (message.retain) {
      // Requests are never retained: a retained one would be redelivered, and run, at every resubscribe.
      this.logger.warn(
        `ignored a retained request on '${topic}': requests are never retained, it would run again at every resubscribe`,
      );
      return;
    }
    const pooled = parseA2aTopic(message.topic)?.kind === 'pool-request';
    const responseTopic = properties.responseTopic;
    if (responseTopic === undefined || responseTopic === '') {
      this.logger.warn(`dropped a request on '${topic}': it has no Response Topic, so no reply is possible`);
      return;
    }
    const topicCheck = validateTopicName(responseTopic);
    if (!topicCheck.ok) {
      this.logger.warn(`dropped a request on '${topic}': invalid Response Topic: ${topicCheck.reason}`);
      return;
    }
    if (!this.answersOn(responseTopic)) {
      this.logger.warn(
        `dropped a request on '${topic}': its Response Topic '${printable(responseTopic)}' is not a reply topic of the profile ($a2a/v1/reply/{org}/{unit}/{agent}/{suffix}) nor one of allowedReplyTopics`,
      );
      return;
    }
    const correlationData = properties.correlationData;
    if (correlationData === undefined || correlationData.length === 0) {
      await this.replyError(
        { topic: responseTopic, correlationData: undefined, pooled },
        null,
        'transport_protocol_error',
        'request has no Correlation Data',
      );
      return;
    }
    const path: ReplyPath = { topic: responseTopic, correlationData, pooled };

    // A QoS 1 redelivery carries the same correlation and payload: the first copy is already being answered.
    const deliveryKey = `${responseTopic}\n${correlationKey(correlationData)}`;
    const print = payloadFingerprint(message.payload);
    if (this.deliveries.get(deliveryKey) === print) {
      this.logger.debug(`ignored a duplicate delivery on '${topic}' (same correlation and payload)`);
      return;
    }
    this.deliveries.set(deliveryKey, print);

    if (message.payload.length > this.maxRequestBytes) {
      await this.reply(
        path,
        jsonRpcErrorResponse(
          null,
          jsonRpcError(
            JsonRpcErrorCode.InvalidRequest,
            `request of ${message.payload.length} bytes exceeds the limit of ${this.maxRequestBytes} bytes`,
          ),
        ),
      );
      return;
    }

    const sender = this.senderOf(properties);
    const requester = requesterKey(sender, responseTopic);
    const peeked = this.peek(message);
    const meta: RequestMeta = { requester, sender, decoded: peeked.decoded };

    // A retry of a request this agent holds (same taskId and messageId) is matched before admission: it
    // waits for the first attempt's answer instead of queueing (or being refused) as new work.
    let prepared: PreparedSend | undefined;
    if (peeked.key !== undefined) {
      const known = this.sends.get(peeked.key);
      if (known) {
        await this.attach(known.value, peeked.key, message, path, meta);
        return;
      }
      if (!this.closing) {
        const record = createSendRecord(requester);
        const added = this.sends.add(peeked.key, requester, record);
        if (!added.ok) {
          await this.reply(path, jsonRpcErrorResponse(null, this.windowRefusal(requester, added.refusal)));
          return;
        }
        prepared = { key: peeked.key, record, retry: false };
        meta.prepared = prepared;
      }
    }
    /** Refuse a request that never ran; a retry waiting for it gets the same answer. */
    const refuse = async (kind: BindingErrorKind, text: string): Promise<void> => {
      const error = bindingErrorObject(kind, text);
      if (prepared) prepared.record.outcome ??= { kind: 'error', error };
      await this.reply(path, jsonRpcErrorResponse(null, error));
    };

    let release: () => void = () => {};
    try {
      if (this.closing) {
        await refuse('responder_unavailable', 'agent is shutting down');
        return;
      }
      if (this.active < this.maxConcurrent) {
        this.active++;
      } else {
        if (this.waiting.length >= this.maxQueued) {
          await refuse('responder_unavailable', 'agent is overloaded, try again later');
          return;
        }
        // Resolves true when a finishing request hands its slot over, false when the agent shuts down.
        const admitted = await new Promise<boolean>((resolve) => this.waiting.push(resolve));
        if (!admitted) {
          await refuse('responder_unavailable', 'agent is shutting down');
          return;
        }
      }
      let released = false;
      release = (): void => {
        if (released) return;
        released = true;
        const next = this.waiting.shift();
        if (next) next(true);
        else this.active--;
      };
      const expiry = properties.messageExpiryInterval;
      if (expiry !== undefined && Date.now() >= receivedAt + expiry * 1000) {
        this.logger.info(`dropped a stale request on '${topic}': it expired while waiting`);
        await refuse('request_expired', 'request expired before processing');
        return;
      }
      await this.process(message, path, release, meta);
    } finally {
      release();
      if (prepared) this.finishRecord(prepared.key, prepared.record);
    }
  }

  /** Profile reply topics, and those `allowedReplyTopics` opens. */
  private answersOn(responseTopic: string): boolean {
    if (isProfileReplyTopic(responseTopic)) return true;
    return this.allowedReplyTopics.some((filter) => matchTopicFilter(filter, responseTopic));
  }

  /** The broker-stamped sender, when this agent trusts the broker's stamps. */
  private senderOf(properties: MqttPublishProperties): BrokerSender | undefined {
    if (!this.trustBrokerIdentity) return undefined;
    const sender = readBrokerSender(properties);
    if (!sender && !this.warnedUnstamped) {
      this.warnedUnstamped = true;
      this.logger.warn(
        'trustBrokerIdentity is set, but a request carries no broker identity stamp: is the broker stamping senders (agentTopicAcl)? Such requests count as unauthenticated',
      );
    }
    return sender;
  }

  /**
   * A plaintext request's JSON, decoded once before admission, and its duplicate key when it is a
   * SendMessage/SendStreamingMessage with a valid (taskId, messageId). Protected (ubsp-v1) requests are
   * only readable after decryption, inside admission: they are matched there.
   */
  private peek(message: MqttMessage): { decoded: DecodedJson | undefined; key: string | undefined } {
    const properties = message.properties;
    if (
      getUserProperty(properties, A2AUserProperty.SecurityProfile) !== undefined ||
      properties.contentType === JOSE_COMPACT ||
      properties.contentType === JOSE_JSON
    ) {
      return { decoded: undefined, key: undefined };
    }
    const decoded = decodeJson(message.payload, { maxBytes: this.maxRequestBytes });
    if (!decoded.ok) return { decoded, key: undefined };
    const classified = classifyJsonRpc(decoded.value);
    if (classified.kind !== 'request' || !SEND_METHODS.has(classified.message.method)) {
      return { decoded, key: undefined };
    }
    const params = classified.message.params;
    const a2aMessage = isPlainObject(params) ? params.message : undefined;
    if (!isPlainObject(a2aMessage)) return { decoded, key: undefined };
    const { taskId, messageId } = a2aMessage;
    if (
      typeof messageId !== 'string' ||
      messageId === '' ||
      typeof taskId !== 'string' ||
      !UUID_V4.test(taskId)
    ) {
      return { decoded, key: undefined };
    }
    return { decoded, key: `${taskId}\n${messageId}` };
  }

  /** Serve a retry of a request in flight or answered: outside the queue, from the first attempt's state. */
  private async attach(
    record: SendRecord,
    key: string,
    message: MqttMessage,
    path: ReplyPath,
    meta: RequestMeta,
  ): Promise<void> {
    if (record.attached >= MAX_ATTACHED_RETRIES) {
      await this.reply(
        path,
        jsonRpcErrorResponse(
          null,
          bindingErrorObject(
            'responder_unavailable',
            'too many retries of this request are waiting for its answer, try again later',
            { mayHaveRun: true },
          ),
        ),
      );
      return;
    }
    record.attached++;
    this.logger.debug(
      `attached a retry on '${printable(message.topic)}' to the request it repeats (${record.finished ? 'answered' : 'in flight'}): it gets that request's answer`,
    );
    try {
      await this.process(message, path, () => {}, { ...meta, prepared: { key, record, retry: true } });
    } finally {
      record.attached--;
    }
  }

  /** The retryable refusal of a requester whose duplicate window (or the whole window) is full. */
  private windowRefusal(requester: string, refusal: WindowRefusal): JsonRpcErrorObject {
    const whose = refusal.startsWith('requester')
      ? `requester '${printable(requester, 120)}'`
      : 'all requesters';
    this.logger.debug(`refused a request: the duplicate window of ${whose} is full (${refusal})`);
    return bindingErrorObject(
      'responder_unavailable',
      `too many recent requests from ${refusal.startsWith('requester') ? 'this requester' : 'all requesters'}, try again later`,
    );
  }

  /**
   * A send is answered: a request that ran stays in the window for `duplicateWindowMs` with its answer;
   * one that never ran is forgotten at once (a retry may run it), and retries waiting for it get its error.
   */
  private finishRecord(key: string, record: SendRecord): void {
    if (record.finished) return;
    record.finished = true;
    if (record.started) {
      record.outcome ??= { kind: 'task', taskId: key.slice(0, key.indexOf('\n')) };
      const kept = record.outcome.kind === 'task' ? 0 : estimateBytes(record.outcome);
      this.sends.settle(key, kept);
    } else {
      record.outcome ??= {
        kind: 'error',
        error: bindingErrorObject('responder_unavailable', 'the request was not run, send it again'),
      };
      this.sends.delete(key);
    }
    record.resolveDone();
  }

  /**
   * The untrusted-broker profile on a request: checks its metadata (`a2a-security-profile`,
   * `a2a-requester-agent-id`, `a2a-recipient-agent-id` naming this agent), decrypts it, checks the protected
   * header against the metadata and for replays, and resolves the requester's key for the replies. Returns
   * the request with its plaintext payload, or undefined once it has been answered with an error.
   */
  private async unwrap(message: MqttMessage, path: ReplyPath): Promise<MqttMessage | undefined> {
    const properties = message.properties;
    const profile = getUserProperty(properties, A2AUserProperty.SecurityProfile);
    const encrypted = properties.contentType === JOSE_COMPACT || properties.contentType === JOSE_JSON;
    const refuse = async (reason: string): Promise<undefined> => {
      this.logger.info(`refused a request on '${message.topic}': ${reason}`);
      await this.replyError(path, null, 'transport_protocol_error', reason);
      return undefined;
    };
    if (profile === undefined && !encrypted) {
      if (this.ubsp?.options.required) return refuse('this agent accepts only ubsp-v1 protected requests');
      return message;
    }
    if (profile === undefined)
      return refuse(`an encrypted payload needs ${A2AUserProperty.SecurityProfile} ubsp-v1`);
    if (profile !== UBSP_V1)
      return refuse(`unsupported ${A2AUserProperty.SecurityProfile} '${profile.slice(0, 40)}'`);
    const ubsp = this.ubsp;
    if (!ubsp) return refuse('this agent does not support ubsp-v1');
    const requesterId = getUserProperty(properties, A2AUserProperty.RequesterAgentId);
    const recipientId = getUserProperty(properties, A2AUserProperty.RecipientAgentId);
    if (requesterId === undefined || recipientId === undefined) {
      return refuse(
        `ubsp-v1 requests need ${A2AUserProperty.RequesterAgentId} and ${A2AUserProperty.RecipientAgentId}`,
      );
    }
    if (recipientId !== this.agentId) {
      return refuse(`${A2AUserProperty.RecipientAgentId} '${recipientId.slice(0, 80)}' is not this agent`);
    }
    if (!encrypted)
      return refuse('a ubsp-v1 request must be a JWE (application/jose or application/jose+json)');
    let decrypted;
    try {
      decrypted = await decryptPayload(message.payload, properties.contentType, ubsp.options.privateKey);
    } catch {
      return refuse('cannot decrypt the ubsp-v1 payload');
    }
    const header = decrypted.header;
    if (
      header[UbspHeader.Requester] !== requesterId ||
      header[UbspHeader.Recipient] !== this.agentId ||
      header[UbspHeader.ResponseTopic] !== path.topic
    ) {
      return refuse('the protected header does not match the request metadata');
    }
    const replay = ubsp.replay.check(header);
    if (replay !== undefined) {
      this.logger.warn(`security: rejected a ubsp-v1 request on '${message.topic}': ${replay}`);
      return refuse(replay);
    }
    const replyTopic = parseA2aTopic(path.topic);
    const [org, unit] = this.tenant.split('/') as [string, string];
    const requester =
      replyTopic?.kind === 'reply' && replyTopic.agentId === requesterId
        ? { org: replyTopic.orgId, unit: replyTopic.unitId, agentId: requesterId }
        : { org, unit, agentId: requesterId };
    try {
      const resolved = await ubsp.keys.resolve(requester, undefined);
      path.ubsp = {
        requesterId,
        key: resolved.key,
        kid: resolved.kid,
        serialization: decrypted.serialization,
      };
    } catch (error) {
      return refuse(`cannot resolve the requester's ubsp-v1 key: ${(error as Error).message}`);
    }
    return { ...message, payload: decrypted.plaintext };
  }

  private async process(
    original: MqttMessage,
    path: ReplyPath,
    release: () => void,
    meta: RequestMeta,
  ): Promise<void> {
    const message = await this.unwrap(original, path);
    if (!message) return;
    // Decoded before admission when it was plaintext; decrypted payloads are decoded here.
    const decoded =
      message === original && meta.decoded !== undefined
        ? meta.decoded
        : decodeJson(message.payload, { maxBytes: this.maxRequestBytes });
    if (!decoded.ok) {
      const code =
        decoded.error.code === 'TOO_LARGE' ? JsonRpcErrorCode.InvalidRequest : JsonRpcErrorCode.ParseError;
      await this.reply(path, jsonRpcErrorResponse(null, jsonRpcError(code, decoded.error.message)));
      return;
    }
    const classified = classifyJsonRpc(decoded.value);
    if (classified.kind !== 'request') {
      const reason =
        classified.kind === 'invalid'
          ? classified.reason
          : classified.kind === 'batch'
            ? 'batches are not supported'
            : classified.kind === 'notification'
              ? 'a2a requests need an id'
              : 'expected a request';
      const id = classified.kind === 'invalid' ? classified.id : null;
      await this.reply(path, jsonRpcErrorResponse(id, jsonRpcError(JsonRpcErrorCode.InvalidRequest, reason)));
      return;
    }
    const request = classified.message;
    try {
      await this.dispatch(message, request, path, release, meta);
    } catch (error) {
      const wire =
        error instanceof ProtocolFailure ? error.error : JsonRpcTransportHandler.mapToJSONRPCError(error);
      // The first attempt of a send failed before it ran: retries waiting for it get the same answer.
      if (meta.prepared && !meta.prepared.retry)
        meta.prepared.record.outcome ??= { kind: 'error', error: wire };
      await this.reply(path, jsonRpcErrorResponse(request.id, wire));
    }
  }

  private async dispatch(
    message: MqttMessage,
    request: JsonRpcRequest,
    path: ReplyPath,
    release: () => void,
    meta: RequestMeta,
  ): Promise<void> {
    const { method } = request;
    if (!A2A_METHODS.includes(method)) {
      throw new ProtocolFailure(jsonRpcError(JsonRpcErrorCode.MethodNotFound, `method not found: ${method}`));
    }
    const params = request.params ?? {};
    if (!isPlainObject(params)) {
      throw new ProtocolFailure(jsonRpcError(JsonRpcErrorCode.InvalidParams, 'params must be an object'));
    }
    const tenant = params.tenant;
    if (tenant !== undefined && tenant !== '' && tenant !== this.tenant) {
      throw new ProtocolFailure(
        jsonRpcError(
          JsonRpcErrorCode.InvalidParams,
          `tenant '${String(tenant)}' is not served here (expected '${this.tenant}')`,
        ),
      );
    }
    path.taskId = referencedTaskId(method, params);
    const requestedMode = getUserProperty(message.properties, A2AUserProperty.ArtifactMode);
    if (requestedMode !== undefined) {
      // Binary only where it is asked for, supported, and the replies are a stream; JSON otherwise.
      path.artifactMode =
        requestedMode === 'binary' && this.binary !== undefined && STREAM_METHODS.has(method)
          ? 'binary'
          : 'json';
    }
    let user: User | undefined;
    if (this.auth && !this.auth.isPublic(method)) {
      const header = getUserProperty(message.properties, A2AUserProperty.Authorization);
      const check = await this.auth.check(header, method, this.card());
      if (!check.ok) {
        this.logger.info(`refused ${method} on '${message.topic}': ${check.error.message}`);
        throw new ProtocolFailure(check.error);
      }
      user = check.user;
    }
    const userProperties = message.properties.userProperties ?? {};
    const requestedVersion = normaliseVersion(
      getUserProperty(message.properties, A2AUserProperty.Version) ?? A2A_PROTOCOL_VERSION,
    );
    validateVersion(requestedVersion, this.card(), MQTT_PROTOCOL_BINDING);

    // The tenant goes into the call context up front (the task store scopes by it); the SDK's JSON-RPC
    // handler would try to set it a second time from params, so params carry none.
    const { tenant: _tenant, ...paramsWithoutTenant } = params;
    const rpc = { ...request, params: paramsWithoutTenant } as JsonRpcRequest & {
      params: Record<string, unknown>;
    };
    const extensions = getUserProperty(message.properties, A2AUserProperty.Extensions);
    // The verified caller: a validated token, else the broker's stamp (when trusted), else nobody.
    const caller: User =
      user ?? (meta.sender ? new BrokerIdentityUser(meta.sender) : new UnauthenticatedUser());
    const context = new ServerCallContext({
      tenant: this.tenant,
      user: caller,
      requestedVersion,
      ...(extensions === undefined
        ? {}
        : { requestedExtensions: Extensions.parseServiceParameter(extensions) }),
      state: new Map<string, unknown>([
        [
          MQTT_REQUEST_STATE_KEY,
          {
            topic: message.topic,
            pooled: path.pooled,
            responseTopic: path.topic,
            correlationData: path.correlationData ?? new Uint8Array(0),
            userProperties,
            user: caller,
            ...(meta.sender ? { sender: meta.sender } : {}),
          } satisfies MqttRequestInfo as unknown,
        ],
        [
          HANDOVER_STATE_KEY,
          { handOver: (taskId, agentId) => this.handOver(taskId, agentId) } satisfies HandoverControl,
        ],
      ]),
    });

    if (SEND_METHODS.has(method)) {
      await this.dispatchSend(rpc, context, message, path, release, meta);
      return;
    }
    await this.forward(rpc, context, path, release, undefined);
  }

  /** SendMessage / SendStreamingMessage: the profile's task id rules and (taskId, messageId) dedup. */
  private async dispatchSend(
    rpc: JsonRpcRequest & { params: Record<string, unknown> },
    context: ServerCallContext,
    message: MqttMessage,
    path: ReplyPath,
    release: () => void,
    meta: RequestMeta,
  ): Promise<void> {
    const a2aMessage = rpc.params.message;
    if (!isPlainObject(a2aMessage)) {
      throw new ProtocolFailure(
        jsonRpcError(JsonRpcErrorCode.InvalidParams, 'params.message must be an object'),
      );
    }
    const { messageId, taskId, contextId } = a2aMessage;
    if (typeof messageId !== 'string' || messageId === '') {
      throw new ProtocolFailure(
        jsonRpcError(JsonRpcErrorCode.InvalidParams, 'message.messageId is required'),
      );
    }
    if (typeof taskId !== 'string' || !UUID_V4.test(taskId)) {
      const shown = typeof taskId === 'string' ? `'${taskId.slice(0, 80)}'` : 'missing';
      throw new ProtocolFailure(
        jsonRpcError(
          JsonRpcErrorCode.InvalidParams,
          `message.taskId ${shown} is not a UUIDv4: over MQTT the requester generates the task id`,
        ),
      );
    }
    if (contextId !== undefined && typeof contextId !== 'string') {
      throw new ProtocolFailure(
        jsonRpcError(JsonRpcErrorCode.InvalidParams, 'message.contextId must be a string'),
      );
    }
    const headerContext = getUserProperty(message.properties, A2AUserProperty.ContextId);
    if (headerContext !== undefined && contextId && headerContext !== contextId) {
      throw new ProtocolFailure(
        bindingErrorObject(
          'transport_protocol_error',
          `user property a2a-context-id '${headerContext}' does not match message.contextId '${contextId}'`,
        ),
      );
    }

    const streaming = rpc.method === 'SendStreamingMessage';
    const key = `${taskId}\n${messageId}`;
    const prepared = meta.prepared?.key === key ? meta.prepared : undefined;
    const repeat = async (known: SendRecord): Promise<void> => {
      if (known.requester !== meta.requester) {
        this.logger.info(
          `refused a repeat of message ${printable(messageId, 80)} of task ${taskId} from another requester`,
        );
        throw new ProtocolFailure(
          jsonRpcError(
            JsonRpcErrorCode.InvalidParams,
            `message ${printable(messageId, 80)} of task ${taskId} was sent by another requester`,
          ),
        );
      }
      this.logger.debug(
        `request for task ${taskId} repeats message ${messageId}: answering from existing state`,
      );
      await this.answerDuplicate(known, rpc, context, path, release, streaming, taskId);
    };
    if (prepared?.retry) {
      await repeat(prepared.record);
      return;
    }
    let record = prepared?.record;
    if (!record) {
      // Not matched before admission (a protected request): matched here.
      const known = this.sends.get(key);
      if (known) {
        await repeat(known.value);
        return;
      }
      record = createSendRecord(meta.requester);
      const added = this.sends.add(key, meta.requester, record);
      if (!added.ok) throw new ProtocolFailure(this.windowRefusal(meta.requester, added.refusal));
    }
    try {
      const stored = await this.taskIds.load(taskId, context);
      if (stored?.history.some((entry) => entry.messageId === messageId)) {
        record.started = true;
        record.outcome = { kind: 'task', taskId };
        this.finishRecord(key, record);
        await this.answerDuplicate(record, rpc, context, path, release, streaming, taskId);
        return;
      }
      if (!stored) {
        if (this.taskAdmission && !this.taskAdmission.admitsNewTask()) {
          throw new ProtocolFailure(
            bindingErrorObject(
              'responder_unavailable',
              'agent holds too many unfinished tasks, try again later',
            ),
          );
        }
        const newContextId =
          typeof contextId === 'string' && contextId !== '' ? contextId : globalThis.crypto.randomUUID();
        this.taskIds.reserve(context, taskId, newContextId);
      }
      record.started = true;
      await this.forward(rpc, context, path, release, record);
    } catch (error) {
      record.outcome ??= {
        kind: 'error',
        error:
          error instanceof ProtocolFailure ? error.error : JsonRpcTransportHandler.mapToJSONRPCError(error),
      };
      throw error;
    } finally {
      this.finishRecord(key, record);
    }
  }

  /** Answer a repeated (taskId, messageId) from the state the first request produced. */
  private async answerDuplicate(
    record: SendRecord,
    rpc: JsonRpcRequest & { params: Record<string, unknown> },
    context: ServerCallContext,
    path: ReplyPath,
    release: () => void,
    streaming: boolean,
    taskId: string,
  ): Promise<void> {
    await (streaming ? record.firstAnswer : record.done);
    const outcome = record.outcome ?? { kind: 'task', taskId };
    if (outcome.kind === 'error') {
      await this.reply(path, jsonRpcErrorResponse(rpc.id, outcome.error));
      return;
    }
    if (outcome.kind === 'message') {
      await this.reply(path, { jsonrpc: '2.0', id: rpc.id, result: outcome.result });
      return;
    }
    const task = await this.taskIds.load(outcome.taskId, context);
    if (!task) throw new TaskNotFoundError(`Task not found: ${outcome.taskId}`);
    if (!streaming || isTerminalState(task.status?.state)) {
      await this.reply(path, { jsonrpc: '2.0', id: rpc.id, result: { task: Task.toJSON(task) } });
      return;
    }
    if (isStreamFinalState(task.status?.state)) {
      // Interrupted: the snapshot, then its status as the update that ends this correlation's stream.
      await this.reply(path, { jsonrpc: '2.0', id: rpc.id, result: { task: Task.toJSON(task) } });
      await this.reply(path, statusItem(rpc.id, task));
      return;
    }
    // The task is still running: follow it like SubscribeToTask would.
    const subscribe = {
      jsonrpc: '2.0' as const,
      id: rpc.id,
      method: 'SubscribeToTask',
      params: { id: outcome.taskId },
    };
    await this.forward(subscribe, context, path, release, undefined);
  }

  /** Hand a request to the SDK and publish what comes back: one reply, or a stream ending on a final state. */
  private async forward(
    rpc: JsonRpcRequest & { params: Record<string, unknown> },
    context: ServerCallContext,
    path: ReplyPath,
    release: () => void,
    record: SendRecord | undefined,
  ): Promise<void> {
    const answer = await this.transport.handle(rpc, context);
    if (!isAsyncIterable(answer)) {
      if (record) {
        const result = (answer as { result?: unknown }).result;
        if (answer.error !== undefined)
          record.outcome = { kind: 'error', error: answer.error as JsonRpcErrorObject };
        else if (isPlainObject(result) && 'message' in result) record.outcome = { kind: 'message', result };
        record.resolveDone();
      }
      await this.reply(path, answer);
      return;
    }
    await this.forwardStream(answer, rpc, path, release, record);
  }

  private async forwardStream(
    stream: AsyncGenerator<unknown, void, undefined>,
    rpc: JsonRpcRequest,
    path: ReplyPath,
    release: () => void,
    record: SendRecord | undefined,
  ): Promise<void> {
    // Only SendStreamingMessage keeps consuming after the final item: its consumer is what persists later
    // events (the SDK does not stop at AUTH_REQUIRED), while SubscribeToTask is a mere observer.
    const persistAfterFinal = rpc.method === 'SendStreamingMessage';
    let final = false;
    let items = 0;
    try {
      for (;;) {
        const next = await stream.next();
        if (next.done) break;
        if (final) continue;
        const item = next.value as { result?: unknown };
        items++;
        const response = StreamResponse.fromJSON(item.result ?? {});
        if (record && items === 1) {
          if (response.payload?.$case === 'message')
            record.outcome = { kind: 'message', result: item.result };
          record.resolveFirstAnswer();
        }
        final = isStreamFinalResponse(response);
        const sentAsChunks =
          path.artifactMode === 'binary' &&
          response.payload?.$case === 'artifactUpdate' &&
          (await this.replyBinary(path, response.payload.value));
        if (!sentAsChunks) await this.reply(path, item);
        const snapshot = response.payload?.$case === 'task' ? response.payload.value : undefined;
        if (
          rpc.method === 'SubscribeToTask' &&
          items === 1 &&
          snapshot &&
          isStreamFinalState(snapshot.status?.state)
        ) {
          // An interrupted task does nothing until new input arrives: over HTTP the SDK would hold the
          // connection open; over MQTT its status ends this correlation's stream, as the profile wants.
          await this.reply(path, statusItem(rpc.id as JsonRpcId, snapshot));
          final = true;
        }
        if (final) {
          record?.resolveDone();
          release();
          if (!persistAfterFinal) {
            await stream.return(undefined);
            break;
          }
        }
      }
    } catch (error) {
      if (record && items === 0) {
        record.outcome = { kind: 'error', error: JsonRpcTransportHandler.mapToJSONRPCError(error) };
      }
      if (!final) {
        await this.reply(
          path,
          jsonRpcErrorResponse(rpc.id as JsonRpcId, JsonRpcTransportHandler.mapToJSONRPCError(error)),
        );
      } else {
        this.logger.warn(`task stream for request ${String(rpc.id)} failed after its final item`, error);
      }
    }
  }

  private async replyError(
    path: ReplyPath,
    id: JsonRpcId | null,
    kind: BindingErrorKind,
    message: string,
  ): Promise<void> {
    await this.reply(path, jsonRpcErrorResponse(id, bindingErrorObject(kind, message)));
  }

  /** Publish one reply (QoS 1, Correlation Data echoed). Failures are logged: the requester will retry. */
  /** `a2a-responder-agent-id` for a reply: the task's handover target, else this agent for pooled requests. */
  private responderIdFor(path: ReplyPath): string | undefined {
    const handedTo = path.taskId === undefined ? undefined : this.handovers.get(path.taskId);
    return handedTo ?? (path.pooled ? this.agentId : undefined);
  }

  /** The user properties every reply of a request carries (responder id, artifact mode). */
  private replyUserProperties(path: ReplyPath): Record<string, string> {
    const userProperties: Record<string, string> = {};
    const responderId = this.responderIdFor(path);
    if (responderId !== undefined) userProperties[A2AUserProperty.ResponderAgentId] = responderId;
    if (path.artifactMode !== undefined) userProperties[A2AUserProperty.ArtifactMode] = path.artifactMode;
    return userProperties;
  }

  /**
   * Publish an artifact update as raw binary chunks (profile, binary artifact mode): payload format 0, the
   * part's media type as Content Type, and the chunk metadata as user properties. False when the update is
   * not a single raw part, which then goes as JSON.
   */
  private async replyBinary(path: ReplyPath, update: TaskArtifactUpdateEvent): Promise<boolean> {
    const part = binaryPartOf(update);
    const artifact = update.artifact;
    if (!part || !artifact || part.content?.$case !== 'raw') return false;
    const bytes: Uint8Array = part.content.value;
    const maxPacket = this.connection.connack.maximumPacketSize;
    const chunkBytes = Math.max(
      1,
      Math.min(
        this.binary?.chunkBytes ?? DEFAULT_CHUNK_BYTES,
        maxPacket === undefined ? Infinity : maxPacket - 4096,
      ),
    );
    const seqnos = (path.seqnos ??= new Map());
    const artifactKey = `${update.taskId}\n${artifact.artifactId}`;
    const base = this.replyUserProperties(path);
    const pieces = Math.max(1, Math.ceil(bytes.byteLength / chunkBytes));
    for (let piece = 0; piece < pieces; piece++) {
      const seqno = seqnos.get(artifactKey) ?? 0;
      seqnos.set(artifactKey, seqno + 1);
      const userProperties: Record<string, string> = {
        ...base,
        [A2AUserProperty.EventType]: 'task-artifact-update',
        [A2AUserProperty.TaskId]: update.taskId,
        [A2AUserProperty.ArtifactId]: artifact.artifactId,
        [A2AUserProperty.ChunkSeqno]: String(seqno),
        [A2AUserProperty.LastChunk]: String(update.lastChunk && piece === pieces - 1),
      };
      if (update.contextId) userProperties[A2AUserProperty.ContextId] = update.contextId;
      if (artifact.name) userProperties[ARTIFACT_NAME_PROPERTY] = artifact.name;
      if (part.filename) userProperties[ARTIFACT_FILENAME_PROPERTY] = part.filename;
      try {
        const properties = createPublishProperties({
          payloadFormat: 'bytes',
          ...(part.mediaType ? { contentType: part.mediaType } : {}),
          ...(path.correlationData === undefined ? {} : { correlationData: path.correlationData }),
          userProperties,
        }) as MqttPublishProperties;
        await this.connection.publish(
          path.topic,
          bytes.subarray(piece * chunkBytes, Math.min(bytes.byteLength, (piece + 1) * chunkBytes)),
          { qos: 1, properties },
        );
      } catch (error) {
        this.logger.warn(`could not publish an artifact chunk to '${path.topic}'`, error);
      }
    }
    return true;
  }

  private async reply(path: ReplyPath, body: unknown): Promise<void> {
    try {
      const userProperties = this.replyUserProperties(path);
      let payload = JSON.stringify(body);
      let contentType = 'application/json';
      const ubsp = path.ubsp;
      if (ubsp && this.ubsp) {
        const correlation = path.correlationData ?? new Uint8Array(0);
        const sealed = await encryptPayload(
          payload,
          { key: ubsp.key, kid: ubsp.kid },
          {
            [UbspHeader.Requester]: ubsp.requesterId,
            [UbspHeader.Responder]: this.agentId,
            [UbspHeader.CorrelationData]: ubspCorrelationHeader(correlation),
          },
          { serialization: ubsp.serialization, maxAgeSeconds: this.ubsp.options.maxAgeSeconds ?? 60 },
        );
        payload = sealed.payload;
        contentType = sealed.contentType;
        userProperties[A2AUserProperty.SecurityProfile] = UBSP_V1;
        userProperties[A2AUserProperty.RequesterAgentId] = ubsp.requesterId;
        userProperties[A2AUserProperty.ResponderAgentId] ??= this.agentId;
        if (ubsp.kid !== undefined) userProperties[A2AUserProperty.RecipientKid] = ubsp.kid;
      }
      const properties = createPublishProperties({
        contentType,
        ...(path.correlationData === undefined ? {} : { correlationData: path.correlationData }),
        ...(Object.keys(userProperties).length === 0 ? {} : { userProperties }),
      }) as MqttPublishProperties;
      await this.connection.publish(path.topic, payload, { qos: 1, properties });
    } catch (error) {
      this.logger.warn(`could not publish a reply to '${path.topic}'`, error);
    }
  }
}
