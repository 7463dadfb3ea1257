/**
 * Encoders for the control packets the broker sends: CONNACK, SUBACK, UNSUBACK, DISCONNECT (MQTT 5
 * properties through one property writer; MQTT 3.1.1 forms without them).
 */
import { variableByteIntegerLength } from '@mqtt-agents/core/grammar';
import { writeUtf8, writeVarint } from './encoder.js';
import { PropertyId } from './property-ids.js';
import type { UserProperties } from './types.js';

/** CONNACK properties the broker sends (MQTT 5). */
export interface ConnackProperties {
  sessionExpiryInterval?: number;
  receiveMaximum?: number;
  maximumQoS?: number;
  retainAvailable?: boolean;
  maximumPacketSize?: number;
  assignedClientIdentifier?: string;
  topicAliasMaximum?: number;
  reasonString?: string;
  userProperties?: UserProperties;
  wildcardSubscriptionAvailable?: boolean;
  subscriptionIdentifiersAvailable?: boolean;
  sharedSubscriptionAvailable?: boolean;
  serverKeepAlive?: number;
}

/** Accumulates MQTT 5 properties, then writes them with their length prefix. */
class PropertyWriter {
  private readonly ids: number[] = [];
  private readonly values: Array<number | string | [string, string]> = [];
  private readonly kinds: number[] = [];
  length = 0;

  byte(id: number, value: number): void {
    this.push(id, 1, value, 2);
  }

  int16(id: number, value: number): void {
    this.push(id, 2, value, 3);
  }

  int32(id: number, value: number): void {
    this.push(id, 4, value, 5);
  }

  string(id: number, value: string): void {
    this.push(id, 5, value, 3 + Buffer.byteLength(value));
  }

  userProperties(userProperties: UserProperties): void {
    for (const name of Object.keys(userProperties)) {
      const value = userProperties[name];
      const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
      for (const item of values) {
        const pair: [string, string] = [name, String(item)];
        this.push(
          PropertyId.UserProperty,
          6,
          pair,
          5 + Buffer.byteLength(pair[0]) + Buffer.byteLength(pair[1]),
        );
      }
    }
  }

  private push(id: number, kind: number, value: number | string | [string, string], size: number): void {
    this.ids.push(id);
    this.kinds.push(kind);
    this.values.push(value);
    this.length += size;
  }

  /** Bytes taken by the property length prefix and the properties. */
  get size(): number {
    return variableByteIntegerLength(this.length) + this.length;
  }

  write(buffer: Buffer, start: number): number {
    let offset = writeVarint(buffer, start, this.length);
    for (let index = 0; index < this.ids.length; index++) {
      buffer[offset++] = this.ids[index] as number;
      const value = this.values[index];
      switch (this.kinds[index]) {
        case 1:
          buffer[offset++] = value as number;
          break;
        case 2:
          buffer.writeUInt16BE(value as number, offset);
          offset += 2;
          break;
        case 4:
          buffer.writeUInt32BE(value as number, offset);
          offset += 4;
          break;
        case 5:
          offset = writeUtf8(buffer, offset, value as string, Buffer.byteLength(value as string));
          break;
        default: {
          const [name, text] = value as [string, string];
          offset = writeUtf8(buffer, offset, name, Buffer.byteLength(name));
          offset = writeUtf8(buffer, offset, text, Buffer.byteLength(text));
        }
      }
    }
    return offset;
  }
}

function connackPropertyWriter(properties: ConnackProperties, withOptional: boolean): PropertyWriter {
  const writer = new PropertyWriter();
  if (properties.sessionExpiryInterval !== undefined) {
    writer.int32(PropertyId.SessionExpiryInterval, properties.sessionExpiryInterval);
  }
  if (properties.receiveMaximum !== undefined)
    writer.int16(PropertyId.ReceiveMaximum, properties.receiveMaximum);
  if (properties.maximumQoS !== undefined) writer.byte(PropertyId.MaximumQoS, properties.maximumQoS);
  if (properties.retainAvailable !== undefined) {
    writer.byte(PropertyId.RetainAvailable, properties.retainAvailable ? 1 : 0);
  }
  if (properties.maximumPacketSize !== undefined) {
    writer.int32(PropertyId.MaximumPacketSize, properties.maximumPacketSize);
  }
  if (properties.assignedClientIdentifier !== undefined) {
    writer.string(PropertyId.AssignedClientIdentifier, properties.assignedClientIdentifier);
  }
  if (properties.topicAliasMaximum !== undefined) {
    writer.int16(PropertyId.TopicAliasMaximum, properties.topicAliasMaximum);
  }
  if (properties.wildcardSubscriptionAvailable !== undefined) {
    writer.byte(PropertyId.WildcardSubscriptionAvailable, properties.wildcardSubscriptionAvailable ? 1 : 0);
  }
  if (properties.subscriptionIdentifiersAvailable !== undefined) {
    writer.byte(
      PropertyId.SubscriptionIdentifiersAvailable,
      properties.subscriptionIdentifiersAvailable ? 1 : 0,
    );
  }
  if (properties.sharedSubscriptionAvailable !== undefined) {
    writer.byte(PropertyId.SharedSubscriptionAvailable, properties.sharedSubscriptionAvailable ? 1 : 0);
  }
  if (properties.serverKeepAlive !== undefined)
    writer.int16(PropertyId.ServerKeepAlive, properties.serverKeepAlive);
  if (withOptional) {
    if (properties.reasonString !== undefined)
      writer.string(PropertyId.ReasonString, properties.reasonString);
    if (properties.userProperties !== undefined) writer.userProperties(properties.userProperties);
  }
  return writer;
}

/**
 * CONNACK. MQTT 3.1.1 takes the return code (0-5) and no properties. When the packet would exceed the
 * client's Maximum Packet Size (`limit`, 0 for none), the reason string and user properties are left
 * out, as MQTT 5 allows (MQTT-3.2.2-19, -20).
 */
export function encodeConnack(
  version5: boolean,
  sessionPresent: boolean,
  reasonCode: number,
  properties: ConnackProperties | undefined,
  limit: number,
): Buffer {
  if (!version5) return Buffer.from([0x20, 0x02, sessionPresent ? 1 : 0, reasonCode]);
  let writer = connackPropertyWriter(properties ?? {}, true);
  let remaining = 2 + writer.size;
  if (limit > 0 && 1 + variableByteIntegerLength(remaining) + remaining > limit) {
    writer = connackPropertyWriter(properties ?? {}, false);
    remaining = 2 + writer.size;
  }
  const buffer = Buffer.allocUnsafe(1 + variableByteIntegerLength(remaining) + remaining);
  buffer[0] = 0x20;
  let offset = writeVarint(buffer, 1, remaining);
  buffer[offset++] = sessionPresent ? 1 : 0;
  buffer[offset++] = reasonCode;
  writer.write(buffer, offset);
  return buffer;
}

/** SUBACK (0x90) or UNSUBACK (0xB0) with one code per topic filter; MQTT 3.1.1 UNSUBACK has no codes. */
function encodeSubscriptionAck(
  type: number,
  packetId: number,
  codes: readonly number[],
  version5: boolean,
): Buffer {
  const withCodes = version5 || type === 0x90;
  const remaining = 2 + (version5 ? 1 : 0) + (withCodes ? codes.length : 0);
  const buffer = Buffer.allocUnsafe(1 + variableByteIntegerLength(remaining) + remaining);
  buffer[0] = type;
  let offset = writeVarint(buffer, 1, remaining);
  buffer.writeUInt16BE(packetId, offset);
  offset += 2;
  if (version5) buffer[offset++] = 0; // no properties
  if (withCodes) for (const code of codes) buffer[offset++] = code;
  return buffer;
}

export function encodeSuback(packetId: number, codes: readonly number[], version5: boolean): Buffer {
  return encodeSubscriptionAck(0x90, packetId, codes, version5);
}

export function encodeUnsuback(packetId: number, codes: readonly number[], version5: boolean): Buffer {
  return encodeSubscriptionAck(0xb0, packetId, codes, version5);
}

/** DISCONNECT from the broker (MQTT 5 only), with an optional reason string (dropped if over `limit`). */
export function encodeDisconnect(
  reasonCode: number,
  reasonString: string | undefined,
  limit: number,
): Buffer {
  if (reasonString === undefined) return Buffer.from([0xe0, 0x01, reasonCode]);
  const writer = new PropertyWriter();
  writer.string(PropertyId.ReasonString, reasonString);
  const remaining = 1 + writer.size;
  const size = 1 + variableByteIntegerLength(remaining) + remaining;
  if (limit > 0 && size > limit) return Buffer.from([0xe0, 0x01, reasonCode]);
  const buffer = Buffer.allocUnsafe(size);
  buffer[0] = 0xe0;
  let offset = writeVarint(buffer, 1, remaining);
  buffer[offset++] = reasonCode;
  writer.write(buffer, offset);
  return buffer;
}
