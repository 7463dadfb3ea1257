// The root levels of the agent topics, taken from core's topic builders (the one grammar) rather than
// spelled here. Core's grammar entry exports builders and parsers but not the roots themselves; once it
// does (see docs/decisions/0004-policy-plugins-stay-in-broker.md), these become plain re-exports.
import { buildA2aTopic, buildMcpTopic } from '@mqtt-agents/core/grammar';

/** A valid identifier of every kind, to have core build one topic of each root. */
const ANY_ID = 'x';

/** The first `count` levels of a topic core built. */
function rootLevels(topic: string, count: number): readonly string[] {
  return Object.freeze(topic.split('/', count));
}

const A2A_LEVELS = rootLevels(
  buildA2aTopic({ kind: 'event', orgId: ANY_ID, unitId: ANY_ID, agentId: ANY_ID }),
  2,
);
/** `$a2a`: the A2A root level. */
export const A2A_ROOT = A2A_LEVELS[0] as string;
/** `v1`: the A2A binding version level. */
export const A2A_VERSION = A2A_LEVELS[1] as string;
/** `$mcp-server`, `$mcp-client`, `$mcp-rpc`. */
export const MCP_SERVER_ROOT = rootLevels(
  buildMcpTopic({ kind: 'server-presence', serverId: ANY_ID, serverName: ANY_ID }),
  1,
)[0] as string;
export const MCP_CLIENT_ROOT = rootLevels(
  buildMcpTopic({ kind: 'client-presence', mcpClientId: ANY_ID }),
  1,
)[0] as string;
export const MCP_RPC_ROOT = rootLevels(
  buildMcpTopic({ kind: 'rpc', mcpClientId: ANY_ID, serverId: ANY_ID, serverName: ANY_ID }),
  1,
)[0] as string;

/** What every MCP root starts with (`$mcp-`): the longest common prefix of the three. */
const MCP_ROOT_PREFIX = [MCP_CLIENT_ROOT, MCP_RPC_ROOT].reduce((prefix, root) => {
  let length = 0;
  while (length < prefix.length && prefix[length] === root[length]) length++;
  return prefix.slice(0, length);
}, MCP_SERVER_ROOT);

/** `$a2a/v1/discovery/`: where agent cards are retained. */
export const A2A_DISCOVERY_PREFIX = `${A2A_ROOT}/${A2A_VERSION}/discovery/`;

export function isA2aTopic(topic: string): boolean {
  return topic.startsWith(`${A2A_ROOT}/`);
}

/** `$mcp-server`, `$mcp-client`, `$mcp-rpc`, or any other `$mcp-` root (none of them is anyone's to invent). */
export function isMcpTopic(topic: string): boolean {
  return topic.startsWith(MCP_ROOT_PREFIX);
}
