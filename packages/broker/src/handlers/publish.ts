/**
 * PUBLISH from a client: resolve the topic alias, validate, deduplicate QoS 2 by packet id, ask the
 * authorizePublish hook, update the retained message, route to subscribers, acknowledge.
 */
import { isUtf8 } from 'node:buffer';
import type { IPublishPacket } from 'mqtt-packet';
import type { ClientConnection } from '../client-connection.js';
import { PACKET_PUBACK, PACKET_PUBREC } from '../encoder.js';
import { RETAINED_QUOTA_EXCEEDED } from '../limits.js';
import { Message } from '../message.js';
import { checkTopicName } from '../topic.js';
import type { BrokerHooks, BrokerLogger, ClientInfo, HookResult, PublishProperties } from '../types.js';

const NO_PROPERTIES: PublishProperties = Object.freeze({});

export function handlePublish(client: ClientConnection, packet: IPublishPacket): void | Promise<void> {
  const broker = client.broker;
  const session = client.session;
  if (!session) return;
  let topic = packet.topic;
  const qos = packet.qos;
  const packetId = packet.messageId ?? 0;
  const received = packet.properties;
  let properties: PublishProperties = NO_PROPERTIES;

  if (received !== undefined) {
    if (received.subscriptionIdentifier !== undefined) {
      return client.protocolError(0x82, 'a PUBLISH from a client must not carry a subscription identifier');
    }
    const alias = received.topicAlias;
    if (alias !== undefined) {
      if (alias === 0 || alias > broker.settings.topicAliasMaximum) {
        return client.protocolError(0x94, `topic alias ${alias} is out of range`);
      }
      if (topic.length === 0) {
        const known = client.topicAliases?.get(alias);
        if (known === undefined) return client.protocolError(0x82, `unknown topic alias ${alias}`);
        topic = known;
      } else {
        (client.topicAliases ??= new Map()).set(alias, topic);
      }
      const { topicAlias: _alias, ...rest } = received;
      properties = rest;
    } else {
      properties = received;
    }
  }

  const problem = checkTopicName(topic);
  if (problem !== undefined) return client.protocolError(problem, `invalid topic name '${topic}'`);
  if (qos > broker.settings.maximumQos) return client.protocolError(0x9b, `QoS ${qos} is not supported`);

  if (qos === 2) {
    const pending = session.inboundQos2;
    if (pending !== undefined) {
      if (pending.has(packetId)) {
        // A retransmission of a QoS 2 message already accepted: acknowledge, do not route again.
        client.writeAck(PACKET_PUBREC, packetId, 0);
        return;
      }
      if (pending.size >= broker.settings.receiveMaximum) {
        return client.protocolError(0x93, 'receive maximum exceeded');
      }
    }
  }

  const payload = packet.payload as Buffer;
  if (properties.payloadFormatIndicator === true && !isUtf8(payload)) {
    if (qos > 0) client.writeAck(qos === 1 ? PACKET_PUBACK : PACKET_PUBREC, packetId, 0x99);
    return;
  }

  const message = Message.received(
    topic,
    payload,
    qos,
    packet.retain,
    properties,
    client.clientId,
    Date.now(),
  );
  const authorize = broker.hooks.authorizePublish;
  if (!authorize) return finishPublish(client, packetId, message, true);
  let verdict: HookResult | Promise<HookResult>;
  try {
    verdict = authorize(client.info as NonNullable<typeof client.info>, message);
  } catch (error) {
    broker.logger.error('mqtt-agents:broker: authorizePublish hook failed', error);
    return finishPublish(client, packetId, message, 0x80);
  }
  if (typeof (verdict as { then?: unknown }).then === 'function') {
    return Promise.resolve(verdict).then(
      (result) => finishPublish(client, packetId, message, result),
      (error: unknown) => {
        broker.logger.error('mqtt-agents:broker: authorizePublish hook failed', error);
        finishPublish(client, packetId, message, 0x80);
      },
    );
  }
  return finishPublish(client, packetId, message, verdict as HookResult);
}

function finishPublish(
  client: ClientConnection,
  packetId: number,
  message: Message,
  verdict: HookResult,
): void {
  if (!client.connected) return;
  const qos = message.qos;
  if (verdict !== true) {
    // Refused: acknowledged with the reason (MQTT 3.1.1 has no way to say no, so it gets a plain ack).
    const reasonCode = typeof verdict === 'number' && verdict >= 0x80 ? verdict : 0x87;
    if (qos === 1) client.writeAck(PACKET_PUBACK, packetId, reasonCode);
    else if (qos === 2) client.writeAck(PACKET_PUBREC, packetId, client.version5 ? reasonCode : 0);
    return;
  }
  const routed = rewritten(client, message);
  if (routed === undefined) {
    if (qos === 1) client.writeAck(PACKET_PUBACK, packetId, 0x80);
    else if (qos === 2) client.writeAck(PACKET_PUBREC, packetId, client.version5 ? 0x80 : 0);
    return;
  }
  const matched = client.broker.publishMessage(routed, client.info);
  if (matched === RETAINED_QUOTA_EXCEEDED) {
    // Over the retained limits: refused with 0x97 Quota exceeded, not routed (the old retained message stays).
    if (qos === 1) client.writeAck(PACKET_PUBACK, packetId, 0x97);
    else if (qos === 2) client.writeAck(PACKET_PUBREC, packetId, client.version5 ? 0x97 : 0);
    return;
  }
  if (qos === 1) {
    client.writeAck(PACKET_PUBACK, packetId, matched > 0 ? 0 : 0x10);
  } else if (qos === 2) {
    const session = client.session;
    if (session) (session.inboundQos2 ??= new Set()).add(packetId);
    client.writeAck(PACKET_PUBREC, packetId, matched > 0 ? 0 : 0x10);
  }
}

/** The message with the properties `rewritePublish` asks for; undefined when the hook failed. */
function rewritten(client: ClientConnection, message: Message): Message | undefined {
  if (!client.info) return message;
  return rewrittenMessage(client.broker.hooks, client.broker.logger, client.info, message);
}

/**
 * `message` routed with the properties the `rewritePublish` hook returns for it (the same message when there
 * is no hook or it keeps them). Undefined when the hook throws: the message is not routed, since it may
 * still carry properties an identity plugin had to remove (fail closed). Used for client publishes and for
 * wills alike, so that a will cannot carry properties a publish could not.
 */
export function rewrittenMessage(
  hooks: Pick<BrokerHooks, 'rewritePublish'>,
  logger: BrokerLogger,
  client: ClientInfo,
  message: Message,
): Message | undefined {
  const rewrite = hooks.rewritePublish;
  if (!rewrite) return message;
  let properties: PublishProperties | undefined;
  try {
    properties = rewrite(client, message);
  } catch (error) {
    logger.error('mqtt-agents:broker: rewritePublish hook failed; the message is not routed', error);
    return undefined;
  }
  if (properties === undefined || properties === message.properties) return message;
  return new Message(
    message.topic,
    message.payload,
    message.qos,
    message.retain,
    properties,
    message.publisherId,
    message.expiresAt,
  );
}
