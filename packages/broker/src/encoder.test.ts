import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import type { IPublishPacket, Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import {
  PACKET_PUBACK,
  PACKET_PUBCOMP,
  PACKET_PUBREC,
  PACKET_PUBREL,
  encodeAck,
  encodePublishHeader,
  publishPacketSize,
} from './encoder.js';
import { Message } from './message.js';
import type { PublishProperties, QoS } from './types.js';

function parseAll(bytes: Buffer, protocolVersion: 4 | 5): Packet[] {
  const parser = mqttPacket.parser({ protocolVersion });
  const packets: Packet[] = [];
  parser.on('packet', (packet) => packets.push(packet));
  parser.on('error', (error: Error) => {
    throw error;
  });
  parser.parse(bytes);
  return packets;
}

const text = fc.string({ unit: 'grapheme', maxLength: 20 });
// (mqtt-packet's parser merges repeated names only when the first value is non-empty.)
const userProperties = fc.dictionary(
  text.filter((name) => name !== '__proto__'),
  fc.oneof(
    text,
    fc.array(
      text.filter((value) => value.length > 0),
      { minLength: 2, maxLength: 3 },
    ),
  ),
  { maxKeys: 3 },
);
const properties: fc.Arbitrary<PublishProperties> = fc.record(
  {
    payloadFormatIndicator: fc.boolean(),
    contentType: text,
    responseTopic: text.filter((value) => value.length > 0),
    correlationData: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
    userProperties,
  },
  { requiredKeys: [] },
);

describe('encodePublishHeader', () => {
  it('produces PUBLISH packets that mqtt-packet parses back to the same message', () => {
    fc.assert(
      fc.property(
        text.filter((topic) => topic.length > 0),
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom<QoS>(0, 1, 2),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 65535 }),
        fc.constantFrom<4 | 5>(4, 5),
        properties,
        fc.integer({ min: -1, max: 0xffffffff }),
        fc.option(fc.array(fc.integer({ min: 1, max: 268_435_455 }), { minLength: 1, maxLength: 3 }), {
          nil: undefined,
        }),
        (topic, payload, qos, dup, retain, packetId, version, props, expiry, ids) => {
          const message = new Message(topic, Buffer.from(payload), qos, retain, props, 'x', 0);
          const header = encodePublishHeader(message, qos, dup, retain, packetId, version === 5, expiry, ids);
          const bytes = Buffer.concat([header, message.payload]);
          expect(bytes.length).toBe(publishPacketSize(message, qos, version === 5, expiry, ids));
          const [packet] = parseAll(bytes, version) as [IPublishPacket];
          expect(packet.cmd).toBe('publish');
          expect(packet.topic).toBe(topic);
          expect(Buffer.from(packet.payload as Buffer).equals(message.payload)).toBe(true);
          expect(packet.qos).toBe(qos);
          expect(packet.dup).toBe(dup);
          expect(packet.retain).toBe(retain);
          if (qos > 0) expect(packet.messageId).toBe(packetId);
          if (version === 4) {
            expect(packet.properties).toBeUndefined();
            return;
          }
          const parsed = packet.properties ?? {};
          expect(parsed.messageExpiryInterval).toBe(expiry >= 0 ? expiry : undefined);
          const parsedIds = parsed.subscriptionIdentifier;
          expect(parsedIds === undefined ? undefined : [parsedIds].flat()).toEqual(ids);
          expect(parsed.payloadFormatIndicator).toBe(props.payloadFormatIndicator);
          expect(parsed.contentType).toBe(props.contentType);
          expect(parsed.responseTopic).toBe(props.responseTopic);
          expect(parsed.correlationData && Buffer.from(parsed.correlationData)).toEqual(
            props.correlationData,
          );
          if (props.userProperties && Object.keys(props.userProperties).length > 0) {
            expect({ ...parsed.userProperties }).toEqual(props.userProperties);
          } else {
            expect(parsed.userProperties).toBeUndefined();
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('encodes the remaining length across varint boundaries', () => {
    for (const size of [0, 100, 121, 122, 127, 128, 16_380, 16_383, 16_384, 2_097_151, 2_097_152]) {
      const message = new Message('t', Buffer.alloc(size, 7), 1, false, {}, undefined, 0);
      const header = encodePublishHeader(message, 1, false, false, 9, true, -1, undefined);
      const [packet] = parseAll(Buffer.concat([header, message.payload]), 5) as [IPublishPacket];
      expect((packet.payload as Buffer).length).toBe(size);
    }
  });
});

describe('encodeAck', () => {
  it.each([
    [PACKET_PUBACK, 'puback'],
    [PACKET_PUBREC, 'pubrec'],
    [PACKET_PUBREL, 'pubrel'],
    [PACKET_PUBCOMP, 'pubcomp'],
  ])('encodes %i as %s with and without a reason code', (type, cmd) => {
    for (const version of [4, 5] as const) {
      for (const reasonCode of [0, 0x10, 0x92]) {
        const valid = cmd === 'pubrel' || cmd === 'pubcomp' ? [0, 0x92] : [0, 0x10];
        if (!valid.includes(reasonCode)) continue;
        const [packet] = parseAll(encodeAck(type, 4242, reasonCode, version === 5), version) as [
          Packet & { reasonCode?: number; messageId?: number },
        ];
        expect(packet.cmd).toBe(cmd);
        expect(packet.messageId).toBe(4242);
        if (version === 5) expect(packet.reasonCode).toBe(reasonCode);
      }
    }
  });
});
