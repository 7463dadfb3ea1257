import { utf8ByteLength } from '@mqtt-agents/core';

function variableByteIntegerLength(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  return 4;
}

function userPropertiesLength(userProperties: Record<string, string | string[]>): number {
  let length = 0;
  for (const [name, value] of Object.entries(userProperties)) {
    const nameBytes = utf8ByteLength(name);
    for (const item of Array.isArray(value) ? value : [value]) {
      // identifier byte + two length-prefixed UTF-8 strings
      length += 1 + 2 + nameBytes + 2 + utf8ByteLength(item);
    }
  }
  return length;
}

/**
 * Size in bytes of the MQTT 5 PUBLISH packet that carries `payloadBytes` on `topic` with these user
 * properties (no topic alias), as the broker measures it against its Maximum Packet Size.
 */
export function publishPacketSize(options: {
  topic: string;
  payloadBytes: number;
  qos: 0 | 1 | 2;
  userProperties: Record<string, string | string[]>;
}): number {
  const propertiesLength = userPropertiesLength(options.userProperties);
  const remainingLength =
    2 +
    utf8ByteLength(options.topic) +
    (options.qos > 0 ? 2 : 0) +
    variableByteIntegerLength(propertiesLength) +
    propertiesLength +
    options.payloadBytes;
  return 1 + variableByteIntegerLength(remainingLength) + remainingLength;
}
