// One logical operation over MQTT, as named stages: route (route.ts) → seal (the security codecs, ../security)
// → send (the request/reply engine) → read replies (replies.ts) → reassemble (reassemble.ts) → retry
// (retry.ts), with stall recovery by GetTask. Tracing spans per stage go around these calls.
import { Task, taskStateToJSON } from '@a2a-js/sdk';
import type { AgentCard } from '@a2a-js/sdk';
import type { RequestOptions } from '@a2a-js/sdk/client';
import { A2AUserProperty, MqttAgentsError, printable } from '@mqtt-agents/core';
import { agentStatusOf } from '../agent-address.js';
import { ArtifactAssembler, readBinaryChunk } from '../binary-artifacts.js';
import { delay } from '../retry-policy.js';
import type { AttemptTarget, OutgoingRequest, RequestProperties, RequestSealer } from '../security/codec.js';
import { isStreamFinalState } from '../stream-states.js';
import { isPoolAddress } from '../task-routes.js';
import { ReassembledItem, replyDedupKeys } from './reassemble.js';
import type { ReplyReader } from './replies.js';
import { RetryState } from './retry.js';
import type { Router } from './route.js';
import type { ExchangePlan, RequesterSession, Route } from './session.js';
import { serviceParametersToUserProperties, toA2AError, uuid } from './wire.js';

export interface ExchangeOptions {
  readonly session: RequesterSession;
  readonly router: Router;
  readonly reader: ReplyReader;
  /** The request codecs, applied in order to every attempt (bearer token, then `ubsp-v1`). */
  readonly sealers: readonly RequestSealer[];
  /** Requests carry a provider's token (see `BearerRequestSealer.sendsTokens`). */
  readonly sendsTokens: boolean;
  /** The card the transport was created from, if any. */
  readonly card: AgentCard | undefined;
  /** GetTask, for stall recovery. */
  readonly getTask: (taskId: string, options: RequestOptions | undefined) => Promise<Task>;
}

export class Exchange {
  readonly #options: ExchangeOptions;

  constructor(options: ExchangeOptions) {
    this.#options = options;
  }

  /**
   * Fail fast (`offlineAgents: 'fail'`) when the request goes to the card's own agent and its card says
   * offline: the retries would wait for all their attempts on an agent that is not there.
   */
  #refuseOffline(method: string, route: Route): void {
    const { card, session } = this.#options;
    if (session.offlineAgents !== 'fail' || !card || route.learnt || route.pooled || !route.agent) return;
    if (agentStatusOf(card) !== 'offline') return;
    const agent = `${route.agent.org}/${route.agent.unit}/${route.agent.agentId}`;
    throw new MqttAgentsError(
      'AGENT_OFFLINE',
      `agent '${agent}' is offline (its card says so): ${method} not sent; offlineAgents: 'send' sends anyway`,
      { details: { agent, method, status: 'offline' } },
    );
  }

  /**
   * Publish, read correlated replies until `plan.isFinal`, and apply the retry profile (new correlation per
   * attempt, same payload; no retry once a reply arrived; GetTask after a stall). Every attempt goes where
   * the task's responder is known to be; when the agent a task was handed over to stays silent through all
   * attempts, the card's agent gets one more (`fallbackToCardAgent`).
   */
  async *run(
    method: string,
    params: unknown,
    options: RequestOptions | undefined,
    plan: ExchangePlan,
  ): AsyncGenerator<unknown, void, undefined> {
    const { session, router, reader } = this.#options;
    const { policy, logger, requestReply } = session;
    const request: OutgoingRequest = {
      payload: JSON.stringify({ jsonrpc: '2.0', id: uuid(), method, params }),
      properties: this.#requestProperties(options, plan),
    };
    const signal = options?.signal;
    const retry = new RetryState(policy, this.#options.sendsTokens);
    for (let attempt = 1; ; attempt++) {
      const route = await router.route(plan.taskId);
      if (attempt === 1) this.#refuseOffline(method, route);
      const sealed = await this.#seal(request, route, attempt, signal);
      const opener = session.ubsp;
      const dedupKey = replyDedupKeys();
      const replies = requestReply.stream(route.topic, sealed.payload, {
        // Protected replies can only be read asynchronously: the loop below decides where the stream ends.
        // A retained reply never ends a stream: replies are never retained (the loop ignores them).
        isFinal: opener ? () => false : (reply) => !reply.retain && reader.isFinalReply(reply, plan),
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
            await router.learn(reply, route, plan, false);
            received++;
            const artifact = assembler.add(chunk);
            if (artifact) yield new ReassembledItem(artifact);
            continue;
          }
          const parsed = opener
            ? await reader.open(reply, replies.correlationData, opener)
            : reader.parse(reply);
          await router.learn(reply, route, plan, parsed.kind === 'error');
          if (parsed.kind === 'error') {
            const decision = retry.onErrorReply(
              toA2AError(parsed.error, parsed.id),
              parsed.error,
              received,
              attempt,
            );
            if (!decision.retry) throw decision.error;
            retryBecause = decision.because;
            backoff = decision.backoff;
            break;
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
          yield* this.#recover(plan.recoverTaskId, options, error, plan.onStall);
          return;
        }
        if (retry.onFailure(error, received, attempt, signal) === 'exhausted') {
          if (await router.fallBack(route, plan, method)) {
            retry.extend(attempt);
            continue;
          }
          throw retry.exhausted(error, method, router.name, route.topic, attempt);
        }
        retryBecause = error;
      } finally {
        await replies.return();
      }
      const wait = retry.delayMs(attempt, backoff);
      logger.debug(
        `retrying ${method} to '${route.topic}' in ${wait} ms (attempt ${attempt + 1} of ${retry.budget})`,
        retryBecause,
      );
      await delay(wait, signal);
    }
  }

  /** One attempt's request after every codec sealed it. */
  async #seal(
    request: OutgoingRequest,
    route: Route,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<OutgoingRequest> {
    const { router, card } = this.#options;
    const target = router.target;
    const recipient = route.agent;
    const attemptTarget: AttemptTarget = {
      target,
      name: router.name,
      recipient,
      // The card speaks for the transport's own agent only, not for a learnt one.
      card:
        !route.learnt && card && !isPoolAddress(target) && recipient?.agentId === target.agentId
          ? card
          : undefined,
      attempt,
      signal,
    };
    let sealed = request;
    for (const sealer of this.#options.sealers) sealed = await sealer.sealRequest(sealed, attemptTarget);
    return sealed;
  }

  #requestProperties(options: RequestOptions | undefined, plan: ExchangePlan): RequestProperties {
    const session = this.#options.session;
    const userProperties = serviceParametersToUserProperties(options?.serviceParameters);
    if (plan.contextId) userProperties[A2AUserProperty.ContextId] = plan.contextId;
    if (plan.streaming && session.artifactMode === 'binary') {
      userProperties[A2AUserProperty.ArtifactMode] ??= 'binary';
    }
    // MQTT.js never completes a publish whose user properties are an empty object: leave them out.
    return {
      contentType: 'application/json',
      ...(Object.keys(userProperties).length > 0 ? { userProperties } : {}),
      ...(session.requestExpirySeconds === undefined
        ? {}
        : { messageExpiryInterval: session.requestExpirySeconds }),
    };
  }

  /** After a stall: ask for the task instead of publishing the request again (profile, Streaming rule 8). */
  async *#recover(
    taskId: string,
    options: RequestOptions | undefined,
    stall: unknown,
    onStall: 'throw' | 'return',
  ): AsyncGenerator<unknown, void, undefined> {
    this.#options.session.logger.info(`stream for task ${taskId} stalled; recovering with GetTask`);
    const task = await this.#options.getTask(taskId, options);
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
