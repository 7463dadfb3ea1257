// The rules the agent-aware plugins share: which client ids can stand for an identity in a topic level,
// which topics never carry retained messages, and the filter arithmetic that decides whether a subscription
// reaches only what a client was granted. Identities come from core's parsers (the one grammar); a plugin
// compares parsed identities, never raw strings.
import {
  McpUserProperty,
  isA2aTopic,
  isMcpTopic,
  parseA2aClientId,
  parseA2aTopic,
  parseMcpTopic,
  validateIdentifier,
} from '@mqtt-agents/core/grammar';
import type { A2aAgentAddress } from '@mqtt-agents/core/grammar';
import type { ClientInfo, PublishedMessage, UserProperties } from '../types.js';
import { OPERATOR_ROLE } from './roles.js';

/** PUBACK / SUBACK 0x87 Not authorized. */
export const NOT_AUTHORIZED = 0x87;
/** CONNACK 0x85 Client Identifier not valid. */
export const CLIENT_IDENTIFIER_NOT_VALID = 0x85;
/** True for a principal with the operator role (reads all agent traffic, publishes none). */
export function isOperator(client: ClientInfo): boolean {
  return client.principal?.roles.includes(OPERATOR_ROLE) ?? false;
}

/** Which identity families a plugin binds to the client id. */
export interface BoundFamilies {
  readonly a2a: boolean;
  readonly mcp: boolean;
}

/**
 * Why `clientId` cannot stand for the identity the rules bind it to, or undefined when it can. With the MCP
 * rules, a client id is `{mcp-client-id}` and `{server-id}`: one topic level (no `/`, `+`, `#`, NUL,
 * control characters, whitespace, unpaired surrogates; at most 128 bytes) and not a reserved word
 * (`presence`, `capability`). With the A2A rules, an id with `/` must be `{org}/{unit}/{agent}` with three
 * valid A2A identifiers (`pool` is no agent id). With both, either shape; with neither, anything.
 */
export function clientIdProblem(clientId: string, families: BoundFamilies): string | undefined {
  if (!families.a2a && !families.mcp) return undefined;
  if (families.a2a && parseA2aClientId(clientId) !== undefined) return undefined;
  if (!clientId.includes('/')) {
    const verdict = validateIdentifier(families.mcp ? 'server-id' : 'mcp-client-id', clientId);
    return verdict.ok ? undefined : verdict.reason;
  }
  if (!families.a2a) return "'/' is not allowed in an MCP client or server id";
  const levels = clientId.split('/');
  if (levels.length !== 3) return "an A2A client id is '{org}/{unit}/{agent}': three levels";
  const kinds = ['org-id', 'unit-id', 'agent-id'] as const;
  for (const [index, kind] of kinds.entries()) {
    const verdict = validateIdentifier(kind, levels[index]);
    if (!verdict.ok) return `${kind.replace('-', ' ')}: ${verdict.reason}`;
  }
  return 'not an A2A client id'; // unreachable: three valid levels parse
}

/** The A2A identity of a client, from its id (undefined for clients that are not agents). */
export function a2aIdentityOf(client: ClientInfo): A2aAgentAddress | undefined {
  return parseA2aClientId(client.id);
}

/**
 * True for topics that must never hold a retained message: A2A requests (direct and pool) and replies,
 * MCP server control topics (`initialize`) and RPC topics. A retained request is handed to every new
 * subscriber, so it would run again on each restart of its receiver. Presence, capability, discovery
 * (cards) and events stay retainable. An agent topic that does not parse is no topic of the grammar and
 * is not retainable either.
 */
export function retainRefused(topic: string): boolean {
  if (isA2aTopic(topic)) {
    const parsed = parseA2aTopic(topic);
    return (
      parsed === undefined ||
      parsed.kind === 'request' ||
      parsed.kind === 'pool-request' ||
      parsed.kind === 'reply'
    );
  }
  if (isMcpTopic(topic)) {
    const parsed = parseMcpTopic(topic);
    return parsed === undefined || parsed.kind === 'rpc' || parsed.kind === 'server-control';
  }
  return false;
}

/** The values of one user property (none, one, or several when the name repeats). */
export function userPropertyValues(properties: UserProperties | undefined, name: string): readonly string[] {
  const value = properties?.[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Why a message's `MCP-MQTT-CLIENT-ID` contradicts its publisher, or undefined when it names the publisher
 * (or is absent). The receiving host acts on that property (it answers `initialize` on the RPC topic of the
 * id it names), so a client must not claim someone else's.
 */
export function mcpClaimProblem(client: ClientInfo, message: PublishedMessage): string | undefined {
  const claimed = userPropertyValues(message.properties.userProperties, McpUserProperty.MqttClientId);
  const other = claimed.find((value) => value !== client.id);
  return other === undefined ? undefined : `MCP-MQTT-CLIENT-ID '${other}' is not the publisher's client id`;
}

/** A topic filter as levels (`$share/{group}/` already removed). */
export type FilterLevels = readonly string[];

/**
 * True when every topic `filter` can match is also matched by `grant`. Both are valid MQTT filters, split
 * into levels. A `+` in the filter is only covered by `+` or `#` in the grant, a `#` only by `#`; so a
 * wildcard can never stand where the grant names an identity.
 */
export function filterCovers(grant: FilterLevels, filter: FilterLevels): boolean {
  for (let index = 0; index < filter.length; index++) {
    const granted = grant[index];
    if (granted === undefined) return false;
    if (granted === '#') return true;
    const asked = filter[index];
    if (asked === '#') return false;
    if (granted === '+') continue;
    if (asked !== granted) return false;
  }
  // `a/#` also matches `a` itself.
  return grant.length === filter.length || (grant.length === filter.length + 1 && grant.at(-1) === '#');
}

/** True when some grant covers the filter. */
export function anyGrantCovers(grants: readonly FilterLevels[], filter: string): boolean {
  const levels = filter.split('/');
  return grants.some((grant) => filterCovers(grant, levels));
}
