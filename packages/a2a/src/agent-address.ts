import type { AgentCard } from '@a2a-js/sdk';

/** Where an agent lives on the broker: `$a2a/v1/{kind}/{org}/{unit}/{agentId}`. */
export interface AgentAddress {
  readonly org: string;
  readonly unit: string;
  readonly agentId: string;
}

// A card says how to reach the broker (url, tenant `{org}/{unit}`), not which agent published it: the agent
// id lives in the discovery topic. Cards handed out by discovery (and by `serveA2AOverMqtt`) remember it here,
// so `ClientFactory.createFromAgentCard(card)` can route without extra arguments.
const addresses = new WeakMap<AgentCard, AgentAddress>();

/**
 * `ClientFactory.createFromAgentCard` (SDK 1.3.0) takes any card whose first security scheme lacks a `type`
 * key for ProtoJSON and parses it again: the typed card loses its security schemes and its identity (so
 * its address). A hidden `type` on every scheme lets typed cards through unchanged; JSON never shows it.
 */
function keepTypedSecuritySchemes(card: AgentCard): void {
  for (const scheme of Object.values(card.securitySchemes ?? {})) {
    if (typeof scheme !== 'object' || scheme === null || 'type' in scheme) continue;
    Object.defineProperty(scheme, 'type', { value: scheme.scheme?.$case ?? 'unknown', enumerable: false });
  }
}

/** Remember which agent `card` belongs to; returns the card. */
export function rememberAgentAddress(card: AgentCard, address: AgentAddress): AgentCard {
  addresses.set(card, { org: address.org, unit: address.unit, agentId: address.agentId });
  keepTypedSecuritySchemes(card);
  return card;
}

/** What the discovery topic last said of an agent: `online`, `offline`, or `unknown` (no status). */
export type KnownAgentStatus = 'online' | 'offline' | 'unknown';

// The status of the agent a discovered card belongs to, read when asked: the registry's current entry, so an
// agent that went offline after the card was handed out is seen as offline.
const statuses = new WeakMap<AgentCard, () => KnownAgentStatus | undefined>();

/** Remember how to read the current status of the agent `card` belongs to; returns the card. */
export function rememberAgentStatus(card: AgentCard, read: () => KnownAgentStatus | undefined): AgentCard {
  statuses.set(card, read);
  return card;
}

/** The current status of the agent a discovered card belongs to; `undefined` when not known. */
export function agentStatusOf(card: AgentCard): KnownAgentStatus | undefined {
  return statuses.get(card)?.();
}

/** The agent a card was discovered for, when it came from this package. */
export function agentAddressOf(card: AgentCard): AgentAddress | undefined {
  return addresses.get(card);
}
