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

export type McpTopicKind = McpTopic['kind'];

const SERVER_ROOT = '$mcp-server';
const CLIENT_ROOT = '$mcp-client';
const RPC_ROOT = '$mcp-rpc';

/** `$mcp-server/{server-id}/{server-name}`: the server's control topic; clients send `initialize` here. */
export function mcpServerControlTopic(server: McpServerAddress): string {
  return `${SERVER_ROOT}/${assertServerId(server.serverId)}/${assertServerName(server.serverName)}`;
}

/** `$mcp-server/capability/{server-id}/{server-name}`: the server's capability change topic. */
export function mcpServerCapabilityTopic(server: McpServerAddress): string {
  return `${SERVER_ROOT}/capability/${assertServerId(server.serverId)}/${assertServerName(server.serverName)}`;
}

/** `$mcp-server/presence/{server-id}/{server-name}`: the server's retained presence topic and its will topic. */
export function mcpServerPresenceTopic(server: McpServerAddress): string {
  return `${SERVER_ROOT}/presence/${assertServerId(server.serverId)}/${assertServerName(server.serverName)}`;
}

/** `$mcp-client/presence/{mcp-client-id}`: the client's presence topic and its will topic. */
export function mcpClientPresenceTopic(mcpClientId: string): string {
  return `${CLIENT_ROOT}/presence/${assertMcpClientId(mcpClientId)}`;
}

/** `$mcp-client/capability/{mcp-client-id}`: the client's capability change topic. */
export function mcpClientCapabilityTopic(mcpClientId: string): string {
  return `${CLIENT_ROOT}/capability/${assertMcpClientId(mcpClientId)}`;
}

/** `$mcp-rpc/{mcp-client-id}/{server-id}/{server-name}`: one session's requests, responses and notifications. */
export function mcpRpcTopic(address: McpRpcAddress): string {
  return `${RPC_ROOT}/${assertMcpClientId(address.mcpClientId)}/${assertServerId(address.serverId)}/${assertServerName(address.serverName)}`;
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
  return `${SERVER_ROOT}/presence/+/${assertServerNameFilter(serverNameFilter)}`;
}

/**
 * `$mcp-server/capability/{server-id}/{server-name-filter}`: a client's subscription to one server
 * instance's capability changes. A plain server name is a valid filter.
 */
export function mcpServerCapabilityFilter(options: { serverId: string; serverNameFilter: string }): string {
  return `${SERVER_ROOT}/capability/${assertServerId(options.serverId)}/${assertServerNameFilter(options.serverNameFilter)}`;
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
  return `${RPC_ROOT}/${assertMcpClientId(options.mcpClientId)}/${assertServerId(options.serverId)}/${assertServerNameFilter(options.serverNameFilter)}`;
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
  if (typeof topic !== 'string' || !topic.startsWith('$mcp-')) return undefined;
  const levels = topic.split('/');
  switch (levels[0]) {
    case SERVER_ROOT:
      if (levels[1] === 'presence') return serverTopic('server-presence', levels, 2);
      if (levels[1] === 'capability') return serverTopic('server-capability', levels, 2);
      return serverTopic('server-control', levels, 1);
    case CLIENT_ROOT: {
      if (levels.length !== 3) return undefined;
      const mcpClientId = levels[2] as string;
      if (!isValidIdentifier('mcp-client-id', mcpClientId)) return undefined;
      if (levels[1] === 'presence') return { kind: 'client-presence', mcpClientId };
      if (levels[1] === 'capability') return { kind: 'client-capability', mcpClientId };
      return undefined;
    }
    case RPC_ROOT: {
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
