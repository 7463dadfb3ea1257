import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import type {
  IConnackPacket,
  IDisconnectPacket,
  IPublishPacket,
  ISubackPacket,
  IUnsubackPacket,
  Packet,
} from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import {
  encodeConnack,
  encodeDisconnect,
  encodeSuback,
  encodeUnsuback,
  type ConnackProperties,
} from './encoder-control.js';
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

const connackProperties: fc.Arbitrary<ConnackProperties> = fc.record(
  {
    sessionExpiryInterval: fc.integer({ min: 0, max: 0xffffffff }),
    receiveMaximum: fc.integer({ min: 1, max: 65535 }),
    maximumQoS: fc.constantFrom(0, 1),
    retainAvailable: fc.boolean(),
    maximumPacketSize: fc.integer({ min: 1, max: 268_435_455 }),
    assignedClientIdentifier: text,
    topicAliasMaximum: fc.integer({ min: 0, max: 65535 }),
    reasonString: text,
    userProperties,
    wildcardSubscriptionAvailable: fc.boolean(),
    subscriptionIdentifiersAvailable: fc.boolean(),
    sharedSubscriptionAvailable: fc.boolean(),
    serverKeepAlive: fc.integer({ min: 0, max: 65535 }),
  },
  { requiredKeys: [] },
);

describe('encodeConnack', () => {
  it('produces CONNACK packets that mqtt-packet parses back', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.constantFrom(0, 0x80, 0x86, 0x8c),
        connackProperties,
        (present, code, props) => {
          const [packet] = parseAll(encodeConnack(true, present, code, props, 0), 5) as [IConnackPacket];
          expect(packet.cmd).toBe('connack');
          expect(packet.sessionPresent).toBe(present);
          expect(packet.reasonCode).toBe(code);
          const parsed = { ...packet.properties };
          if (parsed.userProperties) parsed.userProperties = { ...parsed.userProperties };
          const expected: Record<string, unknown> = { ...props };
          if (props.userProperties && Object.keys(props.userProperties).length === 0)
            delete expected.userProperties;
          expect(parsed).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('encodes MQTT 3.1.1 CONNACK with a return code and no properties', () => {
    const [packet] = parseAll(encodeConnack(false, true, 5, { receiveMaximum: 1 }, 0), 4) as [IConnackPacket];
    expect(packet).toMatchObject({ cmd: 'connack', sessionPresent: true, returnCode: 5 });
  });

  it('leaves out the reason string and user properties beyond the client maximum packet size', () => {
    const properties = { receiveMaximum: 10, reasonString: 'x'.repeat(100), userProperties: { a: 'b' } };
    const bytes = encodeConnack(true, false, 0, properties, 50);
    expect(bytes.length).toBeLessThanOrEqual(50);
    const [packet] = parseAll(bytes, 5) as [IConnackPacket];
    expect(packet.properties).toEqual({ receiveMaximum: 10 });
  });
});

describe('encodeSuback, encodeUnsuback, encodeDisconnect', () => {
  it('produce packets mqtt-packet parses back, for both protocol versions', () => {
    const [suback5] = parseAll(encodeSuback(300, [0, 1, 2, 0x87], true), 5) as [ISubackPacket];
    expect(suback5).toMatchObject({ cmd: 'suback', messageId: 300, granted: [0, 1, 2, 0x87] });
    const [suback4] = parseAll(encodeSuback(7, [1, 0x80], false), 4) as [ISubackPacket];
    expect(suback4).toMatchObject({ cmd: 'suback', messageId: 7, granted: [1, 0x80] });
    const [unsuback5] = parseAll(encodeUnsuback(9, [0, 0x11], true), 5) as [IUnsubackPacket];
    expect(unsuback5).toMatchObject({ cmd: 'unsuback', messageId: 9, granted: [0, 0x11] });
    const [unsuback4] = parseAll(encodeUnsuback(9, [0, 0x11], false), 4) as [IUnsubackPacket];
    expect(unsuback4).toMatchObject({ cmd: 'unsuback', messageId: 9 });
    const [plain] = parseAll(encodeDisconnect(0x8b, undefined, 0), 5) as [IDisconnectPacket];
    expect(plain).toMatchObject({ cmd: 'disconnect', reasonCode: 0x8b });
    const [explained] = parseAll(encodeDisconnect(0x82, 'why', 0), 5) as [IDisconnectPacket];
    expect(explained).toMatchObject({
      cmd: 'disconnect',
      reasonCode: 0x82,
      properties: { reasonString: 'why' },
    });
    const [short] = parseAll(encodeDisconnect(0x82, 'x'.repeat(40), 10), 5) as [IDisconnectPacket];
    expect(short.properties).toBeUndefined();
  });
});
