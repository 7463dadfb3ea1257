import type { AgentAddress } from './agent-address.js';
import { RecentMap } from './recent-map.js';

/** A unit-scoped pool of interchangeable agents, served through a shared subscription. */
export interface PoolAddress {
  readonly org: string;
  readonly unit: string;
  readonly poolId: string;
}

/** True when `target` names a pool rather than one agent. */
export function isPoolAddress(target: AgentAddress | PoolAddress): target is PoolAddress {
  return typeof (target as { poolId?: unknown }).poolId === 'string';
}

/**
 * Where the requester sends the operations of a task once it knows the concrete responder: the agent that
 * answered a pooled request, or the agent a card owner handed the task over to (`a2a-responder-agent-id`).
 * The most recent answer wins. Implement it over a database to keep routes across restarts.
 */
export interface TaskRouteStore {
  /** The responder that serves `taskId`, or `undefined` when the task has no known route. */
  get(taskId: string): AgentAddress | undefined | Promise<AgentAddress | undefined>;
  /** Remember (or replace) the responder that serves `taskId`. */
  set(taskId: string, responder: AgentAddress): void | Promise<void>;
  /** Forget a route (the requester fell back to the card's agent after the routed one stayed silent). */
  delete(taskId: string): void | Promise<void>;
}

/** The default route store: in memory, bounded (`maxEntries`, oldest first) and forgetting after `ttlMs`. */
export function createMemoryTaskRouteStore(
  options: { ttlMs?: number; maxEntries?: number } = {},
): TaskRouteStore {
  const routes = new RecentMap<string, AgentAddress>({
    ttlMs: options.ttlMs ?? 24 * 60 * 60_000,
    maxEntries: options.maxEntries ?? 10_000,
  });
  return {
    get: (taskId) => routes.get(taskId),
    set: (taskId, responder) =>
      routes.set(taskId, { org: responder.org, unit: responder.unit, agentId: responder.agentId }),
    delete: (taskId) => routes.delete(taskId),
  };
}
