// Stage: route. Where each attempt goes (the task's known responder, else the transport's agent or pool),
// and what replies teach about it (`a2a-responder-agent-id`: pool dispatch, task handover). Failover
// between pool members belongs here: a further `Route` source next to the route store.
import {
  A2AUserProperty,
  MqttAgentsError,
  a2aPoolRequestTopic,
  getUserProperty,
  isValidIdentifier,
} from '@mqtt-agents/core';
import type { MqttMessage } from '@mqtt-agents/core';
import type { AgentAddress } from '../agent-address.js';
import { isPoolAddress } from '../task-routes.js';
import type { PoolAddress } from '../task-routes.js';
import type { ExchangePlan, RequesterSession, Route } from './session.js';
import { topicOf } from './wire.js';

export class Router {
  /** The agent (or pool) this transport talks to. */
  readonly target: AgentAddress | PoolAddress;
  /** Where requests go until a task's responder is known: the agent's or the pool's request topic. */
  readonly requestTopic: string;
  readonly #session: RequesterSession;

  constructor(session: RequesterSession, target: AgentAddress | PoolAddress) {
    this.#session = session;
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
  }

  /** `agent 'x'` or `pool 'y'`, for messages. */
  get name(): string {
    return isPoolAddress(this.target) ? `pool '${this.target.poolId}'` : `agent '${this.target.agentId}'`;
  }

  /** The task's known responder (learnt from a pooled answer or a handover), else this transport's target. */
  async route(taskId: string | undefined): Promise<Route> {
    const known = taskId === undefined ? undefined : await this.#session.routes.get(taskId);
    if (known) return { topic: topicOf(known), pooled: false, agent: known, learnt: true };
    if (isPoolAddress(this.target)) {
      return { topic: this.requestTopic, pooled: true, agent: undefined, learnt: false };
    }
    return { topic: this.requestTopic, pooled: false, agent: this.target, learnt: false };
  }

  /**
   * After every attempt to a handed-over task's agent went unanswered: forget the route so the next attempt
   * goes to the card's agent (`fallbackToCardAgent`). False when there is nothing to fall back to.
   */
  async fallBack(route: Route, plan: ExchangePlan, method: string): Promise<boolean> {
    if (
      !route.learnt ||
      plan.taskId === undefined ||
      !this.#session.fallbackToCardAgent ||
      isPoolAddress(this.target) ||
      route.agent?.agentId === this.target.agentId
    ) {
      return false;
    }
    this.#session.logger.info(
      `agent '${route.agent?.agentId}' did not answer ${method} for task ${plan.taskId}; falling back to ${this.name}`,
    );
    await this.#session.routes.delete(plan.taskId);
    return true;
  }

  /**
   * Read `a2a-responder-agent-id` from a reply: required on replies to pooled requests (a missing or
   * malformed one is a protocol error), a handover otherwise. Answers (not errors) update the task's route.
   */
  async learn(reply: MqttMessage, route: Route, plan: ExchangePlan, isError: boolean): Promise<void> {
    const responderId = getUserProperty(reply.properties, A2AUserProperty.ResponderAgentId);
    const valid = responderId !== undefined && isValidIdentifier('agent-id', responderId);
    if (route.pooled && !valid) {
      throw new MqttAgentsError(
        'PROTOCOL_ERROR',
        responderId === undefined
          ? `reply to a request to ${this.name} has no ${A2AUserProperty.ResponderAgentId}: a pooled reply must name its responder`
          : `reply to a request to ${this.name} names an invalid responder '${String(responderId).slice(0, 80)}'`,
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
}
