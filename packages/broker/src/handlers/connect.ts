/**
 * CONNECT: validate, authenticate, take over an existing connection with the same client id, open or
 * resume the session, answer CONNACK, then resend what the resumed session still owes the client.
 */
import { isUtf8 } from 'node:buffer';
import type { IConnectPacket } from 'mqtt-packet';
import { ConnectionStates } from '../connection/client-state.js';
import type { HandlerContext } from './context.js';
import type { ConnackProperties } from '../encoder-control.js';
import { connackUserProperties } from '../hook-calls.js';
import { checkTopicName } from '../topic.js';
import type {
  AuthenticateContext,
  AuthenticateResult,
  ClientInfo,
  ConnectProperties,
  ProtocolVersion,
  PublishProperties,
  QoS,
  UserProperties,
} from '../types.js';
import type { Will } from '../will.js';

const EMPTY_USER_PROPERTIES: UserProperties = Object.freeze({}) as UserProperties;
const EMPTY_PROPERTIES: ConnectProperties = Object.freeze({}) as ConnectProperties;

interface PendingConnect {
  readonly info: ClientInfo;
  readonly assigned: boolean;
  readonly sessionExpiry: number;
  readonly willSpec: Omit<Will, 'client'> | undefined;
}

export function handleConnect(context: HandlerContext, packet: IConnectPacket): void | Promise<void> {
  const settings = context.settings;
  const version = (packet.protocolVersion ?? 4) as ProtocolVersion;
  context.connection.setProtocolVersion(version);

  if ((version === 3) !== (packet.protocolId === 'MQIsdp')) {
    context.connection.refuseConnect(
      0x84,
      `protocol name '${packet.protocolId}' does not match protocol level ${version}`,
    );
    return;
  }

  const properties: ConnectProperties =
    version === 5 ? (packet.properties ?? EMPTY_PROPERTIES) : EMPTY_PROPERTIES;
  if (version === 5) {
    if (properties.receiveMaximum === 0)
      return context.connection.protocolError(0x82, 'receive maximum must not be 0');
    if (properties.maximumPacketSize === 0)
      return context.connection.protocolError(0x82, 'maximum packet size must not be 0');
    if (properties.authenticationMethod !== undefined) {
      context.connection.refuseConnect(0x8c, 'enhanced authentication is not supported');
      return;
    }
  }

  let willSpec: Omit<Will, 'client'> | undefined;
  if (packet.will) {
    const will = packet.will;
    const qos = (will.qos ?? 0) as number;
    if (qos > 2) return context.connection.protocolError(0x81, 'will QoS must not be 3');
    const problem = checkTopicName(will.topic);
    if (problem !== undefined)
      return context.connection.protocolError(problem, `invalid will topic '${will.topic}'`);
    if (qos > settings.maximumQos) {
      context.connection.refuseConnect(0x9b, `will QoS ${qos} is not supported`);
      return;
    }
    const payload = typeof will.payload === 'string' ? Buffer.from(will.payload) : will.payload;
    const willProperties = will.properties ?? {};
    if (willProperties.payloadFormatIndicator && !isUtf8(payload)) {
      context.connection.refuseConnect(
        0x99,
        'will payload is not UTF-8 although its payload format indicator says so',
      );
      return;
    }
    const forwarded: PublishProperties = {};
    if (willProperties.payloadFormatIndicator !== undefined) {
      forwarded.payloadFormatIndicator = willProperties.payloadFormatIndicator;
    }
    if (willProperties.messageExpiryInterval !== undefined) {
      forwarded.messageExpiryInterval = willProperties.messageExpiryInterval;
    }
    if (willProperties.contentType !== undefined) forwarded.contentType = willProperties.contentType;
    if (willProperties.responseTopic !== undefined) forwarded.responseTopic = willProperties.responseTopic;
    if (willProperties.correlationData !== undefined)
      forwarded.correlationData = willProperties.correlationData;
    if (willProperties.userProperties !== undefined) forwarded.userProperties = willProperties.userProperties;
    willSpec = {
      topic: will.topic,
      payload,
      qos: qos as QoS,
      retain: will.retain === true,
      properties: forwarded,
      delay: willProperties.willDelayInterval ?? 0,
    };
  }

  const cleanStart = packet.clean !== false;
  let clientId = packet.clientId ?? '';
  let assigned = false;
  if (clientId.length === 0) {
    if (version < 5 && !cleanStart) {
      context.connection.refuseConnect(0x85, 'an empty client id needs a clean session');
      return;
    }
    clientId = context.sessions.assignClientId();
    assigned = true;
  }

  let sessionExpiry: number;
  if (version === 5) {
    context.client.requestedSessionExpiry = properties.sessionExpiryInterval ?? 0;
    sessionExpiry = Math.min(context.client.requestedSessionExpiry, settings.maximumSessionExpiryInterval);
  } else {
    sessionExpiry = cleanStart ? 0 : settings.maximumSessionExpiryInterval;
    context.client.requestedSessionExpiry = sessionExpiry;
  }

  const info: ClientInfo = Object.freeze({
    id: clientId,
    username: packet.username,
    protocolVersion: version,
    cleanStart,
    keepAlive: settings.serverKeepAlive ?? packet.keepalive ?? 0,
    properties,
    userProperties: properties.userProperties ?? EMPTY_USER_PROPERTIES,
    remoteAddress: context.client.remoteAddress,
    transport: context.client.transport,
    principal: undefined,
  });
  const pending: PendingConnect = { info, assigned, sessionExpiry, willSpec };

  const authenticate = context.hooks.authenticate;
  if (!authenticate) return finishConnect(context, pending, true);
  const request: AuthenticateContext = Object.freeze({
    ...info,
    password: packet.password,
    assignedClientId: assigned,
    peerCertificate: context.client.peerCertificate,
  });
  let verdict: AuthenticateResult | Promise<AuthenticateResult>;
  try {
    verdict = authenticate(request);
  } catch (error) {
    return hookFailed(context, error);
  }
  if (verdict instanceof Promise || typeof (verdict as { then?: unknown }).then === 'function') {
    return Promise.resolve(verdict).then(
      (result) => finishConnect(context, pending, result),
      (error: unknown) => hookFailed(context, error),
    );
  }
  return finishConnect(context, pending, verdict as AuthenticateResult);
}

function hookFailed(context: HandlerContext, error: unknown): void {
  context.logger.error('mqtt-agents:broker: authenticate hook failed', error);
  context.connection.refuseConnect(0x80, 'authentication failed');
}

function finishConnect(context: HandlerContext, pending: PendingConnect, verdict: AuthenticateResult): void {
  // Still connecting? The socket may have gone while the hook ran.
  if (context.connection.state !== ConnectionStates.CONNECTING) return;
  const principal = typeof verdict === 'object' && verdict !== null ? verdict.principal : undefined;
  if (verdict !== true && principal === undefined) {
    const reasonCode = typeof verdict === 'number' && verdict >= 0x80 ? verdict : 0x87;
    context.connection.refuseConnect(reasonCode);
    return;
  }
  const settings = context.settings;
  const { assigned, sessionExpiry } = pending;
  const info: ClientInfo =
    principal === undefined
      ? pending.info
      : Object.freeze({
          ...pending.info,
          principal: Object.freeze({ ...principal, roles: Object.freeze([...principal.roles]) }),
        });
  const properties = info.properties;
  const clientId = info.id;

  if (info.protocolVersion === 5) {
    context.connection.setClientLimits(properties.receiveMaximum ?? 65535, properties.maximumPacketSize ?? 0);
  }
  context.client.clientId = clientId;
  context.client.info = info;
  context.client.will = pending.willSpec ? { ...pending.willSpec, client: info } : undefined;

  if (context.sessions.quotaReached(clientId)) {
    const reason = `session refused: the broker holds maximumSessions (${settings.maximumSessions})`;
    context.events.reportError(info, new Error(reason));
    context.connection.refuseConnect(0x97, 'the broker holds its maximum number of sessions');
    return;
  }
  const { session, sessionPresent } = context.sessions.open(info.cleanStart, sessionExpiry);

  if (info.protocolVersion === 5) {
    const connackProperties: ConnackProperties = {
      receiveMaximum: settings.receiveMaximum,
      retainAvailable: true,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      sharedSubscriptionAvailable: true,
    };
    if (settings.topicAliasMaximum > 0) connackProperties.topicAliasMaximum = settings.topicAliasMaximum;
    if (settings.maximumPacketSize > 0) connackProperties.maximumPacketSize = settings.maximumPacketSize;
    if (settings.maximumQos < 2) connackProperties.maximumQoS = settings.maximumQos;
    if (assigned) connackProperties.assignedClientIdentifier = clientId;
    if (settings.serverKeepAlive !== undefined) connackProperties.serverKeepAlive = settings.serverKeepAlive;
    if (sessionExpiry !== context.client.requestedSessionExpiry)
      connackProperties.sessionExpiryInterval = sessionExpiry;
    const userProperties = connackUserProperties(context.hooks, context.logger, info);
    if (userProperties) connackProperties.userProperties = userProperties;
    context.writer.sendConnack(sessionPresent, 0, connackProperties);
  } else {
    context.writer.sendConnack(sessionPresent && info.protocolVersion === 4, 0, undefined);
  }
  context.connection.accept(info.keepAlive);
  context.events.clientConnected(info, sessionPresent);
  if (sessionPresent) session.resume();
}
