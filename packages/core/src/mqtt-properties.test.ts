import fc from 'fast-check';
import type { IClientPublishOptions, IConnackPacket, IPublishPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { MqttAgentsError } from './errors.js';
import { utf8Decode, utf8Encode } from './json-codec.js';
import { A2AUserProperty, ContentType, McpComponentType, McpUserProperty } from './property-names.js';
import {
  MAX_MESSAGE_EXPIRY_INTERVAL,
  correlationKey,
  createPublishProperties,
  getContentType,
  getCorrelationData,
  getMessageExpiryInterval,
  getResponseTopic,
  getUserProperty,
  getUserPropertyAll,
  isPayloadFormatValid,
  isUtf8PayloadFormat,
  mergePublishProperties,
  newCorrelationData,
  readPublishMetadata,
  setUserProperty,
  withUserProperties,
  type PublishProperties,
  type UserProperties,
} from './mqtt-properties.js';

function thrownCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return MqttAgentsError.isInstance(error) ? error.code : 'not an MqttAgentsError';
  }
  return undefined;
}

describe('user property names', () => {
  it('spell the MCP names as the MCP binding does', () => {
    expect(Object.values(McpUserProperty).sort()).toEqual([
      'MCP-COMPONENT-TYPE',
      'MCP-META',
      'MCP-MQTT-CLIENT-ID',
      'MCP-RBAC',
      'MCP-SERVER-NAME',
      'MCP-SERVER-NAME-FILTERS',
    ]);
    expect(McpComponentType).toEqual({ Client: 'mcp-client', Server: 'mcp-server' });
  });

  it('spell every A2A name with the a2a- prefix, each once', () => {
    const names = Object.values(A2AUserProperty);
    expect(names.every((name) => /^a2a-[a-z]+(-[a-z]+)*$/.test(name))).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'a2a-status',
        'a2a-status-source',
        'a2a-responder-agent-id',
        'a2a-requester-agent-id',
        'a2a-recipient-agent-id',
        'a2a-recipient-kid',
        'a2a-authorization',
        'a2a-security-profile',
        'a2a-artifact-mode',
        'a2a-event-type',
        'a2a-task-id',
        'a2a-context-id',
        'a2a-artifact-id',
        'a2a-chunk-seqno',
        'a2a-last-chunk',
        'a2a-version',
        'a2a-extensions',
      ]),
    );
    expect(names).toHaveLength(17);
  });
});

describe('reading user properties', () => {
  // The shape MQTT.js's parser produces: a null-prototype object, repeated names as arrays.
  const parsed = Object.assign(Object.create(null) as UserProperties, {
    'MCP-COMPONENT-TYPE': 'mcp-server',
    'a2a-extensions': ['https://a.example/v1', 'https://b.example/v1'],
  });

  it('getUserProperty returns the single value or the first of several', () => {
    expect(getUserProperty({ userProperties: parsed }, McpUserProperty.ComponentType)).toBe('mcp-server');
    expect(getUserProperty({ userProperties: parsed }, A2AUserProperty.Extensions)).toBe(
      'https://a.example/v1',
    );
  });

  it('getUserPropertyAll returns every value in order', () => {
    expect(getUserPropertyAll({ userProperties: parsed }, A2AUserProperty.Extensions)).toEqual([
      'https://a.example/v1',
      'https://b.example/v1',
    ]);
    expect(getUserPropertyAll({ userProperties: parsed }, McpUserProperty.ComponentType)).toEqual([
      'mcp-server',
    ]);
    expect(getUserPropertyAll({ userProperties: parsed }, 'absent')).toEqual([]);
  });

  it('matches names exactly, without case folding', () => {
    expect(getUserProperty({ userProperties: parsed }, 'mcp-component-type')).toBeUndefined();
  });

  it('is undefined when properties, user properties or the name are missing', () => {
    expect(getUserProperty(undefined, 'x')).toBeUndefined();
    expect(getUserProperty({}, 'x')).toBeUndefined();
    expect(getUserProperty({ userProperties: {} }, 'x')).toBeUndefined();
    expect(getUserProperty({ userProperties: { x: [] } }, 'x')).toBeUndefined();
  });

  it('never reads inherited members such as toString or __proto__', () => {
    const plain: UserProperties = { a: '1' };
    expect(getUserProperty({ userProperties: plain }, 'toString')).toBeUndefined();
    expect(getUserProperty({ userProperties: plain }, '__proto__')).toBeUndefined();
    expect(getUserPropertyAll({ userProperties: plain }, 'constructor')).toEqual([]);
  });

  it('never reads values a user properties object inherits', () => {
    const inherited = Object.create({ name: 'inherited' }) as UserProperties;
    expect(getUserProperty({ userProperties: inherited }, 'name')).toBeUndefined();
    expect(getUserPropertyAll({ userProperties: inherited }, 'name')).toEqual([]);
  });

  it('ignores values that are not strings instead of crashing', () => {
    const garbage = { a: 5, b: [1, 'two', null] } as unknown as UserProperties;
    expect(getUserProperty({ userProperties: garbage }, 'a')).toBeUndefined();
    expect(getUserProperty({ userProperties: garbage }, 'b')).toBe('two');
    expect(getUserPropertyAll({ userProperties: garbage }, 'b')).toEqual(['two']);
  });

  it('reads CONNACK user properties too', () => {
    const connack: IConnackPacket = {
      cmd: 'connack',
      sessionPresent: false,
      properties: { userProperties: { 'MCP-SERVER-NAME': 'acme/tools/weather' } },
    };
    expect(getUserProperty(connack.properties, McpUserProperty.ServerName)).toBe('acme/tools/weather');
  });
});

describe('writing user properties', () => {
  it('withUserProperties adds, replaces, skips undefined, and leaves its inputs alone', () => {
    const base: UserProperties = { keep: 'k', replace: 'old', list: ['a', 'b'] };
    const snapshot = structuredClone(base);
    const additions = { replace: 'new', added: ['x', 'y'], skipped: undefined };
    const result = withUserProperties(base, additions);
    expect(result).toEqual({ keep: 'k', replace: 'new', list: ['a', 'b'], added: ['x', 'y'] });
    expect(base).toEqual(snapshot);
    expect(additions).toEqual({ replace: 'new', added: ['x', 'y'], skipped: undefined });
    expect(result.list).not.toBe(base.list);
    expect(result.added).not.toBe(additions.added);
  });

  it('an empty array removes a name; a one-element array becomes a plain value', () => {
    expect(withUserProperties({ a: '1', b: '2' }, { a: [] })).toEqual({ b: '2' });
    expect(withUserProperties(undefined, { a: ['only'] })).toEqual({ a: 'only' });
  });

  it('setUserProperty sets one name on a copy', () => {
    const base: UserProperties = { [McpUserProperty.ComponentType]: McpComponentType.Client };
    const result = setUserProperty(base, McpUserProperty.MqttClientId, 'client-1');
    expect(result).toEqual({ 'MCP-COMPONENT-TYPE': 'mcp-client', 'MCP-MQTT-CLIENT-ID': 'client-1' });
    expect(base).toEqual({ 'MCP-COMPONENT-TYPE': 'mcp-client' });
  });

  it('keeps a name such as __proto__ as an ordinary entry', () => {
    const result = setUserProperty(undefined, '__proto__', 'x');
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__']);
    expect(getUserProperty({ userProperties: result }, '__proto__')).toBe('x');
  });

  it.each([
    ['a NUL character in a value', 'name', 'a\u0000b'],
    ['an unpaired surrogate in a value', 'name', 'a\uD800'],
    ['a value over 65535 bytes', 'name', 'ü'.repeat(32_768)],
    ['a NUL character in a name', 'na\u0000me', 'v'],
  ])('refuses %s with INVALID_PAYLOAD', (_case, name, value) => {
    expect(thrownCode(() => setUserProperty(undefined, name, value))).toBe('INVALID_PAYLOAD');
    expect(thrownCode(() => setUserProperty(undefined, name, ['ok', value]))).toBe('INVALID_PAYLOAD');
  });

  it('accepts a value of exactly 65535 bytes', () => {
    expect(() => setUserProperty(undefined, 'n', 'a'.repeat(65_535))).not.toThrow();
  });

  it('round-trips any well-formed names and values through get', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((value) => !value.includes('\u0000'));
    fc.assert(
      fc.property(
        fc.dictionary(text, fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 3 }))),
        (additions) => {
          const userProperties = withUserProperties(undefined, additions);
          for (const [name, value] of Object.entries(additions)) {
            const values = typeof value === 'string' ? [value] : value;
            expect(getUserPropertyAll({ userProperties }, name)).toEqual(values);
            expect(getUserProperty({ userProperties }, name)).toBe(values[0]);
          }
        },
      ),
    );
  });
});

describe('correlation data', () => {
  it('newCorrelationData is UTF-8 text, 21 URL-safe characters, fresh each time', () => {
    const first = newCorrelationData();
    expect(utf8Decode(first)).toMatch(/^[A-Za-z0-9_-]{21}$/);
    const keys = new Set(Array.from({ length: 1000 }, () => correlationKey(newCorrelationData())));
    expect(keys.size).toBe(1000);
  });

  it('correlationKey is lowercase hex of the bytes', () => {
    expect(correlationKey(new Uint8Array([0, 1, 0xab, 0xff]))).toBe('0001abff');
    expect(correlationKey(new Uint8Array(0))).toBe('');
  });

  it('correlationKey is equal exactly when the bytes are equal', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ maxLength: 16 }), (a, b) => {
        const same = a.length === b.length && a.every((byte, index) => byte === b[index]);
        expect(correlationKey(a) === correlationKey(b)).toBe(same);
      }),
    );
  });

  it('correlationKey reads only the view, not the whole underlying buffer', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 9]);
    expect(correlationKey(backing.subarray(2, 4))).toBe('0102');
  });

  it('getCorrelationData returns a copy of arbitrary bytes, invalid UTF-8 included', () => {
    const received = Buffer.from([0xff, 0xfe, 0x00]);
    const copy = getCorrelationData({ correlationData: received });
    expect(copy).toEqual(new Uint8Array([0xff, 0xfe, 0x00]));
    received[0] = 0;
    expect(copy?.[0]).toBe(0xff);
    expect(getCorrelationData({ correlationData: new Uint8Array(0) })).toEqual(new Uint8Array(0));
    expect(getCorrelationData({})).toBeUndefined();
    expect(getCorrelationData(undefined)).toBeUndefined();
  });
});

describe('single PUBLISH properties', () => {
  it('read content type, response topic and expiry when present and sane', () => {
    const properties = {
      contentType: ContentType.Json,
      responseTopic: '$a2a/v1/reply/o/u/a/r',
      messageExpiryInterval: 0,
    };
    expect(getContentType(properties)).toBe('application/json');
    expect(getResponseTopic(properties)).toBe('$a2a/v1/reply/o/u/a/r');
    expect(getMessageExpiryInterval(properties)).toBe(0);
    expect(getResponseTopic({ responseTopic: '' })).toBeUndefined();
    expect(getMessageExpiryInterval({ messageExpiryInterval: -1 })).toBeUndefined();
    expect(getMessageExpiryInterval({ messageExpiryInterval: 1.5 })).toBeUndefined();
    expect(getContentType(undefined)).toBeUndefined();
  });

  it('check that a payload flagged as UTF-8 really is', () => {
    const flagged = { payloadFormatIndicator: true };
    expect(isUtf8PayloadFormat(flagged)).toBe(true);
    expect(isUtf8PayloadFormat({ payloadFormatIndicator: false })).toBe(false);
    expect(isUtf8PayloadFormat(undefined)).toBe(false);
    expect(isPayloadFormatValid(utf8Encode('{"ok":"ü"}'), flagged)).toBe(true);
    expect(isPayloadFormatValid(new Uint8Array([0x7b, 0xff, 0x7d]), flagged)).toBe(false);
    expect(isPayloadFormatValid('\uD800', flagged)).toBe(false);
    // Unflagged payloads may hold any bytes.
    expect(isPayloadFormatValid(new Uint8Array([0xff]), { payloadFormatIndicator: false })).toBe(true);
    expect(isPayloadFormatValid(new Uint8Array([0xff]), undefined)).toBe(true);
  });
});

describe('createPublishProperties and mergePublishProperties', () => {
  it('build the properties MQTT.js publishes', () => {
    const correlationData = newCorrelationData();
    const properties = createPublishProperties({
      contentType: ContentType.Json,
      payloadFormat: 'utf8',
      responseTopic: '$a2a/v1/reply/org/unit/agent/r1',
      correlationData,
      messageExpiryInterval: 30,
      userProperties: { [A2AUserProperty.Version]: '1.0', [A2AUserProperty.ContextId]: undefined },
    });
    const options: IClientPublishOptions = { qos: 1, properties };
    expect(options.properties).toMatchObject({
      contentType: 'application/json',
      payloadFormatIndicator: true,
      responseTopic: '$a2a/v1/reply/org/unit/agent/r1',
      messageExpiryInterval: 30,
      userProperties: { 'a2a-version': '1.0' },
    });
    expect(correlationKey(getCorrelationData(properties)!)).toBe(correlationKey(correlationData));
  });

  it('hand MQTT.js a Buffer for correlation data (mqtt-packet calls Buffer methods on it)', () => {
    const properties = createPublishProperties({ correlationData: new Uint8Array([1, 2, 3]) });
    expect(Buffer.isBuffer(properties.correlationData)).toBe(true);
    expect([...properties.correlationData!]).toEqual([1, 2, 3]);
  });

  it("copy the caller's correlation bytes, Buffers included", () => {
    for (const bytes of [new Uint8Array([1, 2, 3]), Buffer.from([1, 2, 3])]) {
      const properties = createPublishProperties({ correlationData: bytes });
      bytes[0] = 9;
      expect(properties.correlationData?.[0]).toBe(1);
    }
  });

  it('payloadFormat bytes sets the indicator to 0', () => {
    expect(createPublishProperties({ payloadFormat: 'bytes' }).payloadFormatIndicator).toBe(false);
  });

  it('merge onto a base without mutating it', () => {
    const base: PublishProperties = {
      contentType: 'text/plain',
      messageExpiryInterval: 5,
      userProperties: { [McpUserProperty.ComponentType]: McpComponentType.Server },
    };
    const snapshot = structuredClone(base);
    const merged = mergePublishProperties(base, {
      contentType: ContentType.Json,
      userProperties: { [McpUserProperty.MqttClientId]: 'server-1' },
    });
    expect(merged).toEqual({
      contentType: 'application/json',
      messageExpiryInterval: 5,
      userProperties: { 'MCP-COMPONENT-TYPE': 'mcp-server', 'MCP-MQTT-CLIENT-ID': 'server-1' },
    });
    expect(base).toEqual(snapshot);
    expect(merged.userProperties).not.toBe(base.userProperties);
  });

  it('enforce the message expiry range at its exact bounds', () => {
    expect(createPublishProperties({ messageExpiryInterval: 0 }).messageExpiryInterval).toBe(0);
    expect(
      createPublishProperties({ messageExpiryInterval: MAX_MESSAGE_EXPIRY_INTERVAL }).messageExpiryInterval,
    ).toBe(4_294_967_295);
    for (const invalid of [-1, MAX_MESSAGE_EXPIRY_INTERVAL + 1, 1.5, Number.NaN, Infinity]) {
      expect(thrownCode(() => createPublishProperties({ messageExpiryInterval: invalid }))).toBe(
        'INVALID_PAYLOAD',
      );
    }
  });

  it('refuse a response topic that is empty or has wildcards', () => {
    for (const topic of ['', 'a/+/b', 'a/#', 'a\u0000b']) {
      expect(thrownCode(() => createPublishProperties({ responseTopic: topic }))).toBe('INVALID_TOPIC');
    }
  });

  it('refuse correlation data over 65535 bytes and accept exactly 65535', () => {
    expect(() => createPublishProperties({ correlationData: new Uint8Array(65_535) })).not.toThrow();
    expect(thrownCode(() => createPublishProperties({ correlationData: new Uint8Array(65_536) }))).toBe(
      'INVALID_PAYLOAD',
    );
  });

  it('refuse a content type MQTT cannot carry', () => {
    expect(thrownCode(() => createPublishProperties({ contentType: 'a\uDC00' }))).toBe('INVALID_PAYLOAD');
  });
});

describe('readPublishMetadata', () => {
  it('collects everything a received PUBLISH says about itself', () => {
    const packet: IPublishPacket = {
      cmd: 'publish',
      topic: '$a2a/v1/reply/org/unit/agent/r1',
      payload: Buffer.from('{}'),
      qos: 1,
      dup: false,
      retain: false,
      properties: {
        contentType: 'application/json',
        payloadFormatIndicator: true,
        responseTopic: 'reply/here',
        correlationData: Buffer.from('abc'),
        messageExpiryInterval: 12,
        userProperties: { 'a2a-responder-agent-id': 'worker-7', 'a2a-extensions': ['x', 'y'] },
      },
    };
    const metadata = readPublishMetadata(packet);
    expect(metadata).toEqual({
      topic: '$a2a/v1/reply/org/unit/agent/r1',
      qos: 1,
      retain: false,
      contentType: 'application/json',
      payloadFormat: 'utf8',
      responseTopic: 'reply/here',
      correlationData: new Uint8Array([0x61, 0x62, 0x63]),
      correlationKey: '616263',
      messageExpiryInterval: 12,
      userProperties: { 'a2a-responder-agent-id': ['worker-7'], 'a2a-extensions': ['x', 'y'] },
    });
    expect(metadata.userProperties[A2AUserProperty.ResponderAgentId]).toEqual(['worker-7']);
    expect(metadata.userProperties.toString).toBeUndefined();
  });

  it('copes with a packet without properties', () => {
    expect(readPublishMetadata({ topic: 't', qos: 0, retain: true })).toEqual({
      topic: 't',
      qos: 0,
      retain: true,
      contentType: undefined,
      payloadFormat: 'unspecified',
      responseTopic: undefined,
      correlationData: undefined,
      correlationKey: undefined,
      messageExpiryInterval: undefined,
      userProperties: {},
    });
  });
});
