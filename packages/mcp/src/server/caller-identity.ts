import { SenderUserProperty, getUserProperty } from '@mqtt-agents/core';
import type { MqttMessage } from '@mqtt-agents/core';
import type { MessageExtraInfo } from '../json-rpc-types.js';

/** The SDK's `AuthInfo` (what tool handlers read as `extra.authInfo`). */
type AuthInfo = NonNullable<MessageExtraInfo['authInfo']>;

/**
 * Who sent a message to a server host, as far as the host can tell. Tool handlers see it as
 * `extra.authInfo` (`clientId` and `extra`), `createServer` as `session.caller`.
 */
export interface McpCallerIdentity {
  /** The session's mcp-client-id: the topic's, cross-checked with `MCP-MQTT-CLIENT-ID`. */
  readonly mcpClientId: string;
  /**
   * `'broker'`: the broker stamped the sender (`trustBrokerIdentity: true`) and it matched. `'topic'`: the
   * id comes from the topic alone; it is the sender only where a broker ACL binds `$mcp-rpc/{id}/...` to
   * the MQTT client id `{id}`.
   */
  readonly verifiedBy: 'broker' | 'topic';
  /** The MQTT client id the broker stamped (`verifiedBy: 'broker'` only). */
  readonly mqttClientId?: string;
  /** The authenticated principal (credential name) the broker stamped, when it authenticates. */
  readonly principal?: string;
  /** The principal's roles as the broker stamped them; empty otherwise. */
  readonly roles: readonly string[];
}

/** The sender identity a stamping broker put on a message, or undefined when it carries none. */
export interface StampedSender {
  readonly clientId: string;
  readonly principal: string | undefined;
  readonly roles: readonly string[];
}

/** Read the `mqtt-agents-sender-*` properties of a message (only meaningful on a broker that stamps them). */
export function stampedSender(message: Pick<MqttMessage, 'properties'>): StampedSender | undefined {
  const clientId = getUserProperty(message.properties, SenderUserProperty.ClientId);
  if (clientId === undefined) return undefined;
  const principal = getUserProperty(message.properties, SenderUserProperty.Principal);
  const roles = getUserProperty(message.properties, SenderUserProperty.Roles);
  return {
    clientId,
    principal: principal === undefined || principal === '' ? undefined : principal,
    roles:
      roles === undefined
        ? []
        : roles
            .split(',')
            .map((role) => role.trim())
            .filter((role) => role.length > 0),
  };
}

/** The caller of a session whose mcp-client-id comes from the topic only. */
export function topicCaller(mcpClientId: string): McpCallerIdentity {
  return Object.freeze({ mcpClientId, verifiedBy: 'topic' as const, roles: Object.freeze([]) });
}

/** The caller of a session whose sender the broker stamped. */
export function brokerCaller(mcpClientId: string, sender: StampedSender): McpCallerIdentity {
  return Object.freeze({
    mcpClientId,
    verifiedBy: 'broker' as const,
    mqttClientId: sender.clientId,
    ...(sender.principal === undefined ? {} : { principal: sender.principal }),
    roles: Object.freeze([...sender.roles]),
  });
}

/**
 * The SDK's `AuthInfo` for a caller. MQTT has no bearer token here, so `token` is always `''` (never a
 * secret) and `scopes` is empty (broker roles are not OAuth scopes: read them from `extra.roles`).
 */
export function callerAuthInfo(caller: McpCallerIdentity): AuthInfo {
  return {
    token: '',
    clientId: caller.mcpClientId,
    scopes: [],
    extra: {
      mqttClientId: caller.mqttClientId ?? caller.mcpClientId,
      ...(caller.principal === undefined ? {} : { principal: caller.principal }),
      roles: [...caller.roles],
      verifiedBy: caller.verifiedBy,
    },
  };
}

/** Same identity (principal and roles): the session can keep the `AuthInfo` it made before. */
export function sameCaller(caller: McpCallerIdentity, sender: StampedSender): boolean {
  return (
    caller.mqttClientId === sender.clientId &&
    caller.principal === sender.principal &&
    caller.roles.length === sender.roles.length &&
    caller.roles.every((role, index) => role === sender.roles[index])
  );
}

/**
 * The caller identity a host put into an `AuthInfo` (`callerAuthInfo`), read back; undefined for an
 * `AuthInfo` that did not come from a server host of this package (another transport, or none).
 */
export function callerFromAuthInfo(authInfo: AuthInfo | undefined): McpCallerIdentity | undefined {
  const extra = authInfo?.extra;
  if (authInfo === undefined || extra === undefined) return undefined;
  const verifiedBy = extra.verifiedBy;
  if (verifiedBy !== 'broker' && verifiedBy !== 'topic') return undefined;
  const roles = Array.isArray(extra.roles) ? extra.roles.filter((role) => typeof role === 'string') : [];
  if (verifiedBy === 'topic') return topicCaller(authInfo.clientId);
  return Object.freeze({
    mcpClientId: authInfo.clientId,
    verifiedBy,
    ...(typeof extra.mqttClientId === 'string' ? { mqttClientId: extra.mqttClientId } : {}),
    ...(typeof extra.principal === 'string' ? { principal: extra.principal } : {}),
    roles: Object.freeze(roles as string[]),
  });
}
