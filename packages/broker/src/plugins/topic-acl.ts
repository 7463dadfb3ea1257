// Topic ACLs that bind the identities in A2A and MCP topics to the MQTT client id, so a client cannot
// impersonate another: the policy production brokers should mirror (EMQX ACL rules, Mosquitto `pattern`
// lines, HiveMQ permissions). Embedded-broker plugin.
import type { ClientInfo, HookResult, PublishedMessage, SubscriptionRequest } from '../types.js';
import type { BrokerPlugin } from './plugin.js';

const NOT_AUTHORIZED = 0x87;
const IDENTIFIER = /^[A-Za-z0-9_.-]+$/;

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
}

interface A2aIdentity {
  org: string;
  unit: string;
  agent: string;
}

function a2aIdentity(clientId: string): A2aIdentity | undefined {
  const levels = clientId.split('/');
  if (levels.length !== 3 || !levels.every((level) => IDENTIFIER.test(level))) return undefined;
  const [org, unit, agent] = levels as [string, string, string];
  return { org, unit, agent };
}

/** True when a filter level is exactly `value` (no wildcard that could reach someone else). */
function is(level: string | undefined, value: string): boolean {
  return level === value;
}

function inScope(
  identity: A2aIdentity,
  org: string | undefined,
  unit: string | undefined,
  scope: string,
): boolean {
  if (scope === 'trusted') return true;
  if (!is(org, identity.org)) return false;
  return scope === 'org' || is(unit, identity.unit);
}

/**
 * A2A publish rules: a client `{org}/{unit}/{agent}` publishes only its own card and events, requests within
 * `a2aScope`, and replies (to whoever asked).
 */
function a2aPublish(client: ClientInfo, topic: string, options: Required<AgentTopicAclOptions>): HookResult {
  const identity = a2aIdentity(client.id);
  if (!identity) return NOT_AUTHORIZED; // the profile's client id is {org}/{unit}/{agent}
  const [, , kind, org, unit, agent] = topic.split('/');
  const own = is(org, identity.org) && is(unit, identity.unit) && is(agent, identity.agent);
  switch (kind) {
    case 'discovery':
    case 'event':
      return own ? true : NOT_AUTHORIZED;
    case 'request':
      return inScope(identity, org, unit, options.a2aScope) ? true : NOT_AUTHORIZED;
    case 'reply':
      return true;
    default:
      return NOT_AUTHORIZED;
  }
}

/**
 * A2A subscribe rules: only one's own request topic, one's own pools (same org and unit), one's own reply
 * topics; discovery and events within `a2aScope` (discovery also for non-agents when allowed).
 */
function a2aSubscribe(
  client: ClientInfo,
  subscription: SubscriptionRequest,
  options: Required<AgentTopicAclOptions>,
): HookResult {
  const identity = a2aIdentity(client.id);
  const [, , kind, org, unit, agent, rest] = subscription.filter.split('/');
  if (kind === 'discovery' && (identity === undefined ? options.anonymousDiscovery : true)) {
    return identity === undefined || inScope(identity, org, unit, options.a2aScope) ? true : NOT_AUTHORIZED;
  }
  if (!identity) return NOT_AUTHORIZED;
  const own = is(org, identity.org) && is(unit, identity.unit);
  switch (kind) {
    case 'request':
      if (agent === 'pool' && rest !== undefined)
        return own && subscription.shareName !== undefined ? true : NOT_AUTHORIZED;
      return own && is(agent, identity.agent) ? true : NOT_AUTHORIZED;
    case 'reply':
      return own && is(agent, identity.agent) ? true : NOT_AUTHORIZED;
    case 'event':
      return inScope(identity, org, unit, options.a2aScope) ? true : NOT_AUTHORIZED;
    default:
      return NOT_AUTHORIZED;
  }
}

/** MCP publish rules: `{mcp-client-id}` and `{server-id}` in topics are the publisher's own client id. */
function mcpPublish(client: ClientInfo, topic: string): HookResult {
  const levels = topic.split('/');
  const id = client.id;
  switch (levels[0]) {
    case '$mcp-client': // presence / capability of {mcp-client-id}
      return is(levels[2], id) ? true : NOT_AUTHORIZED;
    case '$mcp-server':
      if (levels[1] === 'presence' || levels[1] === 'capability')
        return is(levels[2], id) ? true : NOT_AUTHORIZED;
      return true; // a server's control topic: clients send initialize there
    case '$mcp-rpc': // $mcp-rpc/{mcp-client-id}/{server-id}/{server-name}
      return is(levels[1], id) || is(levels[2], id) ? true : NOT_AUTHORIZED;
    default:
      return true;
  }
}

/** MCP subscribe rules: RPC topics only as their client or server, a control topic only as its server. */
function mcpSubscribe(client: ClientInfo, subscription: SubscriptionRequest): HookResult {
  const levels = subscription.filter.split('/');
  const id = client.id;
  switch (levels[0]) {
    case '$mcp-rpc':
      return is(levels[1], id) || is(levels[2], id) ? true : NOT_AUTHORIZED;
    case '$mcp-server':
      if (levels[1] === 'presence' || levels[1] === 'capability') return true;
      return is(levels[1], id) ? true : NOT_AUTHORIZED;
    default:
      return true; // client presence and capability topics: servers watch their clients
  }
}

/**
 * The identity-binding topic ACL: `{org}/{unit}/{agent}` in `$a2a/v1/...` and `{mcp-client-id}` /
 * `{server-id}` in `$mcp-...` topics must be the client's own MQTT client id where they name the
 * publisher or the reader. Other topics are left alone.
 */
export function agentTopicAcl(options: AgentTopicAclOptions = {}): BrokerPlugin {
  const settings: Required<AgentTopicAclOptions> = {
    a2aScope: options.a2aScope ?? 'trusted',
    anonymousDiscovery: options.anonymousDiscovery ?? true,
    mcp: options.mcp ?? true,
    a2a: options.a2a ?? true,
  };
  return {
    name: 'agent-topic-acl',
    hooks: {
      authorizePublish: (client: ClientInfo, message: PublishedMessage) => {
        if (settings.a2a && message.topic.startsWith('$a2a/'))
          return a2aPublish(client, message.topic, settings);
        if (settings.mcp && message.topic.startsWith('$mcp-')) return mcpPublish(client, message.topic);
        return true;
      },
      authorizeSubscribe: (client: ClientInfo, subscription: SubscriptionRequest) => {
        if (settings.a2a && subscription.filter.startsWith('$a2a/'))
          return a2aSubscribe(client, subscription, settings);
        if (settings.mcp && subscription.filter.startsWith('$mcp-'))
          return mcpSubscribe(client, subscription);
        return true; // `#` and `+` never match `$` topics
      },
    },
  };
}
