import { decodeJson } from '@mqtt-agents/core';

/** One role of a server's RBAC description, as published in its presence (`meta.rbac.roles`). */
export interface McpRbacRole {
  name: string;
  description?: string;
  allowed_methods?: string[];
  allowed_tools?: string[] | 'all';
  allowed_resources?: string[] | 'all';
  [member: string]: unknown;
}

/** The roles a server describes in its presence, for clients and for brokers that enforce them. */
export interface McpServerRbac {
  roles: McpRbacRole[];
}

/** One online MCP server instance, as a client sees it on the presence topic. */
export interface McpServerInstance {
  /** The instance's MQTT client id, from the topic. */
  readonly serverId: string;
  /** The server name, from the topic (never from the payload). */
  readonly serverName: string;
  /** The short description from the presence notification (`''` when absent). */
  readonly description: string;
  /** `params.meta` of the presence notification (`{}` when absent). */
  readonly meta: Readonly<Record<string, unknown>>;
  /** `meta.rbac` when the server describes roles. */
  readonly rbac: McpServerRbac | undefined;
  /**
   * `meta.draining === true`: the instance is being drained (`host.drain()`). It takes no new sessions;
   * clients move their sessions to another instance before it leaves.
   */
  readonly draining: boolean;
}

export const SERVER_ONLINE_METHOD = 'notifications/server/online';

/** The `notifications/server/online` payload a server publishes, retained, on its presence topic. */
export function serverOnlineNotification(options: {
  serverName: string;
  description: string;
  meta?: Record<string, unknown> | undefined;
  rbac?: McpServerRbac | undefined;
}): { jsonrpc: '2.0'; method: string; params: Record<string, unknown> } {
  const meta: Record<string, unknown> = { ...(options.meta ?? {}) };
  if (options.rbac) meta.rbac = options.rbac;
  return {
    jsonrpc: '2.0',
    method: SERVER_ONLINE_METHOD,
    params: { server_name: options.serverName, description: options.description, meta },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readRbac(meta: Record<string, unknown>): McpServerRbac | undefined {
  const rbac = meta.rbac;
  if (!isRecord(rbac) || !Array.isArray(rbac.roles)) return undefined;
  const roles = rbac.roles.filter(
    (role: unknown): role is McpRbacRole => isRecord(role) && typeof role.name === 'string',
  );
  return { roles };
}

export type PresenceReading =
  { kind: 'offline' } | { kind: 'online'; instance: McpServerInstance } | { kind: 'invalid'; reason: string };

/**
 * Read a message on `$mcp-server/presence/{server-id}/{server-name}`. An empty payload, retained or not,
 * means offline. Server id and name come from the topic; missing fields are tolerated.
 */
export function readServerPresence(
  address: { serverId: string; serverName: string },
  payload: Uint8Array,
): PresenceReading {
  if (payload.byteLength === 0) return { kind: 'offline' };
  const decoded = decodeJson(payload, { maxBytes: 256 * 1024 });
  if (!decoded.ok) return { kind: 'invalid', reason: decoded.error.message };
  const value = decoded.value;
  if (!isRecord(value)) return { kind: 'invalid', reason: 'presence payload is not a json object' };
  if (value.method !== SERVER_ONLINE_METHOD) {
    // `notifications/disconnected` on a presence topic is read as offline too; anything else is garbage.
    if (value.method === 'notifications/disconnected') return { kind: 'offline' };
    return { kind: 'invalid', reason: `unexpected presence method ${JSON.stringify(value.method ?? null)}` };
  }
  const params = isRecord(value.params) ? value.params : {};
  const meta = isRecord(params.meta) ? params.meta : {};
  return {
    kind: 'online',
    instance: {
      serverId: address.serverId,
      serverName: address.serverName,
      description: typeof params.description === 'string' ? params.description : '',
      meta,
      rbac: readRbac(meta),
      draining: meta.draining === true,
    },
  };
}
