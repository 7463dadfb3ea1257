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

/** Remember which agent `card` belongs to; returns the card. */
export function rememberAgentAddress(card: AgentCard, address: AgentAddress): AgentCard {
  addresses.set(card, { org: address.org, unit: address.unit, agentId: address.agentId });
  return card;
}

/** The agent a card was discovered for, when it came from this package. */
export function agentAddressOf(card: AgentCard): AgentAddress | undefined {
  return addresses.get(card);
}
