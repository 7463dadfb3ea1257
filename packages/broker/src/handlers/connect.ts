/**
 * CONNECT: validate, authenticate, take over an existing connection with the same client id, open or
 * resume the session, answer CONNACK, then resend what the resumed session still owes the client.
 */
import { isUtf8 } from 'node:buffer';
import type { IConnectPacket } from 'mqtt-packet';
import type { ClientConnection } from '../client-connection.js';
import type { ConnackProperties } from '../encoder.js';
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

export function handleConnect(client: ClientConnection, packet: IConnectPacket): void | Promise<void> {
  const broker = client.broker;
  const settings = broker.settings;
  const version = (packet.protocolVersion ?? 4) as ProtocolVersion;
  client.setProtocolVersion(version);

  if ((version === 3) !== (packet.protocolId === 'MQIsdp')) {
    client.refuseConnect(
      0x84,
      `protocol name '${packet.protocolId}' does not match protocol level ${version}`,
    );
    return;
  }

  const properties: ConnectProperties =
    version === 5 ? (packet.properties ?? EMPTY_PROPERTIES) : EMPTY_PROPERTIES;
  if (version === 5) {
    if (properties.receiveMaximum === 0) return client.protocolError(0x82, 'receive maximum must not be 0');
    if (properties.maximumPacketSize === 0)
      return client.protocolError(0x82, 'maximum packet size must not be 0');
    if (properties.authenticationMethod !== undefined) {
      client.refuseConnect(0x8c, 'enhanced authentication is not supported');
      return;
    }
  }

  let willSpec: Omit<Will, 'client'> | undefined;
  if (packet.will) {
    const will = packet.will;
    const qos = (will.qos ?? 0) as number;
    if (qos > 2) return client.protocolError(0x81, 'will QoS must not be 3');
    const problem = checkTopicName(will.topic);
    if (problem !== undefined) return client.protocolError(problem, `invalid will topic '${will.topic}'`);
    if (qos > settings.maximumQos) {
      client.refuseConnect(0x9b, `will QoS ${qos} is not supported`);
      return;
    }
    const payload = typeof will.payload === 'string' ? Buffer.from(will.payload) : will.payload;
    const willProperties = will.properties ?? {};
    if (willProperties.payloadFormatIndicator && !isUtf8(payload)) {
      client.refuseConnect(0x99, 'will payload is not UTF-8 although its payload format indicator says so');
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
      client.refuseConnect(0x85, 'an empty client id needs a clean session');
      return;
    }
    clientId = broker.assignClientId();
    assigned = true;
  }

  let sessionExpiry: number;
  if (version === 5) {
    client.requestedSessionExpiry = properties.sessionExpiryInterval ?? 0;
    sessionExpiry = Math.min(client.requestedSessionExpiry, settings.maximumSessionExpiryInterval);
  } else {
    sessionExpiry = cleanStart ? 0 : settings.maximumSessionExpiryInterval;
    client.requestedSessionExpiry = sessionExpiry;
  }

  const info: ClientInfo = Object.freeze({
    id: clientId,
    username: packet.username,
    protocolVersion: version,
    cleanStart,
    keepAlive: settings.serverKeepAlive ?? packet.keepalive ?? 0,
    properties,
    userProperties: properties.userProperties ?? EMPTY_USER_PROPERTIES,
    remoteAddress: client.remoteAddress,
    transport: client.transport,
    principal: undefined,
  });
  const pending: PendingConnect = { info, assigned, sessionExpiry, willSpec };

  const authenticate = broker.hooks.authenticate;
  if (!authenticate) return finishConnect(client, pending, true);
  const context: AuthenticateContext = Object.freeze({
    ...info,
    password: packet.password,
    assignedClientId: assigned,
    peerCertificate: client.peerCertificate,
  });
  let verdict: AuthenticateResult | Promise<AuthenticateResult>;
  try {
    verdict = authenticate(context);
  } catch (error) {
    return hookFailed(client, error);
  }
  if (verdict instanceof Promise || typeof (verdict as { then?: unknown }).then === 'function') {
    return Promise.resolve(verdict).then(
      (result) => finishConnect(client, pending, result),
      (error: unknown) => hookFailed(client, error),
    );
  }
  return finishConnect(client, pending, verdict as AuthenticateResult);
}

function hookFailed(client: ClientConnection, error: unknown): void {
  client.broker.logger.error('mqtt-agents:broker: authenticate hook failed', error);
  client.refuseConnect(0x80, 'authentication failed');
}

function finishConnect(client: ClientConnection, pending: PendingConnect, verdict: AuthenticateResult): void {
  if (client.state !== 0 /* still connecting: the socket may have gone while the hook ran */) return;
  const principal = typeof verdict === 'object' && verdict !== null ? verdict.principal : undefined;
  if (verdict !== true && principal === undefined) {
    const reasonCode = typeof verdict === 'number' && verdict >= 0x80 ? verdict : 0x87;
    client.refuseConnect(reasonCode);
    return;
  }
  const broker = client.broker;
  const settings = broker.settings;
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
    client.setClientLimits(properties.receiveMaximum ?? 65535, properties.maximumPacketSize ?? 0);
  }
  client.clientId = clientId;
  client.info = info;
  client.will = pending.willSpec ? { ...pending.willSpec, client: info } : undefined;

  if (broker.sessionQuotaReached(clientId)) {
    const reason = `session refused: the broker holds maximumSessions (${settings.maximumSessions})`;
    broker.reportError(info, new Error(reason));
    client.refuseConnect(0x97, 'the broker holds its maximum number of sessions');
    return;
  }
  const { session, sessionPresent } = broker.openSession(client, info.cleanStart, sessionExpiry);

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
    if (sessionExpiry !== client.requestedSessionExpiry)
      connackProperties.sessionExpiryInterval = sessionExpiry;
    const userProperties = broker.connackUserProperties(info);
    if (userProperties) connackProperties.userProperties = userProperties;
    client.sendConnack(sessionPresent, 0, connackProperties);
  } else {
    client.sendConnack(sessionPresent && info.protocolVersion === 4, 0, undefined);
  }
  client.accept(info.keepAlive);
  broker.clientConnected(client, sessionPresent);
  if (sessionPresent) session.resume();
}
