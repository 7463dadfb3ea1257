// The public shapes of discovery: what a registry holds, reports and waits for.
import type { AgentCard } from '@a2a-js/sdk';
import type { Logger, MqttConnectionOptions } from '@mqtt-agents/core';
import type { AgentAddress } from '../agent-address.js';
import type { CardVerification, CardVerificationOptions } from '../card-signatures.js';

/** Liveness as the retained card's user properties tell it. Advisory: never a reason to skip retries. */
export type AgentStatus = 'online' | 'offline' | 'unknown';

/** Who said so: the agent itself, its will (the broker saw it vanish), or the broker's own tracking. */
export type AgentStatusSource = 'agent' | 'lwt' | 'broker';

/** One registered agent, as its latest retained card describes it. */
export interface DiscoveredAgent extends AgentAddress {
  /** `{org}/{unit}/{agentId}`: the registry key. */
  readonly key: string;
  readonly topic: string;
  /** The card, ready for `ClientFactory.createFromAgentCard(card)`. */
  readonly card: AgentCard;
  /** The card's JSON as received. */
  readonly json: Record<string, unknown>;
  readonly status: AgentStatus;
  readonly statusSource: AgentStatusSource | undefined;
  /** Schema problems; empty for valid cards (only non-empty with `requireValid: false`). */
  readonly issues: readonly string[];
  /** The card's signature check, when the registry verifies cards (`verifyCards`). */
  readonly signature: CardVerification | undefined;
  /** When the card arrived (ms since the epoch). */
  readonly receivedAt: number;
}

/** What changed in the registry. */
export type AgentRegistryChange =
  | { type: 'added'; key: string; agent: DiscoveredAgent }
  | { type: 'updated'; key: string; agent: DiscoveredAgent; previous: DiscoveredAgent }
  | { type: 'removed'; key: string; previous: DiscoveredAgent | undefined }
  /** A card that is not JSON or fails the AgentCard schema: reported, not registered. */
  | { type: 'invalid'; key: string; topic: string; reason: string; issues: readonly string[] };

/** What `discoverAgents` watches: the broker, the scope of the discovery filter and how cards are checked. */
export interface DiscoverAgentsOptions {
  /** Where the broker is: a URL, your MQTT.js client, or a core connection to share. */
  mqtt: MqttConnectionOptions;
  /** Only agents of this org (default: every org). */
  org?: string;
  /** Only agents of this unit (needs `org`; default: every unit). */
  unit?: string;
  /**
   * Client id of the registry's own connection when it opens one: `{org}/{unit}/{agentId}` per the
   * profile. Needs `org` and `unit`. Default: a random id.
   */
  agentId?: string;
  /** Default true: cards failing the AgentCard schema are reported and skipped. False: kept, with `issues`. */
  requireValid?: boolean;
  /**
   * Verify card signatures (JWS, A2A v1.0 §8.4) with these keys and trusted-JKU policy; the outcome is in
   * `agent.signature`. With `requireSignature: true`, unsigned and wrongly signed cards are reported as
   * `invalid` and dropped.
   */
  verifyCards?: CardVerificationOptions & { requireSignature?: boolean };
  /** Where the registry logs; default: silent unless `DEBUG` enables `mqtt-agents:a2a`. */
  logger?: Logger;
  /** Aborts connecting and the initial subscription. */
  signal?: AbortSignal;
}

/** How long `AgentRegistry.waitFor` waits, and for what. */
export interface WaitForAgentOptions {
  /** Also wait until its status is `online`. Default false. */
  online?: boolean;
  /** Reject with `REQUEST_TIMEOUT` after this many ms. Default: wait until the signal aborts or the registry closes. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * A live view of the agents registered under a discovery filter. Iterate it for changes (the agents known
 * so far come first, as `added`), read `agents` for the current state.
 */
export interface AgentRegistry extends AsyncIterable<AgentRegistryChange> {
  /** Current agents by key `{org}/{unit}/{agentId}`. */
  readonly agents: ReadonlyMap<string, DiscoveredAgent>;
  /** The MQTT filter the registry subscribed to. */
  readonly filter: string;
  /** An agent by `agentId` (first match in scope) or by key `{org}/{unit}/{agentId}`. */
  get(agentIdOrKey: string): DiscoveredAgent | undefined;
  /** A snapshot of the current agents, as an array. */
  list(): DiscoveredAgent[];
  /** Resolve once the agent is registered (and online, if asked). Retained cards arrive just after subscribing. */
  waitFor(agentIdOrKey: string, options?: WaitForAgentOptions): Promise<DiscoveredAgent>;
  /** Changes from now on, with the current agents first as `added`; ends when the registry closes. */
  changes(options?: { signal?: AbortSignal }): AsyncIterableIterator<AgentRegistryChange>;
  /**
   * Idempotent. Stop tracking: ends every iteration, unsubscribes the filter, and closes the connection when
   * the registry opened it. Pending `waitFor` calls reject with `CLOSED`.
   */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
