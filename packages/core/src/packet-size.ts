// Sizes of MQTT 5 packets as a broker measures them against a Maximum Packet Size. Pure arithmetic: no
// MQTT.js, no Buffer, so the broker (through `@mqtt-agents/core/grammar`) and the clients count alike.
import { utf8ByteLength } from './topic-filter.js';

/** Bytes of an MQTT Variable Byte Integer holding `value` (0 to 268 435 455): 1 to 4. */
export function variableByteIntegerLength(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  return 4;
}

/** User properties as a packet carries them: one name/value pair per value. */
export type PacketUserProperties = Readonly<
  Record<string, string | number | readonly (string | number)[] | undefined>
>;

/** Bytes the User Property entries take in a property section (identifier and two UTF-8 strings each). */
export function userPropertiesByteLength(userProperties: PacketUserProperties): number {
  let length = 0;
  for (const name of Object.keys(userProperties)) {
    const value = userProperties[name];
    if (value === undefined) continue;
    const nameBytes = utf8ByteLength(name);
    for (const item of Array.isArray(value) ? value : [value]) {
      // identifier byte + two length-prefixed UTF-8 strings
      length += 1 + 2 + nameBytes + 2 + utf8ByteLength(String(item));
    }
  }
  return length;
}

/** The parts of a PUBLISH packet `publishPacketSize` measures. */
export interface PublishPacketSizeOptions {
  /** The topic name, or its UTF-8 bytes when you have them (no topic alias). */
  topic: string | Uint8Array;
  /** Payload length in bytes. */
  payloadBytes: number;
  /** QoS above 0 adds the two-byte packet identifier. */
  qos: number;
  /** Default 5. Below 5 (MQTT 3.1.1) the packet has no property section and properties are ignored. */
  protocolVersion?: number;
  /** User properties the packet carries; each pair counts with its identifier and length prefixes. */
  userProperties?: PacketUserProperties;
  /** Bytes of the other properties, already encoded, without the section's own length prefix. */
  propertiesBytes?: number;
}

/**
 * Size in bytes of a whole PUBLISH packet (fixed header, variable header, properties and payload), as the
 * receiver measures it against its Maximum Packet Size.
 */
export function publishPacketSize(options: PublishPacketSizeOptions): number {
  const topicBytes =
    typeof options.topic === 'string' ? utf8ByteLength(options.topic) : options.topic.byteLength;
  let remainingLength = 2 + topicBytes + (options.qos > 0 ? 2 : 0) + options.payloadBytes;
  if ((options.protocolVersion ?? 5) >= 5) {
    const propertiesLength =
      (options.propertiesBytes ?? 0) +
      (options.userProperties ? userPropertiesByteLength(options.userProperties) : 0);
    remainingLength += variableByteIntegerLength(propertiesLength) + propertiesLength;
  }
  return 1 + variableByteIntegerLength(remainingLength) + remainingLength;
}
