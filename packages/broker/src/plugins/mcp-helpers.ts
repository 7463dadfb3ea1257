// MCP over MQTT helpers as an opt-in plugin of the embedded broker: broker-suggested names and roles in
// CONNACK (`MCP-SERVER-NAME`, `MCP-SERVER-NAME-FILTERS`, `MCP-RBAC`), and role-based access control on RPC
// topics from the roles servers declare in their presence (`meta.rbac.roles`). A refused call gets PUBACK
// 0x87 and, on the RPC topic, a JSON-RPC error that says what the role may not do (EMQX disconnects instead).
import type { Broker, ClientInfo, PublishedMessage, UserProperties } from '../types.js';
import type { BrokerPlugin } from './plugin.js';

/** One role of a server's `meta.rbac.roles`. */
export interface McpRole {
  readonly name: string;
  /** Methods the role may call; `notifications/*` are always allowed. */
  readonly allowed_methods?: readonly string[] | 'all';
  /** Tools `tools/call` may name, or `all`. */
  readonly allowed_tools?: readonly string[] | 'all';
  /** Resources `resources/read`, `/subscribe` and `/unsubscribe` may name, or `all`. */
  readonly allowed_resources?: readonly string[] | 'all';
}

/** A client's role on a server (one entry of `MCP-RBAC`). */
export interface McpRoleAssignment {
  readonly serverName: string;
  readonly roleName: string;
}

export interface McpBrokerHelpersOptions {
  /** The server name to suggest to an MCP server (`MCP-SERVER-NAME` in CONNACK). */
  serverName?: (client: ClientInfo) => string | undefined;
  /** Server-name filters to suggest to an MCP client (`MCP-SERVER-NAME-FILTERS`). */
  serverNameFilters?: (client: ClientInfo) => readonly string[] | undefined;
  /** A client's roles (`MCP-RBAC` in CONNACK, and what RBAC enforces). */
  roles?: (client: ClientInfo) => readonly McpRoleAssignment[] | undefined;
  /** Enforce the roles on `$mcp-rpc/...`. Default true when `roles` is given. */
  enforceRbac?: boolean;
}

/** The JSON-RPC error code of a call RBAC refuses (the A2A/MCP-neutral "invalid request" family). */
export const MCP_RBAC_ERROR_CODE = -32600;

const COMPONENT_TYPE = 'MCP-COMPONENT-TYPE';

function componentType(client: ClientInfo): string | undefined {
  const value = client.userProperties[COMPONENT_TYPE];
  return Array.isArray(value) ? value[0] : value;
}

function allows(list: readonly string[] | 'all' | undefined, value: string | undefined): boolean {
  if (list === 'all') return true;
  return value !== undefined && (list ?? []).includes(value);
}

/** Why `role` may not send `message`, or undefined when it may. */
function denial(
  role: McpRole,
  message: { method: string; params?: Record<string, unknown> },
): string | undefined {
  const { method, params } = message;
  if (method.startsWith('notifications/')) return undefined;
  if (!allows(role.allowed_methods, method)) return `role '${role.name}' may not call ${method}`;
  if (method === 'tools/call') {
    const tool = typeof params?.name === 'string' ? params.name : undefined;
    if (!allows(role.allowed_tools ?? 'all', tool))
      return `role '${role.name}' may not call tool '${tool ?? '?'}'`;
  }
  if (method === 'resources/read' || method === 'resources/subscribe' || method === 'resources/unsubscribe') {
    const uri = typeof params?.uri === 'string' ? params.uri : undefined;
    if (!allows(role.allowed_resources ?? 'all', uri))
      return `role '${role.name}' may not use resource '${uri ?? '?'}'`;
  }
  return undefined;
}

/**
 * The MCP helpers plugin. Use: `const mcp = mcpBrokerHelpers({ ... }); const broker = await startBroker({
 * ...mcp.hooks }); mcp.attach(broker);` (attach learns the servers' roles and answers refused calls).
 */
export function mcpBrokerHelpers(
  options: McpBrokerHelpersOptions = {},
): BrokerPlugin & { attach(broker: Broker): () => void } {
  /** server-id -> roles its presence declares. */
  const serverRoles = new Map<string, readonly McpRole[]>();
  let broker: Broker | undefined;
  const enforce = options.enforceRbac ?? options.roles !== undefined;

  const connackUserProperties = (client: ClientInfo): UserProperties | undefined => {
    const type = componentType(client);
    const properties: UserProperties = {};
    if (type === 'mcp-server') {
      const name = options.serverName?.(client);
      if (name) properties['MCP-SERVER-NAME'] = name;
    } else if (type === 'mcp-client') {
      const filters = options.serverNameFilters?.(client);
      if (filters) properties['MCP-SERVER-NAME-FILTERS'] = JSON.stringify(filters);
      const roles = options.roles?.(client);
      if (roles) {
        properties['MCP-RBAC'] = JSON.stringify(
          roles.map((role) => ({ server_name: role.serverName, role_name: role.roleName })),
        );
      }
    }
    return Object.keys(properties).length > 0 ? properties : undefined;
  };

  const authorizePublish = (client: ClientInfo, message: PublishedMessage) => {
    if (!enforce || !message.topic.startsWith('$mcp-rpc/')) return true as const;
    const [, mcpClientId, serverId, ...nameLevels] = message.topic.split('/');
    if (client.id !== mcpClientId || serverId === undefined) return true as const; // server side, or not a session
    const roles = serverRoles.get(serverId);
    if (!roles || roles.length === 0) return true as const; // the server declares no RBAC
    let body: unknown;
    try {
      body = JSON.parse(message.payload.toString('utf8'));
    } catch {
      return true as const; // not ours to judge; the server answers malformed input
    }
    const request = body as { id?: unknown; method?: unknown; params?: Record<string, unknown> };
    if (typeof request?.method !== 'string') return true as const; // a response to the server
    const serverName = nameLevels.join('/');
    const assigned = options.roles?.(client)?.find((entry) => entry.serverName === serverName);
    const role = roles.find((entry) => entry.name === assigned?.roleName);
    const reason = role
      ? denial(role, { method: request.method, ...(request.params ? { params: request.params } : {}) })
      : `no role on server '${serverName}'`;
    if (reason === undefined) return true as const;
    if (request.id !== undefined && broker && !broker.closed) {
      // Tell the caller in its own protocol (QoS 0 publishers get no PUBACK).
      broker.publish({
        topic: message.topic,
        payload: JSON.stringify({
          jsonrpc: '2.0',
          id: request.id,
          error: { code: MCP_RBAC_ERROR_CODE, message: `forbidden by the broker: ${reason}` },
        }),
        qos: 1,
        properties: {
          contentType: 'application/json',
          userProperties: { 'MCP-COMPONENT-TYPE': 'mcp-server', 'MCP-MQTT-CLIENT-ID': serverId },
        },
      });
    }
    return 0x87;
  };

  return {
    name: 'mcp-helpers',
    hooks: { connackUserProperties, authorizePublish },
    attach(target: Broker): () => void {
      broker = target;
      const onPublish = (message: PublishedMessage): void => {
        if (!message.topic.startsWith('$mcp-server/presence/')) return;
        const serverId = message.topic.split('/')[2];
        if (serverId === undefined) return;
        if (message.payload.length === 0) {
          serverRoles.delete(serverId);
          return;
        }
        try {
          const roles = (
            JSON.parse(message.payload.toString('utf8')) as {
              params?: { meta?: { rbac?: { roles?: unknown } } };
            }
          ).params?.meta?.rbac?.roles;
          if (Array.isArray(roles)) serverRoles.set(serverId, roles as McpRole[]);
          else serverRoles.delete(serverId);
        } catch {
          serverRoles.delete(serverId);
        }
      };
      target.on('message-publish', onPublish);
      return () => {
        target.off('message-publish', onPublish);
        broker = undefined;
      };
    },
  };
}
