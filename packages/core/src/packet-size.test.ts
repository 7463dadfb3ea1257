import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { publishPacketSize, userPropertiesByteLength, variableByteIntegerLength } from './packet-size.js';

// mqtt-packet (MQTT.js's encoder) is the reference: resolve it through MQTT.js, core has no direct dependency.
const requireFromMqtt = createRequire(createRequire(import.meta.url).resolve('mqtt'));
const mqttPacket = requireFromMqtt('mqtt-packet') as {
  generate(packet: Record<string, unknown>, options?: { protocolVersion: number }): Uint8Array;
};

describe('variableByteIntegerLength', () => {
  it('grows by one byte at each 7-bit boundary', () => {
    expect(
      [0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455].map(variableByteIntegerLength),
    ).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
  });
});

describe('publishPacketSize', () => {
  const cases = [
    { topic: 'a/b', payload: 0, qos: 0, userProperties: {} },
    { topic: 'a/b', payload: 10, qos: 1, userProperties: { k: 'v' } },
    { topic: 'ünïcode/tôpic/✓', payload: 120, qos: 2, userProperties: { name: ['x', 'ÿy'], other: 'z' } },
    { topic: 'long', payload: 16_370, qos: 1, userProperties: { 'MCP-COMPONENT-TYPE': 'mcp-server' } },
    { topic: 'big', payload: 2_100_000, qos: 0, userProperties: {} },
  ] as const;

  for (const example of cases) {
    it(`counts what mqtt-packet writes: ${example.topic}, ${example.payload} payload bytes, QoS ${example.qos}`, () => {
      for (const protocolVersion of [4, 5]) {
        const bytes = mqttPacket.generate(
          {
            cmd: 'publish',
            topic: example.topic,
            payload: Buffer.alloc(example.payload),
            qos: example.qos,
            ...(example.qos > 0 ? { messageId: 1 } : {}),
            retain: false,
            dup: false,
            ...(protocolVersion === 5 && Object.keys(example.userProperties).length > 0
              ? { properties: { userProperties: example.userProperties } }
              : {}),
          },
          { protocolVersion },
        );
        expect(
          publishPacketSize({
            topic: example.topic,
            payloadBytes: example.payload,
            qos: example.qos,
            protocolVersion,
            userProperties: example.userProperties,
          }),
        ).toBe(bytes.length);
      }
    });
  }

  it('takes the topic as bytes and other properties as an encoded length', () => {
    const topic = new TextEncoder().encode('a/ü');
    const withText = publishPacketSize({ topic: 'a/ü', payloadBytes: 5, qos: 1, propertiesBytes: 7 });
    expect(publishPacketSize({ topic, payloadBytes: 5, qos: 1, propertiesBytes: 7 })).toBe(withText);
    expect(withText).toBe(1 + 1 + (2 + 4 + 2 + 1 + 7 + 5));
  });

  it('counts one user property entry per value', () => {
    expect(userPropertiesByteLength({ a: 'b' })).toBe(1 + 2 + 1 + 2 + 1);
    expect(userPropertiesByteLength({ a: ['b', 'cd'], skipped: undefined })).toBe(7 + 8);
  });
});
