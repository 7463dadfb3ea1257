import {
  assertMcpClientId,
  assertServerId,
  assertServerName,
  assertServerNameFilter,
  isValidIdentifier,
} from './identifiers.js';

/** An MCP server instance as topics name it: its MQTT client id and its (possibly multi-level) name. */
export interface McpServerAddress {
  serverId: string;
  serverName: string;
}

/** One session's RPC channel: the client's MQTT client id plus the server instance. */
export interface McpRpcAddress extends McpServerAddress {
  mcpClientId: string;
}

/**
 * Every MCP over MQTT topic, parsed. `server-control` carries `initialize`; `server-capability` carries
 * list-changed and resource-updated notifications; `server-presence` the retained online notification (empty
 * payload = offline); `client-presence` the client's `disconnected` notification (its will);
 * `client-capability` the client's list-changed notifications; `rpc` everything else of a session.
 */
export type McpTopic =
  | ({ kind: 'server-control' } & McpServerAddress)
  | ({ kind: 'server-capability' } & McpServerAddress)
  | ({ kind: 'server-presence' } & McpServerAddress)
  | { kind: 'client-presence'; mcpClientId: string }
  | { kind: 'client-capability'; mcpClientId: string }
  | ({ kind: 'rpc' } & McpRpcAddress);

/**
 * The `kind` of a parsed MCP topic: a server's control, capability or presence topic, a client's presence
 * or capability topic, or an `rpc` topic.
 */
export type McpTopicKind = McpTopic['kind'];

/** What every MCP over MQTT root level starts with; no one else may invent a `$mcp-` root. */
const MCP_ROOT_PREFIX = '$mcp-';
/** `$mcp-server`: the root of server control, capability and presence topics. */
export const MCP_SERVER_ROOT = `${MCP_ROOT_PREFIX}server`;
/** `$mcp-client`: the root of client presence and capability topics. */
export const MCP_CLIENT_ROOT = `${MCP_ROOT_PREFIX}client`;
/** `$mcp-rpc`: the root of session RPC topics. */
export const MCP_RPC_ROOT = `${MCP_ROOT_PREFIX}rpc`;

/** True for any topic under a `$mcp-` root (`$mcp-server`, `$mcp-client`, `$mcp-rpc` or any other). Never throws. */
export function isMcpTopic(topic: string): boolean {
  return typeof topic === 'string' && topic.startsWith(MCP_ROOT_PREFIX);
}

/** `$mcp-server/{server-id}/{server-name}`: the server's control topic; clients send `initialize` here. */
export function mcpServerControlTopic(server: McpServerAddress): string {
  return `${MCP_SERVER_ROOT}/${assertServerId(server.serverId)}/${assertServerName(server.serverName)}`;
}

/** `$mcp-server/capability/{server-id}/{server-name}`: the server's capability change topic. */
export function mcpServerCapabilityTopic(server: McpServerAddress): string {
  return `${MCP_SERVER_ROOT}/capability/${assertServerId(server.serverId)}/${assertServerName(server.serverName)}`;
}

/** `$mcp-server/presence/{server-id}/{server-name}`: the server's retained presence topic and its will topic. */
export function mcpServerPresenceTopic(server: McpServerAddress): string {
  return `${MCP_SERVER_ROOT}/presence/${assertServerId(server.serverId)}/${assertServerName(server.serverName)}`;
}

/** `$mcp-client/presence/{mcp-client-id}`: the client's presence topic and its will topic. */
export function mcpClientPresenceTopic(mcpClientId: string): string {
  return `${MCP_CLIENT_ROOT}/presence/${assertMcpClientId(mcpClientId)}`;
}

/** `$mcp-client/capability/{mcp-client-id}`: the client's capability change topic. */
export function mcpClientCapabilityTopic(mcpClientId: string): string {
  return `${MCP_CLIENT_ROOT}/capability/${assertMcpClientId(mcpClientId)}`;
}

/** `$mcp-rpc/{mcp-client-id}/{server-id}/{server-name}`: one session's requests, responses and notifications. */
export function mcpRpcTopic(address: McpRpcAddress): string {
  return `${MCP_RPC_ROOT}/${assertMcpClientId(address.mcpClientId)}/${assertServerId(address.serverId)}/${assertServerName(address.serverName)}`;
}

/** Build the topic a parsed {@link McpTopic} describes. Throws `INVALID_IDENTIFIER` for invalid ids. */
export function buildMcpTopic(topic: McpTopic): string {
  switch (topic.kind) {
    case 'server-control':
      return mcpServerControlTopic(topic);
    case 'server-capability':
      return mcpServerCapabilityTopic(topic);
    case 'server-presence':
      return mcpServerPresenceTopic(topic);
    case 'client-presence':
      return mcpClientPresenceTopic(topic.mcpClientId);
    case 'client-capability':
      return mcpClientCapabilityTopic(topic.mcpClientId);
    case 'rpc':
      return mcpRpcTopic(topic);
  }
}

/**
 * `$mcp-server/presence/+/{server-name-filter}`: what a client subscribes to for discovery. The default
 * filter `#` sees every server; a broker-suggested filter (CONNACK `MCP-SERVER-NAME-FILTERS`) narrows it.
 */
export function mcpServerPresenceFilter(serverNameFilter = '#'): string {
  return `${MCP_SERVER_ROOT}/presence/+/${assertServerNameFilter(serverNameFilter)}`;
}

/**
 * `$mcp-server/capability/{server-id}/{server-name-filter}`: a client's subscription to one server
 * instance's capability changes. A plain server name is a valid filter.
 */
export function mcpServerCapabilityFilter(options: { serverId: string; serverNameFilter: string }): string {
  return `${MCP_SERVER_ROOT}/capability/${assertServerId(options.serverId)}/${assertServerNameFilter(options.serverNameFilter)}`;
}

/**
 * `$mcp-rpc/{mcp-client-id}/{server-id}/{server-name-filter}`: a client's RPC subscription for a session
 * (subscribe with No Local). A plain server name is a valid filter.
 */
export function mcpRpcFilter(options: {
  mcpClientId: string;
  serverId: string;
  serverNameFilter: string;
}): string {
  return `${MCP_RPC_ROOT}/${assertMcpClientId(options.mcpClientId)}/${assertServerId(options.serverId)}/${assertServerNameFilter(options.serverNameFilter)}`;
}

/**
 * `$mcp-rpc/+/{server-id}/{server-name}`: every session's RPC topic of one server instance, whichever client
 * opened it (the server host's route).
 */
export function mcpInstanceRpcFilter(server: McpServerAddress): string {
  return `${MCP_RPC_ROOT}/+/${assertServerId(server.serverId)}/${assertServerName(server.serverName)}`;
}

/** `$mcp-rpc/{mcp-client-id}/#`: every RPC topic of one client, with any server (the client host's route). */
export function mcpClientRpcFilter(mcpClientId: string): string {
  return `${MCP_RPC_ROOT}/${assertMcpClientId(mcpClientId)}/#`;
}

/** `$mcp-client/presence/+`: every client's presence topic. */
export function mcpAnyClientPresenceFilter(): string {
  return `${MCP_CLIENT_ROOT}/presence/+`;
}

/** `$mcp-client/capability/+`: every client's capability change topic. */
export function mcpAnyClientCapabilityFilter(): string {
  return `${MCP_CLIENT_ROOT}/capability/+`;
}

/** `$mcp-server/presence/#`: every server's presence topic (a route; subscribe with {@link mcpServerPresenceFilter}). */
export function mcpAnyServerPresenceFilter(): string {
  return `${MCP_SERVER_ROOT}/presence/#`;
}

/** `$mcp-server/capability/#`: every server's capability change topic (a route; subscribe per server). */
export function mcpAnyServerCapabilityFilter(): string {
  return `${MCP_SERVER_ROOT}/capability/#`;
}

function serverTopic(
  kind: 'server-control' | 'server-capability' | 'server-presence',
  levels: string[],
  from: number,
): McpTopic | undefined {
  if (levels.length < from + 2) return undefined;
  const serverId = levels[from] as string;
  const serverName = levels.slice(from + 1).join('/');
  if (!isValidIdentifier('server-id', serverId) || !isValidIdentifier('server-name', serverName))
    return undefined;
  return { kind, serverId, serverName };
}

/**
 * Recognise an MCP over MQTT topic. Returns `undefined` for anything else, including topics whose ids
 * break the identifier rules (so every parsed topic can be built again). Never throws.
 *
 * `$mcp-server/presence/...` and `$mcp-server/capability/...` are read as presence and capability topics;
 * the server ids `presence` and `capability` are reserved for that reason.
 */
export function parseMcpTopic(topic: string): McpTopic | undefined {
  if (!isMcpTopic(topic)) return undefined;
  const levels = topic.split('/');
  switch (levels[0]) {
    case MCP_SERVER_ROOT:
      if (levels[1] === 'presence') return serverTopic('server-presence', levels, 2);
      if (levels[1] === 'capability') return serverTopic('server-capability', levels, 2);
      return serverTopic('server-control', levels, 1);
    case MCP_CLIENT_ROOT: {
      if (levels.length !== 3) return undefined;
      const mcpClientId = levels[2] as string;
      if (!isValidIdentifier('mcp-client-id', mcpClientId)) return undefined;
      if (levels[1] === 'presence') return { kind: 'client-presence', mcpClientId };
      if (levels[1] === 'capability') return { kind: 'client-capability', mcpClientId };
      return undefined;
    }
    case MCP_RPC_ROOT: {
      if (levels.length < 4) return undefined;
      const mcpClientId = levels[1] as string;
      const serverId = levels[2] as string;
      const serverName = levels.slice(3).join('/');
      if (
        !isValidIdentifier('mcp-client-id', mcpClientId) ||
        !isValidIdentifier('server-id', serverId) ||
        !isValidIdentifier('server-name', serverName)
      ) {
        return undefined;
      }
      return { kind: 'rpc', mcpClientId, serverId, serverName };
    }
    default:
      return undefined;
  }
}
