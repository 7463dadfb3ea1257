import type { User } from '@a2a-js/sdk/server';
import { SenderUserProperty, getUserProperty, parseA2aTopic } from '@mqtt-agents/core';
import type { MqttPublishProperties } from '@mqtt-agents/core';

/**
 * Who published a request, as the broker verified it: the `mqtt-agents-sender-*` user properties an
 * identity-binding broker (the embedded broker's `agentTopicAcl`) stamps on every routed message after
 * removing any copy the client sent. Read only with `trustBrokerIdentity: true`.
 */
export interface BrokerSender {
  /** The publisher's MQTT client id. */
  readonly clientId: string;
  /** The credential the broker authenticated the publisher with, when it authenticates. */
  readonly principal?: string;
  /** The principal's roles. */
  readonly roles: readonly string[];
}

/**
 * The caller of a request as `requestContext.context.user` shows it when the agent trusts the broker's
 * identity stamps (`trustBrokerIdentity: true`) and no bearer token was validated. `userName` is the client
 * id (so the SDK's task store scopes tasks per requester); `isAuthenticated` is true only when the broker
 * stamped a principal, that is when it authenticated a credential and did not just bind a client id.
 */
export class BrokerIdentityUser implements User {
  readonly clientId: string;
  readonly principal: string | undefined;
  readonly roles: readonly string[];
  constructor(sender: BrokerSender) {
    this.clientId = sender.clientId;
    this.principal = sender.principal;
    this.roles = sender.roles;
  }
  get isAuthenticated(): boolean {
    return this.principal !== undefined;
  }
  get userName(): string {
    return this.clientId;
  }
}

/** The broker-stamped sender of a request; `undefined` when the message carries no stamp. */
export function readBrokerSender(properties: MqttPublishProperties): BrokerSender | undefined {
  const clientId = getUserProperty(properties, SenderUserProperty.ClientId);
  if (clientId === undefined || clientId === '') return undefined;
  const principal = getUserProperty(properties, SenderUserProperty.Principal);
  const roles = (getUserProperty(properties, SenderUserProperty.Roles) ?? '')
    .split(',')
    .map((role) => role.trim())
    .filter((role) => role !== '');
  return { clientId, ...(principal === undefined || principal === '' ? {} : { principal }), roles };
}

/**
 * The identity duplicate detection charges a request to, never a value the client picks freely: the
 * broker-stamped sender when it is trusted, else the `{org}/{unit}/{agent}` of a profile reply topic (only
 * that agent's client may subscribe to it under the profile's ACL; a client may still name another's reply
 * topic, spending that requester's budget without ever reading the answers), else the Response Topic itself
 * (only for reply topics opened with `allowedReplyTopics`).
 */
export function requesterKey(sender: BrokerSender | undefined, responseTopic: string): string {
  if (sender) return `sender:${sender.clientId}`;
  const reply = parseA2aTopic(responseTopic);
  if (reply?.kind === 'reply') return `reply:${reply.orgId}/${reply.unitId}/${reply.agentId}`;
  return `topic:${responseTopic}`;
}

/** True for `$a2a/v1/reply/{org}/{unit}/{agent}/{suffix}` with valid identifiers. */
export function isProfileReplyTopic(topic: string): boolean {
  return parseA2aTopic(topic)?.kind === 'reply';
}
