// Topic ACLs that bind the identities in A2A and MCP topics to the MQTT client id, so a client cannot
// impersonate another: the policy production brokers should mirror (EMQX ACL rules, Mosquitto `pattern`
// lines, HiveMQ permissions). Embedded-broker plugin.
//
// Identities are parsed with core's grammar (parseA2aTopic, parseMcpTopic, parseA2aClientId) and compared
// as parsed values; a client id that cannot be the identifier the rules bind it to (`#`, `+`, `a/b` where one
// level is meant, control characters, reserved words) is refused at CONNECT. Subscriptions are allowed only
// when a grant built from the client's own (valid) identity covers the whole filter, so no wildcard can
// stand where an identity belongs.
import {
  A2A_ROOT,
  A2A_VERSION,
  MCP_CLIENT_ROOT,
  MCP_RPC_ROOT,
  MCP_SERVER_ROOT,
  McpUserProperty,
  SenderUserProperty,
  isA2aTopic,
  isMcpTopic,
  isValidIdentifier,
  parseA2aTopic,
  parseMcpTopic,
  printable,
} from '@mqtt-agents/core/grammar';
import type { A2aAgentAddress } from '@mqtt-agents/core/grammar';
import type {
  AuthenticateContext,
  BrokerLogger,
  ClientInfo,
  HookResult,
  PublishProperties,
  PublishedMessage,
  SubscriptionRequest,
  UserProperties,
} from '../types.js';
import {
  CLIENT_IDENTIFIER_NOT_VALID,
  NOT_AUTHORIZED,
  a2aIdentityOf,
  anyGrantCovers,
  clientIdProblem,
  isOperator,
  mcpClaimProblem,
  retainRefused,
  userPropertyValues,
} from './agent-topic-rules.js';
import type { FilterLevels } from './agent-topic-rules.js';
import type { BrokerPlugin } from './plugin.js';

/**
 * Which rules `agentTopicAcl` applies on MCP and A2A topics (how far A2A requests may reach, anonymous
 * discovery) and whether it stamps the verified sender on routed messages.
 */
export interface AgentTopicAclOptions {
  /**
   * How far A2A requests may reach (EIP-0033 policy levels): `trusted` (anywhere), `org` (same org) or
   * `unit` (same org and unit). Default `trusted`.
   */
  a2aScope?: 'trusted' | 'org' | 'unit';
  /** Clients whose id is not `{org}/{unit}/{agent}` may still read discovery (dashboards). Default true. */
  anonymousDiscovery?: boolean;
  /** Apply the MCP rules on `$mcp-*` topics. Default true. */
  mcp?: boolean;
  /** Apply the A2A rules on `$a2a/` topics. Default true. */
  a2a?: boolean;
  /**
   * Stamp the verified sender on every message routed from a client (`SenderUserProperty` of core: the
   * client id, and the principal's name and roles when it authenticated), after removing any copies the
   * client sent. Default true.
   */
  stampSender?: boolean;
  /** Where refusals at CONNECT and of forged properties are reported (info level); default silent. */
  logger?: BrokerLogger;
}

type Settings = Required<Omit<AgentTopicAclOptions, 'logger'>> & { logger: BrokerLogger | undefined };

const SENDER_PROPERTIES: ReadonlySet<string> = new Set(Object.values(SenderUserProperty));

function sameAgent(topic: A2aAgentAddress, identity: A2aAgentAddress): boolean {
  return (
    topic.orgId === identity.orgId && topic.unitId === identity.unitId && topic.agentId === identity.agentId
  );
}

function inScope(
  identity: A2aAgentAddress,
  target: { orgId: string; unitId: string },
  scope: string,
): boolean {
  if (scope === 'trusted') return true;
  if (target.orgId !== identity.orgId) return false;
  return scope === 'org' || target.unitId === identity.unitId;
}

/**
 * A2A publish rules: a client `{org}/{unit}/{agent}` publishes only its own card and events, requests within
 * `a2aScope`, and replies (to whoever asked). Topics that do not parse are refused.
 */
function a2aPublish(client: ClientInfo, topic: string, settings: Settings): HookResult {
  const identity = a2aIdentityOf(client);
  const parsed = parseA2aTopic(topic);
  if (!identity || !parsed) return NOT_AUTHORIZED; // the profile's client id is {org}/{unit}/{agent}
  switch (parsed.kind) {
    case 'discovery':
    case 'event':
      return sameAgent(parsed, identity) ? true : NOT_AUTHORIZED;
    case 'request':
    case 'pool-request':
      return inScope(identity, parsed, settings.a2aScope) ? true : NOT_AUTHORIZED;
    case 'reply':
      return true;
  }
}

/** Where a scope lets an agent read discovery and events: `$a2a/v1/{kind}/#`, `.../{org}/#`, `.../{org}/{unit}/#`. */
function scopedGrant(kind: 'discovery' | 'event', identity: A2aAgentAddress, scope: string): FilterLevels {
  const base = [A2A_ROOT, A2A_VERSION, kind];
  if (scope === 'trusted') return [...base, '#'];
  if (scope === 'org') return [...base, identity.orgId, '#'];
  return [...base, identity.orgId, identity.unitId, '#'];
}

/**
 * A2A subscribe grants: one's own request topic, one's own unit's pools (shared subscriptions only), one's own
 * reply topics; discovery and events within `a2aScope` (discovery also for non-agents when allowed).
 */
function a2aGrants(client: ClientInfo, shared: boolean, settings: Settings): FilterLevels[] {
  const identity = a2aIdentityOf(client);
  if (!identity) return settings.anonymousDiscovery ? [[A2A_ROOT, A2A_VERSION, 'discovery', '#']] : [];
  const { orgId, unitId, agentId } = identity;
  const grants: FilterLevels[] = [
    [A2A_ROOT, A2A_VERSION, 'request', orgId, unitId, agentId],
    [A2A_ROOT, A2A_VERSION, 'reply', orgId, unitId, agentId, '+'],
    scopedGrant('discovery', identity, settings.a2aScope),
    scopedGrant('event', identity, settings.a2aScope),
  ];
  if (shared) grants.push([A2A_ROOT, A2A_VERSION, 'request', orgId, unitId, 'pool', '+']);
  return grants;
}

/** MCP publish rules: `{mcp-client-id}` and `{server-id}` in topics are the publisher's own client id. */
function mcpPublish(client: ClientInfo, message: PublishedMessage): HookResult {
  const parsed = parseMcpTopic(message.topic);
  if (!parsed) return NOT_AUTHORIZED;
  const id = client.id;
  switch (parsed.kind) {
    case 'client-presence':
    case 'client-capability':
      return parsed.mcpClientId === id ? true : NOT_AUTHORIZED;
    case 'server-presence':
    case 'server-capability':
      return parsed.serverId === id ? true : NOT_AUTHORIZED;
    case 'server-control':
      return true; // clients send initialize there
    case 'rpc':
      return parsed.mcpClientId === id || parsed.serverId === id ? true : NOT_AUTHORIZED;
  }
}

/**
 * MCP subscribe grants: RPC topics only as their client or server, a control topic only as its server;
 * presence and capability topics for everyone. Identity grants exist only for a client id that is a valid
 * identifier of the level (so a wildcard id can never become a wildcard grant, even without CONNECT checks).
 */
function mcpGrants(client: ClientInfo): FilterLevels[] {
  const id = client.id;
  const grants: FilterLevels[] = [
    [MCP_SERVER_ROOT, 'presence', '#'],
    [MCP_SERVER_ROOT, 'capability', '#'],
    [MCP_CLIENT_ROOT, '#'], // client presence and capability topics: servers watch their clients
  ];
  if (isValidIdentifier('mcp-client-id', id)) grants.push([MCP_RPC_ROOT, id, '#']);
  if (isValidIdentifier('server-id', id))
    grants.push([MCP_RPC_ROOT, '+', id, '#'], [MCP_SERVER_ROOT, id, '#']);
  return grants;
}

/** What an operator reads: all agent traffic, never through a shared subscription (it would take messages). */
const OPERATOR_GRANTS: readonly FilterLevels[] = [
  [A2A_ROOT, '#'],
  [MCP_SERVER_ROOT, '#'],
  [MCP_CLIENT_ROOT, '#'],
  [MCP_RPC_ROOT, '#'],
];

/** The properties to route with: sender stamped, client copies removed, a missing MCP-MQTT-CLIENT-ID added. */
function rewrite(
  client: ClientInfo,
  message: PublishedMessage,
  settings: Settings,
): PublishProperties | undefined {
  const received = message.properties.userProperties;
  const addClaim =
    settings.mcp &&
    isMcpTopic(message.topic) &&
    userPropertyValues(received, McpUserProperty.MqttClientId).length === 0;
  if (!settings.stampSender && !addClaim) return undefined;
  const userProperties: UserProperties = {};
  for (const [name, value] of Object.entries(received ?? {})) {
    if (!settings.stampSender || !SENDER_PROPERTIES.has(name)) userProperties[name] = value;
  }
  if (addClaim) userProperties[McpUserProperty.MqttClientId] = client.id;
  if (settings.stampSender) {
    userProperties[SenderUserProperty.ClientId] = client.id;
    const principal = client.principal;
    if (principal) {
      userProperties[SenderUserProperty.Principal] = principal.name;
      // Roles travel comma-separated, so a role holding a comma (or nothing) cannot be carried faithfully.
      const roles = principal.roles.filter((role) => role.length > 0 && !role.includes(','));
      if (roles.length > 0) userProperties[SenderUserProperty.Roles] = roles.join(',');
    }
  }
  return { ...message.properties, userProperties };
}

/**
 * The identity-binding topic ACL: `{org}/{unit}/{agent}` in `$a2a/v1/...` and `{mcp-client-id}` /
 * `{server-id}` in `$mcp-...` topics must be the client's own MQTT client id where they name the
 * publisher or the reader; client ids that cannot be such an identifier are refused at CONNECT (0x85);
 * requests, replies and MCP control/RPC messages are never retained; a `MCP-MQTT-CLIENT-ID` that names
 * someone else is refused; principals with the `operator` role read all agent traffic and publish none of it;
 * every routed message carries the verified sender. Other topics are left alone.
 *
 * Compose it after the authentication plugin (so it sees principals) and before plugins that act on
 * accepted messages.
 */
export function agentTopicAcl(options: AgentTopicAclOptions = {}): BrokerPlugin {
  const settings: Settings = {
    a2aScope: options.a2aScope ?? 'trusted',
    anonymousDiscovery: options.anonymousDiscovery ?? true,
    mcp: options.mcp ?? true,
    a2a: options.a2a ?? true,
    stampSender: options.stampSender ?? true,
    logger: options.logger,
  };
  const refuse = (client: ClientInfo, topic: string, why: string): HookResult => {
    settings.logger?.info(
      `mqtt-agents:broker:agent-topic-acl: refused ${printable(client.id)} on ${printable(topic)}: ${why}`,
    );
    return NOT_AUTHORIZED;
  };
  const agentTopic = (topic: string): 'a2a' | 'mcp' | undefined => {
    if (settings.a2a && isA2aTopic(topic)) return 'a2a';
    if (settings.mcp && isMcpTopic(topic)) return 'mcp';
    return undefined;
  };

  return {
    name: 'agent-topic-acl',
    hooks: {
      authenticate: (context: AuthenticateContext) => {
        if (context.assignedClientId || isOperator(context)) return true; // ids nobody's topics name
        const problem = clientIdProblem(context.id, settings);
        if (problem === undefined) return true;
        settings.logger?.info(
          `mqtt-agents:broker:agent-topic-acl: refused client id ${printable(context.id)}: ${problem}`,
        );
        return CLIENT_IDENTIFIER_NOT_VALID;
      },
      authorizePublish: (client: ClientInfo, message: PublishedMessage) => {
        const family = agentTopic(message.topic);
        if (family === undefined) return true;
        if (isOperator(client))
          return refuse(client, message.topic, 'operators publish nothing on agent topics');
        if (message.retain && retainRefused(message.topic)) {
          return refuse(
            client,
            message.topic,
            'requests, replies and mcp control/rpc messages are never retained',
          );
        }
        if (family === 'a2a') return a2aPublish(client, message.topic, settings);
        const claim = mcpClaimProblem(client, message);
        if (claim !== undefined) return refuse(client, message.topic, claim);
        return mcpPublish(client, message);
      },
      authorizeSubscribe: (client: ClientInfo, subscription: SubscriptionRequest) => {
        // `#` and `+` as a first level never match `$` topics, so only agent roots need rules. The filter
        // is the inner one of `$share/{group}/...`.
        const family = agentTopic(subscription.filter);
        if (family === undefined) return true;
        const shared = subscription.shareName !== undefined;
        let grants: readonly FilterLevels[];
        if (isOperator(client)) grants = shared ? [] : OPERATOR_GRANTS;
        else grants = family === 'a2a' ? a2aGrants(client, shared, settings) : mcpGrants(client);
        return anyGrantCovers(grants, subscription.filter) ? true : NOT_AUTHORIZED;
      },
      rewritePublish: (client: ClientInfo, message: PublishedMessage) => rewrite(client, message, settings),
    },
  };
}
