import {
  assertAgentId,
  assertGroupId,
  assertOrgId,
  assertPoolId,
  assertReplySuffix,
  assertUnitId,
  deriveA2aPoolGroupId,
  isValidIdentifier,
} from './identifiers.js';
import { sharedSubscription } from './topic-filter.js';

/** An A2A agent as topics and MQTT client ids name it. */
export interface A2aAgentAddress {
  orgId: string;
  unitId: string;
  agentId: string;
}

/** A unit-scoped A2A pool, served by any of its members through a shared subscription. */
export interface A2aPoolAddress {
  orgId: string;
  unitId: string;
  poolId: string;
}

/** A requester's reply topic: its own address plus a collision-resistant suffix. */
export interface A2aReplyAddress extends A2aAgentAddress {
  replySuffix: string;
}

/**
 * Every A2A over MQTT topic, parsed. `discovery` carries the retained Agent Card; `request` and
 * `pool-request` carry requests; `reply` carries replies and stream items; `event` carries events outside
 * request/reply.
 */
export type A2aTopic =
  | ({ kind: 'discovery' } & A2aAgentAddress)
  | ({ kind: 'request' } & A2aAgentAddress)
  | ({ kind: 'pool-request' } & A2aPoolAddress)
  | ({ kind: 'reply' } & A2aReplyAddress)
  | ({ kind: 'event' } & A2aAgentAddress);

/** The `kind` of a parsed A2A topic: `discovery`, `request`, `pool-request`, `reply` or `event`. */
export type A2aTopicKind = A2aTopic['kind'];

/** `$a2a`: the root level of every A2A over MQTT topic. */
export const A2A_ROOT = '$a2a';
/** `v1`: the binding version level under {@link A2A_ROOT}. */
export const A2A_VERSION = 'v1';
/** `$a2a/v1`: the first two levels of every topic this version of the binding names. */
export const A2A_TOPIC_PREFIX = `${A2A_ROOT}/${A2A_VERSION}`;
/** `$a2a/v1/discovery/`: what every retained Agent Card topic starts with. */
export const A2A_DISCOVERY_PREFIX = `${A2A_TOPIC_PREFIX}/discovery/`;

const POOL_LEVEL = 'pool';

/** True for any topic under the `$a2a` root, of any binding version. Never throws. */
export function isA2aTopic(topic: string): boolean {
  return typeof topic === 'string' && topic.startsWith(`${A2A_ROOT}/`);
}

function agentPath(agent: A2aAgentAddress): string {
  return `${assertOrgId(agent.orgId)}/${assertUnitId(agent.unitId)}/${assertAgentId(agent.agentId)}`;
}

/** `$a2a/v1/discovery/{org_id}/{unit_id}/{agent_id}`: where the agent's card is retained. */
export function a2aDiscoveryTopic(agent: A2aAgentAddress): string {
  return `${A2A_TOPIC_PREFIX}/discovery/${agentPath(agent)}`;
}

/** `$a2a/v1/request/{org_id}/{unit_id}/{agent_id}`: the agent's direct request topic. */
export function a2aRequestTopic(agent: A2aAgentAddress): string {
  return `${A2A_TOPIC_PREFIX}/request/${agentPath(agent)}`;
}

/** `$a2a/v1/request/{org_id}/{unit_id}/pool/{pool_id}`: where requesters publish pooled requests. */
export function a2aPoolRequestTopic(pool: A2aPoolAddress): string {
  return `${A2A_TOPIC_PREFIX}/request/${assertOrgId(pool.orgId)}/${assertUnitId(pool.unitId)}/${POOL_LEVEL}/${assertPoolId(pool.poolId)}`;
}

/** `$a2a/v1/reply/{org_id}/{unit_id}/{agent_id}/{reply_suffix}`: a requester's reply topic. */
export function a2aReplyTopic(reply: A2aReplyAddress): string {
  return `${A2A_TOPIC_PREFIX}/reply/${agentPath(reply)}/${assertReplySuffix(reply.replySuffix)}`;
}

/** `$a2a/v1/event/{org_id}/{unit_id}/{agent_id}`: the agent's event topic. */
export function a2aEventTopic(agent: A2aAgentAddress): string {
  return `${A2A_TOPIC_PREFIX}/event/${agentPath(agent)}`;
}

/** Build the topic a parsed {@link A2aTopic} describes. Throws `INVALID_IDENTIFIER` for invalid ids. */
export function buildA2aTopic(topic: A2aTopic): string {
  switch (topic.kind) {
    case 'discovery':
      return a2aDiscoveryTopic(topic);
    case 'request':
      return a2aRequestTopic(topic);
    case 'pool-request':
      return a2aPoolRequestTopic(topic);
    case 'reply':
      return a2aReplyTopic(topic);
    case 'event':
      return a2aEventTopic(topic);
  }
}

function levelOrAny(kind: 'org-id' | 'unit-id' | 'agent-id', value: string | undefined): string {
  if (value === undefined) return '+';
  if (kind === 'org-id') return assertOrgId(value);
  if (kind === 'unit-id') return assertUnitId(value);
  return assertAgentId(value);
}

/**
 * A discovery filter: `$a2a/v1/discovery/{org}/{unit}/+` for one unit, `.../{org}/+/+` for an org,
 * `.../+/+/+` for everything; each omitted id becomes `+`.
 */
export function a2aDiscoveryFilter(
  scope: { orgId?: string; unitId?: string; agentId?: string } = {},
): string {
  return `${A2A_TOPIC_PREFIX}/discovery/${levelOrAny('org-id', scope.orgId)}/${levelOrAny('unit-id', scope.unitId)}/${levelOrAny('agent-id', scope.agentId)}`;
}

/** An event filter shaped like {@link a2aDiscoveryFilter}: each omitted id becomes `+`. */
export function a2aEventFilter(scope: { orgId?: string; unitId?: string; agentId?: string } = {}): string {
  return `${A2A_TOPIC_PREFIX}/event/${levelOrAny('org-id', scope.orgId)}/${levelOrAny('unit-id', scope.unitId)}/${levelOrAny('agent-id', scope.agentId)}`;
}

/** `$a2a/v1/reply/{org_id}/{unit_id}/{agent_id}/+`: every reply topic of one requester. */
export function a2aReplyFilter(agent: A2aAgentAddress): string {
  return `${A2A_TOPIC_PREFIX}/reply/${agentPath(agent)}/+`;
}

/**
 * The shared subscription a pool member uses: `$share/{group_id}/$a2a/v1/request/{org}/{unit}/pool/{pool}`.
 * The group id defaults to {@link deriveA2aPoolGroupId}; all members of a pool must use the same one.
 */
export function a2aPoolSubscription(pool: A2aPoolAddress & { groupId?: string }): string {
  const group = pool.groupId === undefined ? deriveA2aPoolGroupId(pool) : assertGroupId(pool.groupId);
  return sharedSubscription(group, a2aPoolRequestTopic(pool));
}

/** The MQTT client id of an A2A agent, requester or responder: `{org_id}/{unit_id}/{agent_id}`. */
export function a2aClientId(agent: A2aAgentAddress): string {
  return agentPath(agent);
}

/** Split an A2A MQTT client id `{org_id}/{unit_id}/{agent_id}`; `undefined` when it is not one. Never throws. */
export function parseA2aClientId(clientId: string): A2aAgentAddress | undefined {
  if (typeof clientId !== 'string') return undefined;
  const levels = clientId.split('/');
  if (levels.length !== 3) return undefined;
  const [orgId, unitId, agentId] = levels as [string, string, string];
  if (!isValidIdentifier('org-id', orgId) || !isValidIdentifier('unit-id', unitId)) return undefined;
  if (!isValidIdentifier('agent-id', agentId)) return undefined;
  return { orgId, unitId, agentId };
}

/**
 * Recognise an A2A over MQTT topic. Returns `undefined` for anything else, including topics whose ids
 * break the identifier rules. Never throws.
 *
 * `$a2a/v1/request/{org}/{unit}/pool/{pool}` (seven levels) is a pool request. The agent id `pool` is
 * reserved (see `RESERVED_A2A_AGENT_IDS`), so `$a2a/v1/request/{org}/{unit}/pool` is no topic at all.
 */
export function parseA2aTopic(topic: string): A2aTopic | undefined {
  if (typeof topic !== 'string' || !topic.startsWith(`${A2A_TOPIC_PREFIX}/`)) return undefined;
  const levels = topic.split('/');
  const method = levels[2];
  const orgId = levels[3] as string;
  const unitId = levels[4] as string;
  const last = levels[5] as string;
  if (levels.length < 6) return undefined;
  if (!isValidIdentifier('org-id', orgId) || !isValidIdentifier('unit-id', unitId)) return undefined;

  if (levels.length === 7) {
    const seventh = levels[6] as string;
    if (method === 'request' && last === POOL_LEVEL) {
      return isValidIdentifier('pool-id', seventh)
        ? { kind: 'pool-request', orgId, unitId, poolId: seventh }
        : undefined;
    }
    if (
      method === 'reply' &&
      isValidIdentifier('agent-id', last) &&
      isValidIdentifier('reply-suffix', seventh)
    ) {
      return { kind: 'reply', orgId, unitId, agentId: last, replySuffix: seventh };
    }
    return undefined;
  }
  if (levels.length !== 6 || !isValidIdentifier('agent-id', last)) return undefined;
  if (method === 'discovery' || method === 'request' || method === 'event') {
    return { kind: method, orgId, unitId, agentId: last };
  }
  return undefined;
}
