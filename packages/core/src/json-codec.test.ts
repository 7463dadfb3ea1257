import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MqttAgentsError } from './errors.js';
import {
  DEFAULT_MAX_JSON_BYTES,
  DEFAULT_MAX_JSON_DEPTH,
  FORBIDDEN_JSON_KEYS,
  decodeJson,
  encodeJson,
  isValidUtf8,
  isWellFormedText,
  utf8ByteLength,
  utf8Decode,
  utf8Encode,
  type DecodeResult,
} from './json-codec.js';

const bytes = (...values: number[]) => new Uint8Array(values);

/** Strings of arbitrary UTF-16 code units, lone surrogates included; JSON punctuation is made likely. */
const codeUnits = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 0xffff }),
      fc.constantFrom(0x22, 0x5b, 0x5d, 0x7b, 0x7d, 0x3a, 0xd800),
    ),
    {
      maxLength: 200,
    },
  )
  .map((units) => String.fromCharCode(...units));

function errorCode(result: DecodeResult): string | undefined {
  return result.ok ? undefined : result.error.code;
}

/** True when a JSON value holds a forbidden key anywhere. */
function hasForbiddenKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasForbiddenKey);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).some(
      ([key, item]) =>
        FORBIDDEN_JSON_KEYS.includes(key) ||
        (key === 'constructor' && typeof item === 'object' && item !== null && 'prototype' in item) ||
        hasForbiddenKey(item),
    );
  }
  return false;
}

describe('decodeJson', () => {
  it('decodes a JSON-RPC payload from bytes and from a string', () => {
    const text = '{"jsonrpc":"2.0","id":0,"method":"ping"}';
    expect(decodeJson(utf8Encode(text))).toEqual({
      ok: true,
      value: { jsonrpc: '2.0', id: 0, method: 'ping' },
    });
    expect(decodeJson(text)).toEqual({ ok: true, value: { jsonrpc: '2.0', id: 0, method: 'ping' } });
  });

  it('decodes scalars, including null and false', () => {
    expect(decodeJson('null')).toEqual({ ok: true, value: null });
    expect(decodeJson('false')).toEqual({ ok: true, value: false });
    expect(decodeJson(' 0 ')).toEqual({ ok: true, value: 0 });
  });

  it('reports a zero-length payload as EMPTY and whitespace as INVALID_JSON', () => {
    expect(errorCode(decodeJson(new Uint8Array(0)))).toBe('EMPTY');
    expect(errorCode(decodeJson(''))).toBe('EMPTY');
    expect(errorCode(decodeJson('  \n'))).toBe('INVALID_JSON');
  });

  it('reports malformed JSON as INVALID_JSON with a message', () => {
    const result = decodeJson('{"a":');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('INVALID_JSON');
      expect(result.error.message).toMatch(/^payload is not valid json/);
    }
    expect(errorCode(decodeJson('{"a":1}{"b":2}'))).toBe('INVALID_JSON');
    expect(errorCode(decodeJson("{'a':1}"))).toBe('INVALID_JSON');
  });

  it('rejects malformed UTF-8: invalid byte, overlong form, encoded surrogate, truncated sequence', () => {
    expect(errorCode(decodeJson(bytes(0x22, 0xff, 0x22)))).toBe('INVALID_UTF8');
    expect(errorCode(decodeJson(bytes(0x22, 0xc0, 0xaf, 0x22)))).toBe('INVALID_UTF8');
    expect(errorCode(decodeJson(bytes(0x22, 0xed, 0xa0, 0x80, 0x22)))).toBe('INVALID_UTF8');
    expect(errorCode(decodeJson(bytes(0x22, 0xe2, 0x82)))).toBe('INVALID_UTF8');
  });

  it('rejects a string payload with an unpaired surrogate as INVALID_UTF8', () => {
    expect(errorCode(decodeJson('"\uD800"'))).toBe('INVALID_UTF8');
    // An escaped surrogate is plain ASCII JSON text and decodes to the lone code unit.
    expect(decodeJson('"\\uD800"')).toEqual({ ok: true, value: '\uD800' });
  });

  it('accepts multi-byte UTF-8 text', () => {
    expect(decodeJson(utf8Encode('{"name":"Zürich 東京 🚀"}'))).toEqual({
      ok: true,
      value: { name: 'Zürich 東京 🚀' },
    });
  });

  it('strips one leading byte order mark, and only one', () => {
    expect(decodeJson(bytes(0xef, 0xbb, 0xbf, 0x31))).toEqual({ ok: true, value: 1 });
    expect(decodeJson('\uFEFF[1]')).toEqual({ ok: true, value: [1] });
    expect(errorCode(decodeJson(bytes(0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, 0x31)))).toBe('INVALID_JSON');
    expect(errorCode(decodeJson(bytes(0xef, 0xbb, 0xbf)))).toBe('INVALID_JSON');
  });

  it.each([
    ['__proto__', '{"__proto__":{"polluted":true}}'],
    ['constructor', '{"constructor":{"prototype":{}}}'],
    ['constructor', '{"a":{"constructor":{"prototype":{"polluted":true}}}}'],
    ['__proto__', '{"a":[1,{"b":{"__proto__":null}}]}'],
    ['__proto__', '[{"ok":1},{"x":{"y":{"\\u005f_proto__":1}}}]'],
  ])('rejects the forbidden key %s (%s)', (key, text) => {
    const result = decodeJson(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('FORBIDDEN_KEY');
      expect(result.error.message).toContain(`'${key}'`);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('names where a forbidden key was found', () => {
    const result = decodeJson('{"params":{"items":[0,{"constructor":{"prototype":1}}]}}');
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'FORBIDDEN_KEY',
        message: "forbidden key 'constructor' at $.params.items[1].constructor",
      },
    });
  });

  it('accepts plain constructor and prototype keys, which tool arguments and schemas may use', () => {
    expect(
      decodeJson('{"arguments":{"constructor":"Car","prototype":{"x":1},"c":{"constructor":{}}}}'),
    ).toEqual({
      ok: true,
      value: { arguments: { constructor: 'Car', prototype: { x: 1 }, c: { constructor: {} } } },
    });
  });

  it('accepts forbidden words as values and as parts of longer keys', () => {
    expect(decodeJson('{"name":"__proto__","constructorName":"x","prototypes":["constructor"]}')).toEqual({
      ok: true,
      value: { name: '__proto__', constructorName: 'x', prototypes: ['constructor'] },
    });
  });

  describe('size limit', () => {
    it('defaults to 1 MiB', () => {
      expect(DEFAULT_MAX_JSON_BYTES).toBe(1_048_576);
    });

    it('accepts exactly maxBytes and rejects one byte more, for bytes', () => {
      const atLimit = utf8Encode(`"${'a'.repeat(8)}"`); // 10 bytes
      expect(decodeJson(atLimit, { maxBytes: 10 }).ok).toBe(true);
      expect(errorCode(decodeJson(atLimit, { maxBytes: 9 }))).toBe('TOO_LARGE');
    });

    it('counts UTF-8 bytes, not UTF-16 units, for strings', () => {
      const text = '"ü🚀"'; // 1 + 2 + 4 + 1 = 8 bytes, 5 UTF-16 units
      expect(utf8Encode(text).byteLength).toBe(8);
      expect(decodeJson(text, { maxBytes: 8 }).ok).toBe(true);
      expect(errorCode(decodeJson(text, { maxBytes: 7 }))).toBe('TOO_LARGE');
    });

    it('checks the size before the content, so an oversize garbage payload is TOO_LARGE', () => {
      expect(errorCode(decodeJson(new Uint8Array(11).fill(0xff), { maxBytes: 10 }))).toBe('TOO_LARGE');
    });

    it('counts a byte order mark toward the limit', () => {
      expect(decodeJson(bytes(0xef, 0xbb, 0xbf, 0x31), { maxBytes: 4 }).ok).toBe(true);
      expect(errorCode(decodeJson(bytes(0xef, 0xbb, 0xbf, 0x31), { maxBytes: 3 }))).toBe('TOO_LARGE');
    });

    it('applies the default limit at the exact boundary', () => {
      const atLimit = new Uint8Array(DEFAULT_MAX_JSON_BYTES).fill(0x20);
      atLimit[0] = 0x30; // "0" followed by spaces
      expect(decodeJson(atLimit)).toEqual({ ok: true, value: 0 });
      const over = new Uint8Array(DEFAULT_MAX_JSON_BYTES + 1).fill(0x20);
      over[0] = 0x30;
      expect(errorCode(decodeJson(over))).toBe('TOO_LARGE');
      expect(decodeJson(over, { maxBytes: DEFAULT_MAX_JSON_BYTES + 1 }).ok).toBe(true);
    });

    it('holds at the boundary for any payload size and limit', () => {
      fc.assert(
        fc.property(
          fc.string({ unit: 'grapheme', maxLength: 40 }),
          fc.integer({ min: 0, max: 200 }),
          (s, limit) => {
            const payload = utf8Encode(JSON.stringify(s));
            const result = decodeJson(payload, { maxBytes: limit });
            expect(errorCode(result) === 'TOO_LARGE').toBe(payload.byteLength > limit);
            expect(errorCode(decodeJson(JSON.stringify(s), { maxBytes: limit })) === 'TOO_LARGE').toBe(
              payload.byteLength > limit,
            );
          },
        ),
      );
    });
  });

  describe('depth limit', () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

    it(`accepts ${DEFAULT_MAX_JSON_DEPTH} levels and rejects one more`, () => {
      expect(decodeJson(nested(DEFAULT_MAX_JSON_DEPTH)).ok).toBe(true);
      expect(errorCode(decodeJson(nested(DEFAULT_MAX_JSON_DEPTH + 1)))).toBe('TOO_DEEP');
    });

    it('counts objects and arrays alike and honours maxDepth', () => {
      expect(decodeJson('{"a":[{"b":1}]}', { maxDepth: 3 }).ok).toBe(true);
      expect(errorCode(decodeJson('{"a":[{"b":{}}]}', { maxDepth: 3 }))).toBe('TOO_DEEP');
      expect(decodeJson('1', { maxDepth: 0 }).ok).toBe(true);
    });

    it('survives a payload nested a hundred thousand levels deep', () => {
      expect(errorCode(decodeJson(nested(100_000)))).toBe('TOO_DEEP');
    });
  });

  describe('properties', () => {
    it('never throws on arbitrary bytes', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 200 }),
          fc.integer({ min: 0, max: 300 }),
          (payload, maxBytes) => {
            const result = decodeJson(payload, { maxBytes });
            return result.ok || result.error.message.length > 0;
          },
        ),
        { numRuns: 500 },
      );
    });

    it('never throws on arbitrary strings, including lone surrogates', () => {
      fc.assert(
        fc.property(codeUnits, (payload) => {
          const result = decodeJson(payload);
          return result.ok || result.error.message.length > 0;
        }),
        { numRuns: 500 },
      );
    });

    it('never throws on near-JSON text', () => {
      fc.assert(
        fc.property(
          fc.jsonValue().map((value) => JSON.stringify(value)),
          fc.nat(),
          fc.string({ maxLength: 3 }),
          (text, position, insert) => {
            const at = position % (text.length + 1);
            const mutated = text.slice(0, at) + insert + text.slice(at + 1);
            const result = decodeJson(utf8Encode(mutated));
            return result.ok || result.error.message.length > 0;
          },
        ),
      );
    });

    it('round-trips every JSON value without a forbidden key, and rejects the others', () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
          const result = decodeJson(encodeJson(value));
          if (hasForbiddenKey(value)) {
            expect(errorCode(result)).toBe('FORBIDDEN_KEY');
          } else {
            // JSON.parse(JSON.stringify(v)) is the reference: it maps -0 to 0, as any JSON codec must.
            expect(result).toEqual({ ok: true, value: JSON.parse(JSON.stringify(value)) });
          }
        }),
        { numRuns: 500 },
      );
    });

    it('rejects a forbidden key hidden at any depth', () => {
      const forbiddenKey = fc.constantFrom(...FORBIDDEN_JSON_KEYS, 'constructor.prototype');
      const wrap = fc.array(fc.oneof(fc.constant('array'), fc.string({ maxLength: 5 })), { maxLength: 20 });
      fc.assert(
        fc.property(forbiddenKey, wrap, fc.jsonValue({ maxDepth: 2 }), (shape, path, leaf) => {
          let text =
            shape === 'constructor.prototype'
              ? `{"constructor":{"prototype":${JSON.stringify(leaf)}}}`
              : `{${JSON.stringify(shape)}:${JSON.stringify(leaf)}}`;
          for (const step of path) {
            text = step === 'array' ? `[1,${text},null]` : `{"${step.replace(/[^a-z]/gi, '')}x":${text}}`;
          }
          const result = decodeJson(text);
          expect(errorCode(result)).toBe('FORBIDDEN_KEY');
        }),
        { numRuns: 300 },
      );
    });

    it('rejects every payload that is not valid UTF-8', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 60 }), (payload) => {
          fc.pre(!isValidUtf8(payload));
          expect(errorCode(decodeJson(payload))).toBe('INVALID_UTF8');
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('encodeJson', () => {
  it('encodes UTF-8 without a byte order mark', () => {
    expect(Array.from(encodeJson({ a: 'ü' }))).toEqual(Array.from(utf8Encode('{"a":"ü"}')));
  });

  it('escapes unpaired surrogates, so the output is always valid UTF-8', () => {
    const encoded = encodeJson({ text: 'x\uD800y' });
    expect(isValidUtf8(encoded)).toBe(true);
    expect(decodeJson(encoded)).toEqual({ ok: true, value: { text: 'x\uD800y' } });
  });

  it('throws INVALID_PAYLOAD for values JSON cannot carry', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const value of [undefined, () => 1, Symbol('s'), 1n, cycle]) {
      expect(() => encodeJson(value)).toThrow(
        expect.objectContaining({ name: 'MqttAgentsError', code: 'INVALID_PAYLOAD' }),
      );
    }
  });

  it('enforces maxBytes at the exact boundary', () => {
    expect(encodeJson('abc', { maxBytes: 5 }).byteLength).toBe(5);
    let caught: unknown;
    try {
      encodeJson('abcd', { maxBytes: 5 });
    } catch (error) {
      caught = error;
    }
    expect(MqttAgentsError.hasCode(caught, 'PAYLOAD_TOO_LARGE')).toBe(true);
  });
});

describe('UTF-8 helpers', () => {
  it('isValidUtf8 accepts well-formed text and rejects malformed bytes', () => {
    expect(isValidUtf8(utf8Encode('plain ü 🚀'))).toBe(true);
    expect(isValidUtf8(new Uint8Array(0))).toBe(true);
    expect(isValidUtf8(bytes(0xc3))).toBe(false);
    expect(isValidUtf8(bytes(0xf8, 0x88, 0x80, 0x80, 0x80))).toBe(false);
    expect(isValidUtf8(bytes(0xf4, 0x90, 0x80, 0x80))).toBe(false); // above U+10FFFF
  });

  it('isValidUtf8 agrees with encoding of well-formed strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(isValidUtf8(utf8Encode(text))).toBe(true);
        expect(utf8Decode(utf8Encode(text))).toBe(text);
        expect(utf8ByteLength(text)).toBe(utf8Encode(text).byteLength);
      }),
    );
  });

  it('utf8ByteLength matches TextEncoder even for lone surrogates', () => {
    fc.assert(
      fc.property(codeUnits, (text) => {
        expect(utf8ByteLength(text)).toBe(utf8Encode(text).byteLength);
      }),
    );
  });

  it('utf8Decode keeps a byte order mark and throws INVALID_PAYLOAD on malformed bytes', () => {
    expect(utf8Decode(bytes(0xef, 0xbb, 0xbf, 0x61))).toBe('\uFEFFa');
    expect(() => utf8Decode(bytes(0xff))).toThrow(expect.objectContaining({ code: 'INVALID_PAYLOAD' }));
  });

  it('isWellFormedText finds unpaired surrogates', () => {
    expect(isWellFormedText('a🚀b')).toBe(true);
    expect(isWellFormedText('\uD83D')).toBe(false);
    expect(isWellFormedText('\uDE80x')).toBe(false);
    expect(isWellFormedText('\uDE80\uD83D')).toBe(false);
  });
});
