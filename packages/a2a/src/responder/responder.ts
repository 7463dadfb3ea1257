// The responder half of the binding, as a pipeline of stages, one file each:
//   envelope.ts (envelope checks) → dedup.ts (duplicate window, before admission) → admission.ts (slots)
//   → the request's security codec (../security/ubsp-codec.ts: open request) → decode.ts (canonical
//   JSON-RPC decode) → dispatch.ts (method, tenant, bearer token, version, call context) → send.ts
//   (SendMessage rules and dedup) / forward.ts (the SDK handler) → reply-writer.ts (seal and publish).
// Each stage takes the request's frozen `RequestContext` (context.ts) and hands the next a new one.
import { JsonRpcTransportHandler } from '@a2a-js/sdk/server';
import type { A2ARequestHandler } from '@a2a-js/sdk/server';
import type { AgentCard } from '@a2a-js/sdk';
import { assertAgentId, jsonRpcErrorResponse, printable } from '@mqtt-agents/core';
import type { JsonRpcRequest, Logger, MqttConnection, MqttMessage } from '@mqtt-agents/core';
import type { BinaryArtifactOptions } from '../binary-artifacts.js';
import { bindingErrorObject } from '../binding-errors.js';
import type { BindingErrorKind } from '../binding-errors.js';
import { readBrokerSender, requesterKey } from '../caller-identity.js';
import type { BrokerSender } from '../caller-identity.js';
import type { BearerVerifier } from '../oauth.js';
import type { RequesterTaskIdStore } from '../requester-task-ids.js';
import { UbspResponderCodec, looksProtected } from '../security/ubsp-codec.js';
import type { UbspConfig } from '../security/ubsp-codec.js';
import type { ServeUbspOptions } from '../ubsp.js';
import { Admission, NO_SLOT } from './admission.js';
import type { ResponderLimits } from './api.js';
import { DEFAULT_DUPLICATE_WINDOW } from './api.js';
import { ProtocolFailure, withContext } from './context.js';
import { SEND_METHODS } from './rules.js';
import type { RequestContext } from './context.js';
import { decodeRequest, readRequest } from './decode.js';
import { MAX_ATTACHED_RETRIES, SendDedup, peekSendKey } from './dedup.js';
import type { PreparedSend } from './dedup.js';
import { checkRequest, prepareCall } from './dispatch.js';
import type { DispatchOptions } from './dispatch.js';
import { EnvelopeCheck } from './envelope.js';
import { Forwarder } from './forward.js';
import { ReplyWriter } from './reply-writer.js';
import { SendStage } from './send.js';

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
  ubsp?: UbspConfig<ServeUbspOptions>;
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

/**
 * Reads requests from the agent's request topic, checks them against the profile, hands them to the SDK's
 * JSON-RPC handler and publishes the answers on the Response Topic with the request's Correlation Data.
 * Nothing a peer sends can throw out of here.
 */
export class Responder {
  readonly #agentId: string;
  readonly #logger: Logger;
  readonly #maxRequestBytes: number;
  readonly #trustBrokerIdentity: boolean;
  readonly #writer: ReplyWriter;
  readonly #envelope: EnvelopeCheck;
  readonly #dedup: SendDedup;
  readonly #admission: Admission;
  readonly #codec: UbspResponderCodec;
  readonly #dispatch: DispatchOptions;
  readonly #forwarder: Forwarder;
  readonly #sends: SendStage;
  readonly #inFlight = new Set<Promise<void>>();
  /** Warned once that `trustBrokerIdentity` is set but requests arrive without the broker's stamp. */
  #warnedUnstamped = false;

  constructor(options: ResponderOptions) {
    const { logger } = options;
    const limits = options.limits ?? {};
    const binary = options.binaryArtifacts === false ? undefined : (options.binaryArtifacts ?? {});
    this.#agentId = options.agentId;
    this.#logger = logger;
    this.#maxRequestBytes = limits.maxRequestBytes ?? 1024 * 1024;
    this.#trustBrokerIdentity = options.trustBrokerIdentity ?? false;
    this.#writer = new ReplyWriter({
      connection: options.connection,
      agentId: options.agentId,
      logger,
      binary,
    });
    this.#envelope = new EnvelopeCheck({
      logger,
      writer: this.#writer,
      allowedReplyTopics: options.allowedReplyTopics ?? [],
      maxRequestBytes: this.#maxRequestBytes,
      windowMs: limits.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW.duplicateWindowMs,
    });
    this.#dedup = new SendDedup(limits, logger);
    this.#admission = new Admission({
      maxConcurrent: limits.maxConcurrentRequests ?? 100,
      maxQueued: limits.maxQueuedRequests ?? 1000,
    });
    this.#codec = new UbspResponderCodec(options.ubsp, options.agentId, options.tenant, logger);
    this.#dispatch = {
      tenant: options.tenant,
      card: options.card,
      logger,
      auth: options.auth,
      binary,
      handover: { handOver: (taskId, agentId) => this.handOver(taskId, agentId) },
    };
    this.#forwarder = new Forwarder(
      new JsonRpcTransportHandler(options.requestHandler),
      this.#writer,
      logger,
    );
    this.#sends = new SendStage({
      taskIds: options.taskIds,
      dedup: this.#dedup,
      forwarder: this.#forwarder,
      writer: this.#writer,
      logger,
      taskAdmission: options.taskAdmission,
    });
  }

  /** From now on, replies about `taskId` name `agentId` as the responder (task handover). */
  handOver(taskId: string, agentId: string): void {
    const target = assertAgentId(agentId);
    this.#writer.handOver(taskId, target === this.#agentId ? undefined : target);
    this.#logger.info(`task ${taskId} handed over to agent '${target}'`);
  }

  /** The message handler for the request topic. Never throws. */
  readonly onMessage = (message: MqttMessage): void => {
    const work = this.#handle(message, Date.now()).catch((error: unknown) => {
      this.#logger.error(`request on '${message.topic}' failed unexpectedly`, error);
    });
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  };

  /** Stop taking requests (new ones get `responder_unavailable`) and wait up to `graceMs` for those in flight. */
  async drain(graceMs: number): Promise<void> {
    this.#admission.close();
    if (this.#inFlight.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.#inFlight]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }

  /** Envelope, dedup and admission: the stages before a request holds a slot. */
  async #handle(message: MqttMessage, receivedAt: number): Promise<void> {
    const reply = await this.#envelope.check(message);
    if (!reply) return;
    const sender = this.#senderOf(message);
    const requester = requesterKey(sender, reply.topic);
    // A plaintext request is decoded once, here; a protected one only after the open stage.
    const decoded = looksProtected(message)
      ? undefined
      : decodeRequest(message.payload, this.#maxRequestBytes);
    const base: RequestContext = Object.freeze({
      message,
      receivedAt,
      reply,
      requester,
      sender,
      decoded,
      send: undefined,
      slot: NO_SLOT,
    });

    // A retry of a request this agent holds (same taskId and messageId) is matched before admission: it
    // waits for the first attempt's answer instead of queueing (or being refused) as new work.
    const key = decoded === undefined ? undefined : peekSendKey(decoded);
    let send: PreparedSend | undefined;
    if (key !== undefined) {
      const known = this.#dedup.known(key);
      if (known) {
        await this.#attach(withContext(base, { send: { key, record: known, retry: true } }));
        return;
      }
      if (!this.#admission.closing) {
        const matched = this.#dedup.match(key, requester);
        if (matched.kind === 'refused') {
          await this.#writer.reply(base, jsonRpcErrorResponse(null, matched.error));
          return;
        }
        send = matched.send;
      }
    }
    /** Refuse a request that never ran; a retry waiting for it gets the same answer. */
    const refuse = async (kind: BindingErrorKind, text: string): Promise<void> => {
      const error = bindingErrorObject(kind, text);
      if (send) send.record.outcome ??= { kind: 'error', error };
      await this.#writer.reply(base, jsonRpcErrorResponse(null, error));
    };

    const admitted = await this.#admission.acquire();
    if (!admitted.ok) {
      await (admitted.reason === 'closing'
        ? refuse('responder_unavailable', 'agent is shutting down')
        : refuse('responder_unavailable', 'agent is overloaded, try again later'));
      if (send) this.#dedup.finish(send.key, send.record);
      return;
    }
    const slot = admitted.slot;
    try {
      const expiry = message.properties.messageExpiryInterval;
      if (expiry !== undefined && Date.now() >= receivedAt + expiry * 1000) {
        this.#logger.info(
          `dropped a stale request on '${printable(message.topic)}': it expired while waiting`,
        );
        await refuse('request_expired', 'request expired before processing');
        return;
      }
      await this.#process(withContext(base, { slot, send }));
    } finally {
      slot.release();
      if (send) this.#dedup.finish(send.key, send.record);
    }
  }

  /** Serve a retry of a request in flight or answered: outside the queue, from the first attempt's state. */
  async #attach(context: RequestContext): Promise<void> {
    const record = (context.send as PreparedSend).record;
    if (record.attached >= MAX_ATTACHED_RETRIES) {
      const error = bindingErrorObject(
        'responder_unavailable',
        'too many retries of this request are waiting for its answer, try again later',
        { mayHaveRun: true },
      );
      await this.#writer.reply(context, jsonRpcErrorResponse(null, error));
      return;
    }
    record.attached++;
    this.#logger.debug(
      `attached a retry on '${printable(context.message.topic)}' to the request it repeats (${record.finished ? 'answered' : 'in flight'}): it gets that request's answer`,
    );
    try {
      await this.#process(context);
    } finally {
      record.attached--;
    }
  }

  /** Open (security profile), decode, dispatch, then send or forward: the stages inside admission. */
  async #process(admitted: RequestContext): Promise<void> {
    const opened = await this.#codec.openRequest(admitted.message, admitted.reply.topic);
    if (!opened.ok) {
      this.#logger.info(`refused a request on '${admitted.message.topic}': ${opened.reason}`);
      await this.#writer.replyError(admitted, null, 'transport_protocol_error', opened.reason);
      return;
    }
    const message = opened.message;
    // Decoded before admission when it was plaintext; decrypted payloads are decoded here.
    const decoded =
      message === admitted.message && admitted.decoded !== undefined
        ? admitted.decoded
        : decodeRequest(message.payload, this.#maxRequestBytes);
    const context = withContext(admitted, {
      message,
      decoded,
      ...(opened.sealer ? { sealer: opened.sealer } : {}),
    });
    const read = readRequest(decoded);
    if (!read.ok) {
      await this.#writer.reply(context, read.response);
      return;
    }
    const request = read.request;
    let checked;
    try {
      checked = checkRequest(this.#dispatch, context, request);
    } catch (error) {
      await this.#fail(context, request, error);
      return;
    }
    try {
      const { rpc, call } = await prepareCall(this.#dispatch, checked);
      if (SEND_METHODS.has(rpc.method)) await this.#sends.send(checked.context, rpc, call);
      else await this.#forwarder.forward(checked.context, rpc, call, undefined);
    } catch (error) {
      await this.#fail(checked.context, request, error);
    }
  }

  /** Answer a request a stage refused (or that failed in the SDK) with its JSON-RPC error. */
  async #fail(context: RequestContext, request: JsonRpcRequest, error: unknown): Promise<void> {
    const wire =
      error instanceof ProtocolFailure ? error.error : JsonRpcTransportHandler.mapToJSONRPCError(error);
    // The first attempt of a send failed before it ran: retries waiting for it get the same answer.
    if (context.send && !context.send.retry) context.send.record.outcome ??= { kind: 'error', error: wire };
    await this.#writer.reply(context, jsonRpcErrorResponse(request.id, wire));
  }

  /** The broker-stamped sender, when this agent trusts the broker's stamps. */
  #senderOf(message: MqttMessage): BrokerSender | undefined {
    if (!this.#trustBrokerIdentity) return undefined;
    const sender = readBrokerSender(message.properties);
    if (!sender && !this.#warnedUnstamped) {
      this.#warnedUnstamped = true;
      this.#logger.warn(
        'trustBrokerIdentity is set, but a request carries no broker identity stamp: is the broker stamping senders (agentTopicAcl)? Such requests count as unauthenticated',
      );
    }
    return sender;
  }
}
