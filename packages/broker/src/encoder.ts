/**
 * Encoders for every packet the broker sends. mqtt-packet parses what clients send; encoding here
 * avoids its per-field writes on the hot path (PUBLISH, acknowledgements) and the 65,536-Buffer number
 * cache its generate() builds on first use. Checked against the mqtt-packet parser in encoder.test.ts. CONNACK, SUBACK,
 * UNSUBACK and DISCONNECT are in encoder-control.ts.
 */
import {
  publishPacketSize as corePublishPacketSize,
  userPropertiesByteLength,
  variableByteIntegerLength,
} from '@mqtt-agents/core/grammar';
import type { Message } from './message.js';
import { PropertyId } from './property-ids.js';

export const PACKET_PUBACK = 0x40;
export const PACKET_PUBREC = 0x50;
export const PACKET_PUBREL = 0x62;
export const PACKET_PUBCOMP = 0x70;

export function writeVarint(buffer: Buffer, offset: number, value: number): number {
  let remaining = value;
  do {
    let byte = remaining % 0x80;
    remaining = Math.floor(remaining / 0x80);
    if (remaining > 0) byte |= 0x80;
    buffer[offset++] = byte;
  } while (remaining > 0);
  return offset;
}

export function writeUtf8(buffer: Buffer, offset: number, value: string, byteLength: number): number {
  buffer.writeUInt16BE(byteLength, offset);
  buffer.write(value, offset + 2, byteLength, 'utf8');
  return offset + 2 + byteLength;
}

function writeUserPair(buffer: Buffer, offset: number, name: string, value: string): number {
  buffer[offset++] = PropertyId.UserProperty;
  offset = writeUtf8(buffer, offset, name, Buffer.byteLength(name));
  return writeUtf8(buffer, offset, value, Buffer.byteLength(value));
}

/** Encode the properties a PUBLISH forwards unchanged (no length prefix, no expiry, no subscription ids). */
export function encodeForwardedProperties(message: Message): Buffer {
  const properties = message.properties;
  let length = 0;
  if (properties.payloadFormatIndicator !== undefined) length += 2;
  if (properties.contentType !== undefined) length += 3 + Buffer.byteLength(properties.contentType);
  if (properties.responseTopic !== undefined) length += 3 + Buffer.byteLength(properties.responseTopic);
  if (properties.correlationData !== undefined) length += 3 + properties.correlationData.length;
  if (properties.userProperties !== undefined) length += userPropertiesByteLength(properties.userProperties);
  const buffer = Buffer.allocUnsafe(length);
  let offset = 0;
  if (properties.payloadFormatIndicator !== undefined) {
    buffer[offset++] = PropertyId.PayloadFormatIndicator;
    buffer[offset++] = properties.payloadFormatIndicator ? 1 : 0;
  }
  if (properties.contentType !== undefined) {
    buffer[offset++] = PropertyId.ContentType;
    offset = writeUtf8(buffer, offset, properties.contentType, Buffer.byteLength(properties.contentType));
  }
  if (properties.responseTopic !== undefined) {
    buffer[offset++] = PropertyId.ResponseTopic;
    offset = writeUtf8(buffer, offset, properties.responseTopic, Buffer.byteLength(properties.responseTopic));
  }
  if (properties.correlationData !== undefined) {
    buffer[offset++] = PropertyId.CorrelationData;
    buffer.writeUInt16BE(properties.correlationData.length, offset);
    properties.correlationData.copy(buffer, offset + 2);
    offset += 2 + properties.correlationData.length;
  }
  const userProperties = properties.userProperties;
  if (userProperties !== undefined) {
    for (const name of Object.keys(userProperties)) {
      const value = userProperties[name];
      if (Array.isArray(value)) {
        for (const item of value) offset = writeUserPair(buffer, offset, name, String(item));
      } else if (value !== undefined) {
        offset = writeUserPair(buffer, offset, name, String(value));
      }
    }
  }
  return buffer;
}

function topicBytes(message: Message): Buffer {
  return (message.topicBytes ??= Buffer.from(message.topic, 'utf8'));
}

function propertiesLength(
  message: Message,
  expirySeconds: number,
  subscriptionIds: readonly number[] | undefined,
) {
  const forwarded = (message.propertyBytes ??= encodeForwardedProperties(message));
  let length = forwarded.length;
  if (expirySeconds >= 0) length += 5;
  if (subscriptionIds !== undefined) {
    for (const id of subscriptionIds) length += 1 + variableByteIntegerLength(id);
  }
  return length;
}

/**
 * Size in bytes of the whole PUBLISH packet (header and payload), for the client's Maximum Packet Size.
 * `expirySeconds` is -1 when the message does not expire.
 */
export function publishPacketSize(
  message: Message,
  qos: number,
  version5: boolean,
  expirySeconds: number,
  subscriptionIds: readonly number[] | undefined,
): number {
  return corePublishPacketSize({
    topic: topicBytes(message),
    payloadBytes: message.payload.length,
    qos,
    protocolVersion: version5 ? 5 : 4,
    propertiesBytes: version5 ? propertiesLength(message, expirySeconds, subscriptionIds) : 0,
  });
}

/**
 * Encode a PUBLISH packet up to (not including) the payload, which is written after it unchanged.
 * `expirySeconds` is -1 when the message does not expire.
 */
export function encodePublishHeader(
  message: Message,
  qos: number,
  dup: boolean,
  retain: boolean,
  packetId: number,
  version5: boolean,
  expirySeconds: number,
  subscriptionIds: readonly number[] | undefined,
): Buffer {
  const topic = topicBytes(message);
  let properties = 0;
  let remaining = 2 + topic.length + (qos > 0 ? 2 : 0) + message.payload.length;
  if (version5) {
    properties = propertiesLength(message, expirySeconds, subscriptionIds);
    remaining += variableByteIntegerLength(properties) + properties;
  }
  const headerLength = 1 + variableByteIntegerLength(remaining) + remaining - message.payload.length;
  const buffer = Buffer.allocUnsafe(headerLength);
  buffer[0] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0);
  let offset = writeVarint(buffer, 1, remaining);
  buffer.writeUInt16BE(topic.length, offset);
  topic.copy(buffer, offset + 2);
  offset += 2 + topic.length;
  if (qos > 0) {
    buffer.writeUInt16BE(packetId, offset);
    offset += 2;
  }
  if (version5) {
    offset = writeVarint(buffer, offset, properties);
    if (expirySeconds >= 0) {
      buffer[offset++] = PropertyId.MessageExpiryInterval;
      buffer.writeUInt32BE(expirySeconds, offset);
      offset += 4;
    }
    if (subscriptionIds !== undefined) {
      for (const id of subscriptionIds) {
        buffer[offset++] = PropertyId.SubscriptionIdentifier;
        offset = writeVarint(buffer, offset, id);
      }
    }
    (message.propertyBytes as Buffer).copy(buffer, offset);
  }
  return buffer;
}

/**
 * PUBACK, PUBREC, PUBREL or PUBCOMP. MQTT 5 omits the reason code when it is 0 (Success) and there
 * are no properties, so the common case is four bytes for both protocol versions.
 */
export function encodeAck(type: number, packetId: number, reasonCode: number, version5: boolean): Buffer {
  if (!version5 || reasonCode === 0) {
    const buffer = Buffer.allocUnsafe(4);
    buffer[0] = type;
    buffer[1] = 2;
    buffer.writeUInt16BE(packetId, 2);
    return buffer;
  }
  const buffer = Buffer.allocUnsafe(5);
  buffer[0] = type;
  buffer[1] = 3;
  buffer.writeUInt16BE(packetId, 2);
  buffer[4] = reasonCode;
  return buffer;
}

export const PINGRESP = Buffer.from([0xd0, 0x00]);
