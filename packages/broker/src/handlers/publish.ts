/**
 * PUBLISH from a client: resolve the topic alias, validate, deduplicate QoS 2 by packet id, ask the
 * authorizePublish hook, update the retained message, route to subscribers, acknowledge.
 */
import { isUtf8 } from 'node:buffer';
import type { IPublishPacket } from 'mqtt-packet';
import type { HandlerContext } from './context.js';
import { PACKET_PUBACK, PACKET_PUBREC } from '../encoder.js';
import { RETAINED_QUOTA_EXCEEDED } from '../limits.js';
import { Message } from '../message.js';
import { checkTopicName } from '../topic.js';
import { rewrittenMessage } from '../hook-calls.js';
import type { HookResult, PublishProperties } from '../types.js';

const NO_PROPERTIES: PublishProperties = Object.freeze({});

export function handlePublish(context: HandlerContext, packet: IPublishPacket): void | Promise<void> {
  const session = context.client.session;
  if (!session) return;
  let topic = packet.topic;
  const qos = packet.qos;
  const packetId = packet.messageId ?? 0;
  const received = packet.properties;
  let properties: PublishProperties = NO_PROPERTIES;

  if (received !== undefined) {
    if (received.subscriptionIdentifier !== undefined) {
      return context.connection.protocolError(
        0x82,
        'a PUBLISH from a client must not carry a subscription identifier',
      );
    }
    const alias = received.topicAlias;
    if (alias !== undefined) {
      if (alias === 0 || alias > context.settings.topicAliasMaximum) {
        return context.connection.protocolError(0x94, `topic alias ${alias} is out of range`);
      }
      if (topic.length === 0) {
        const known = context.client.topicAliases?.get(alias);
        if (known === undefined)
          return context.connection.protocolError(0x82, `unknown topic alias ${alias}`);
        topic = known;
      } else {
        (context.client.topicAliases ??= new Map()).set(alias, topic);
      }
      const { topicAlias: _alias, ...rest } = received;
      properties = rest;
    } else {
      properties = received;
    }
  }

  const problem = checkTopicName(topic);
  if (problem !== undefined)
    return context.connection.protocolError(problem, `invalid topic name '${topic}'`);
  if (qos > context.settings.maximumQos)
    return context.connection.protocolError(0x9b, `QoS ${qos} is not supported`);

  if (qos === 2) {
    const pending = session.inboundQos2;
    if (pending !== undefined) {
      if (pending.has(packetId)) {
        // A retransmission of a QoS 2 message already accepted: acknowledge, do not route again.
        context.writer.writeAck(PACKET_PUBREC, packetId, 0);
        return;
      }
      if (pending.size >= context.settings.receiveMaximum) {
        return context.connection.protocolError(0x93, 'receive maximum exceeded');
      }
    }
  }

  const payload = packet.payload as Buffer;
  if (properties.payloadFormatIndicator === true && !isUtf8(payload)) {
    if (qos > 0) context.writer.writeAck(qos === 1 ? PACKET_PUBACK : PACKET_PUBREC, packetId, 0x99);
    return;
  }

  const message = Message.received(
    topic,
    payload,
    qos,
    packet.retain,
    properties,
    context.client.clientId,
    Date.now(),
  );
  const authorize = context.hooks.authorizePublish;
  if (!authorize) return finishPublish(context, packetId, message, true);
  let verdict: HookResult | Promise<HookResult>;
  try {
    verdict = authorize(context.client.info as NonNullable<typeof context.client.info>, message);
  } catch (error) {
    context.logger.error('mqtt-agents:broker: authorizePublish hook failed', error);
    return finishPublish(context, packetId, message, 0x80);
  }
  if (typeof (verdict as { then?: unknown }).then === 'function') {
    return Promise.resolve(verdict).then(
      (result) => finishPublish(context, packetId, message, result),
      (error: unknown) => {
        context.logger.error('mqtt-agents:broker: authorizePublish hook failed', error);
        finishPublish(context, packetId, message, 0x80);
      },
    );
  }
  return finishPublish(context, packetId, message, verdict as HookResult);
}

function finishPublish(
  context: HandlerContext,
  packetId: number,
  message: Message,
  verdict: HookResult,
): void {
  if (!context.connection.connected) return;
  const qos = message.qos;
  if (verdict !== true) {
    // Refused: acknowledged with the reason (MQTT 3.1.1 has no way to say no, so it gets a plain ack).
    const reasonCode = typeof verdict === 'number' && verdict >= 0x80 ? verdict : 0x87;
    if (qos === 1) context.writer.writeAck(PACKET_PUBACK, packetId, reasonCode);
    else if (qos === 2)
      context.writer.writeAck(PACKET_PUBREC, packetId, context.writer.version5 ? reasonCode : 0);
    return;
  }
  const routed = rewritten(context, message);
  if (routed === undefined) {
    if (qos === 1) context.writer.writeAck(PACKET_PUBACK, packetId, 0x80);
    else if (qos === 2) context.writer.writeAck(PACKET_PUBREC, packetId, context.writer.version5 ? 0x80 : 0);
    return;
  }
  const matched = context.router.publish(routed, context.client.info);
  if (matched === RETAINED_QUOTA_EXCEEDED) {
    // Over the retained limits: refused with 0x97 Quota exceeded, not routed (the old retained message stays).
    if (qos === 1) context.writer.writeAck(PACKET_PUBACK, packetId, 0x97);
    else if (qos === 2) context.writer.writeAck(PACKET_PUBREC, packetId, context.writer.version5 ? 0x97 : 0);
    return;
  }
  if (qos === 1) {
    context.writer.writeAck(PACKET_PUBACK, packetId, matched > 0 ? 0 : 0x10);
  } else if (qos === 2) {
    const session = context.client.session;
    if (session) (session.inboundQos2 ??= new Set()).add(packetId);
    context.writer.writeAck(PACKET_PUBREC, packetId, matched > 0 ? 0 : 0x10);
  }
}

/** The message with the properties `rewritePublish` asks for; undefined when the hook failed. */
function rewritten(context: HandlerContext, message: Message): Message | undefined {
  if (!context.client.info) return message;
  return rewrittenMessage(context.hooks, context.logger, context.client.info, message);
}
