import {
  mcpClientCapabilityTopic,
  mcpClientPresenceTopic,
  mcpRpcTopic,
  mcpServerCapabilityTopic,
  mcpServerPresenceTopic,
} from '@mqtt-agents/core';
import type { McpServerAddress } from '@mqtt-agents/core';

// The routes the hosts register on their connection. Every filter is derived from a topic that core's
// builders spell (this package never writes the topic roots itself): a placeholder level of a built topic
// is replaced by a wildcard.

/** A valid identifier that only stands in for a level about to become a wildcard. */
const PLACEHOLDER = 'x';

/** `topic` with level `index` (0-based) replaced by `+`, or with `#` from that level on. */
function wildcardAt(topic: string, index: number, wildcard: '+' | '#'): string {
  const levels = topic.split('/');
  if (wildcard === '#') return [...levels.slice(0, index), '#'].join('/');
  levels[index] = '+';
  return levels.join('/');
}

/** Level of the mcp-client-id in an RPC topic and in the client presence and capability topics. */
const RPC_CLIENT_LEVEL = 1;
const CLIENT_TOPIC_ID_LEVEL = 2;
/** Level of the server-id in the server presence and capability topics. */
const SERVER_TOPIC_ID_LEVEL = 2;

/** Server side: every session's RPC topic of one instance (`mcp-rpc/+/{server-id}/{server-name}`). */
export function instanceRpcFilter(server: McpServerAddress): string {
  return wildcardAt(mcpRpcTopic({ ...server, mcpClientId: PLACEHOLDER }), RPC_CLIENT_LEVEL, '+');
}

/** Server side: every client's presence topic. */
export function anyClientPresenceFilter(): string {
  return wildcardAt(mcpClientPresenceTopic(PLACEHOLDER), CLIENT_TOPIC_ID_LEVEL, '+');
}

/** Server side: every client's capability topic. */
export function anyClientCapabilityFilter(): string {
  return wildcardAt(mcpClientCapabilityTopic(PLACEHOLDER), CLIENT_TOPIC_ID_LEVEL, '+');
}

/** Client side: every RPC topic of one mcp-client-id (`mcp-rpc/{mcp-client-id}/#`). */
export function clientRpcFilter(mcpClientId: string): string {
  const topic = mcpRpcTopic({ mcpClientId, serverId: PLACEHOLDER, serverName: PLACEHOLDER });
  return wildcardAt(topic, RPC_CLIENT_LEVEL + 1, '#');
}

/** Client side: every server's capability topic. */
export function anyServerCapabilityFilter(): string {
  const topic = mcpServerCapabilityTopic({ serverId: PLACEHOLDER, serverName: PLACEHOLDER });
  return wildcardAt(topic, SERVER_TOPIC_ID_LEVEL, '#');
}

/** Client side: every server's presence topic (the route; subscriptions use core's presence filter). */
export function anyServerPresenceFilter(): string {
  const topic = mcpServerPresenceTopic({ serverId: PLACEHOLDER, serverName: PLACEHOLDER });
  return wildcardAt(topic, SERVER_TOPIC_ID_LEVEL, '#');
}

/** The per-session topics a server host routes by mcp-client-id. */
export type SessionTopicKind = 'rpc' | 'client-presence' | 'client-capability';

/**
 * The mcp-client-id level of a topic that matched the server host's route of `kind`. The route's filter
 * already fixed the topic's shape, so the level is sliced out without validating the rest.
 */
export function sessionTopicClientId(topic: string, kind: SessionTopicKind): string {
  const index = kind === 'rpc' ? RPC_CLIENT_LEVEL : CLIENT_TOPIC_ID_LEVEL;
  let start = 0;
  for (let level = 0; level < index; level += 1) start = topic.indexOf('/', start) + 1;
  const end = topic.indexOf('/', start);
  return end === -1 ? topic.slice(start) : topic.slice(start, end);
}
