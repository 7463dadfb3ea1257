// MCP over MQTT helpers as an opt-in plugin of the embedded broker: broker-suggested names and roles in
// CONNACK (`MCP-SERVER-NAME`, `MCP-SERVER-NAME-FILTERS`, `MCP-RBAC`), and role-based access control on RPC
// topics from the roles servers declare in their presence (`meta.rbac.roles`). A refused call gets PUBACK
// 0x87 and, on the RPC topic, a JSON-RPC error that says what the role may not do (EMQX disconnects instead).
//
// RBAC judges payloads with core's canonical decoder (`decodeJsonRpcPayload`), the one the MCP hosts act
// on: the same BOM handling, the same batch splitting, the same size and depth limits. What it cannot
// classify it refuses (0x99). It also binds identities itself, so it holds without `agentTopicAcl`: only
// `{mcp-client-id}` or `{server-id}` may publish on `$mcp-rpc/{mcp-client-id}/{server-id}/...`, and only
// `{server-id}` may publish the presence its roles are learned from.
import {
  DEFAULT_MAX_JSON_RPC_PAYLOAD_BYTES,
  MCP_RPC_ROOT,
  decodeJson,
  decodeJsonRpcPayload,
  isMcpTopic,
  parseMcpTopic,
  printable,
  unclassifiableJsonRpc,
} from '@mqtt-agents/core/grammar';
import type { JsonRpcId, JsonRpcSingleClassification } from '@mqtt-agents/core/grammar';
import type {
  Broker,
  BrokerLogger,
  ClientInfo,
  HookResult,
  PublishedMessage,
  UserProperties,
} from '../types.js';
import { NOT_AUTHORIZED, mcpClaimProblem, retainRefused } from './agent-topic-rules.js';
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

/**
 * What `mcpBrokerHelpers` suggests to MCP clients and servers in CONNACK, and how it enforces roles
 * (`MCP-RBAC`) on the calls clients make.
 */
export interface McpBrokerHelpersOptions {
  /** The server name to suggest to an MCP server (`MCP-SERVER-NAME` in CONNACK). */
  serverName?: (client: ClientInfo) => string | undefined;
  /** Server-name filters to suggest to an MCP client (`MCP-SERVER-NAME-FILTERS`). */
  serverNameFilters?: (client: ClientInfo) => readonly string[] | undefined;
  /** A client's roles (`MCP-RBAC` in CONNACK, and what RBAC enforces). */
  roles?: (client: ClientInfo) => readonly McpRoleAssignment[] | undefined;
  /**
   * Enforce the roles on `$mcp-rpc/...`, and the identity binding RBAC rests on. Default true when `roles`
   * is given.
   */
  enforceRbac?: boolean;
  /**
   * Largest RPC payload RBAC reads, in bytes; larger ones on a server that declares roles are refused
   * (0x99). Default 16 MiB, the MCP hosts' inbound limit: keep it at least as large as theirs.
   */
  maxPayloadBytes?: number;
  /** Where refusals are reported (info level, wire values escaped); default silent. */
  logger?: BrokerLogger;
}

/** The JSON-RPC error code of a call RBAC refuses (the A2A/MCP-neutral "invalid request" family). */
export const MCP_RBAC_ERROR_CODE = -32600;

/** PUBACK reason codes of the RBAC plugin (only codes MQTT 5 allows in a PUBACK). */
export const MCP_RBAC_REASON = {
  /**
   * A call the role may not make (in a batch: any of its calls), a publish on another client's RPC topic
   * or another server's presence, an `MCP-MQTT-CLIENT-ID` naming someone else, a retained RPC or control
   * message.
   */
  notAuthorized: NOT_AUTHORIZED,
  /**
   * A payload RBAC cannot classify on the RPC topic of a server that declares roles: not JSON (or invalid
   * UTF-8, too large, too deep, a `__proto__` key), not JSON-RPC, an empty batch, an invalid batch item.
   */
  payloadFormatInvalid: 0x99,
} as const;

/** Requests of one refused message that get a JSON-RPC error back, at most (a batch can hold thousands). */
const MAX_REFUSAL_ANSWERS = 64;

const COMPONENT_TYPE = 'MCP-COMPONENT-TYPE';

function componentType(client: ClientInfo): string | undefined {
  const value = client.userProperties[COMPONENT_TYPE];
  return Array.isArray(value) ? value[0] : value;
}

type Allowance = readonly string[] | 'all';

function allows(list: Allowance | undefined, value: string | undefined): boolean {
  if (list === 'all') return true;
  return value !== undefined && (list ?? []).includes(value);
}

/** A role list from a presence, with every allowance as `all` or strings (anything else allows nothing). */
function readRoles(value: unknown): McpRole[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const allowance = (entry: unknown, absent: Allowance | undefined): Allowance | undefined => {
    if (entry === undefined) return absent;
    if (entry === 'all') return 'all';
    return Array.isArray(entry) ? entry.filter((item): item is string => typeof item === 'string') : [];
  };
  return value.flatMap((role: unknown): McpRole[] => {
    if (typeof role !== 'object' || role === null) return [];
    const entry = role as Record<string, unknown>;
    if (typeof entry.name !== 'string') return [];
    const methods = allowance(entry.allowed_methods, undefined);
    const tools = allowance(entry.allowed_tools, 'all');
    const resources = allowance(entry.allowed_resources, 'all');
    return [
      {
        name: entry.name,
        ...(methods === undefined ? {} : { allowed_methods: methods }),
        ...(tools === undefined ? {} : { allowed_tools: tools }),
        ...(resources === undefined ? {} : { allowed_resources: resources }),
      },
    ];
  });
}

type Call = Extract<JsonRpcSingleClassification, { kind: 'request' | 'notification' }>;

function namedParam(call: Call, name: string): string | undefined {
  const params = call.message.params;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  const value = (params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Why `role` may not send `call`, or undefined when it may. Only notifications under `notifications/` are
 * free; a request is always checked, whatever its method is called, and so is a notification that names
 * another method (`tools/call` without an id).
 */
function denial(role: McpRole, call: Call): string | undefined {
  const method = call.message.method;
  if (call.kind === 'notification' && method.startsWith('notifications/')) return undefined;
  if (!allows(role.allowed_methods, method)) return `role '${role.name}' may not call ${method}`;
  if (method === 'tools/call') {
    const tool = namedParam(call, 'name');
    if (!allows(role.allowed_tools ?? 'all', tool))
      return `role '${role.name}' may not call tool '${tool ?? '?'}'`;
  }
  if (method === 'resources/read' || method === 'resources/subscribe' || method === 'resources/unsubscribe') {
    const uri = namedParam(call, 'uri');
    if (!allows(role.allowed_resources ?? 'all', uri))
      return `role '${role.name}' may not use resource '${uri ?? '?'}'`;
  }
  return undefined;
}

/**
 * The MCP helpers plugin. Use: `const mcp = mcpBrokerHelpers({ ... }); const broker = await startBroker({
 * ...mcp.hooks }); mcp.attach(broker);` (attach learns the servers' roles and answers refused calls).
 */
export function mcpBrokerHelpers(options: McpBrokerHelpersOptions = {}): BrokerPlugin & {
  /**
   * Connect the plugin to a running broker: it then learns the servers' roles from their presence and
   * answers refused calls. Returns a function that detaches it.
   */
  attach(broker: Broker): () => void;
} {
  /** server-id -> roles its presence declares. */
  const serverRoles = new Map<string, readonly McpRole[]>();
  let broker: Broker | undefined;
  const enforce = options.enforceRbac ?? options.roles !== undefined;
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_JSON_RPC_PAYLOAD_BYTES;
  const logger = options.logger;

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

  const refuse = (code: number, client: ClientInfo, topic: string, why: string): HookResult => {
    logger?.info(
      `mqtt-agents:broker:mcp-helpers: refused ${printable(client.id)} on ${printable(topic)}: ${why}`,
    );
    return code;
  };

  /** Tell the caller in its own protocol (QoS 0 publishers get no PUBACK). */
  const answer = (topic: string, serverId: string, ids: readonly JsonRpcId[], reason: string): void => {
    if (!broker || broker.closed) return;
    for (const id of ids.slice(0, MAX_REFUSAL_ANSWERS)) {
      broker.publish({
        topic,
        payload: JSON.stringify({
          jsonrpc: '2.0',
          id,
          error: { code: MCP_RBAC_ERROR_CODE, message: `forbidden by the broker: ${reason}` },
        }),
        qos: 1,
        properties: {
          contentType: 'application/json',
          userProperties: { 'MCP-COMPONENT-TYPE': 'mcp-server', 'MCP-MQTT-CLIENT-ID': serverId },
        },
      });
    }
  };

  const judgeRpc = (
    client: ClientInfo,
    message: PublishedMessage,
    address: { serverId: string; serverName: string },
  ): HookResult => {
    const roles = serverRoles.get(address.serverId);
    if (!roles || roles.length === 0) return true; // the server declares no RBAC
    const decoded = decodeJsonRpcPayload(message.payload, { maxBytes: maxPayloadBytes });
    const unclassifiable = unclassifiableJsonRpc(decoded);
    if (unclassifiable !== undefined || !decoded.ok) {
      return refuse(
        MCP_RBAC_REASON.payloadFormatInvalid,
        client,
        message.topic,
        `cannot judge the payload: ${unclassifiable ?? 'not json'}`,
      );
    }
    const calls = decoded.items.filter(
      (item): item is Call => item.kind === 'request' || item.kind === 'notification',
    );
    if (calls.length === 0) return true; // responses and errors to the server
    const assigned = options.roles?.(client)?.find((entry) => entry.serverName === address.serverName);
    const role = roles.find((entry) => entry.name === assigned?.roleName);
    let reason: string | undefined;
    for (const call of calls) {
      reason = role ? denial(role, call) : `no role on server '${address.serverName}'`;
      if (reason !== undefined) break;
    }
    if (reason === undefined) return true;
    const ids = calls.flatMap((call) => (call.kind === 'request' ? [call.message.id] : []));
    const why = decoded.batch ? `the batch holds a call it may not make: ${reason}` : reason;
    answer(message.topic, address.serverId, ids, why);
    return refuse(MCP_RBAC_REASON.notAuthorized, client, message.topic, why);
  };

  const authorizePublish = (client: ClientInfo, message: PublishedMessage): HookResult => {
    if (!enforce || !isMcpTopic(message.topic)) return true;
    const claim = mcpClaimProblem(client, message);
    if (claim !== undefined) return refuse(NOT_AUTHORIZED, client, message.topic, claim);
    if (message.retain && retainRefused(message.topic)) {
      return refuse(NOT_AUTHORIZED, client, message.topic, 'mcp control and rpc messages are never retained');
    }
    const parsed = parseMcpTopic(message.topic);
    if (parsed?.kind === 'server-presence') {
      // The roles come from here: only the server itself may say them.
      return parsed.serverId === client.id
        ? true
        : refuse(NOT_AUTHORIZED, client, message.topic, "another server's presence");
    }
    if (message.topic.split('/', 1)[0] !== MCP_RPC_ROOT) return true;
    if (parsed?.kind !== 'rpc')
      return refuse(NOT_AUTHORIZED, client, message.topic, 'not an rpc topic of the grammar');
    if (client.id === parsed.serverId) return true; // the server side of the session
    if (client.id !== parsed.mcpClientId) {
      return refuse(NOT_AUTHORIZED, client, message.topic, "another client's rpc topic");
    }
    return judgeRpc(client, message, parsed);
  };

  return {
    name: 'mcp-helpers',
    hooks: { connackUserProperties, authorizePublish },
    attach(target: Broker): () => void {
      broker = target;
      const onPublish = (message: PublishedMessage, client: ClientInfo | undefined): void => {
        const parsed = parseMcpTopic(message.topic);
        if (parsed?.kind !== 'server-presence') return;
        // Learn only from the server itself (or the broker); authorizePublish already refused the others.
        if (client !== undefined && client.id !== parsed.serverId) return;
        if (message.payload.length === 0) {
          serverRoles.delete(parsed.serverId);
          return;
        }
        const decoded = decodeJson(message.payload, { maxBytes: maxPayloadBytes });
        const presence = decoded.ok
          ? (decoded.value as { params?: { meta?: { rbac?: { roles?: unknown } } } } | null)
          : undefined;
        const roles = readRoles(presence?.params?.meta?.rbac?.roles);
        if (roles) serverRoles.set(parsed.serverId, roles);
        else serverRoles.delete(parsed.serverId);
      };
      target.on('message-publish', onPublish);
      return () => {
        target.off('message-publish', onPublish);
        broker = undefined;
      };
    },
  };
}
