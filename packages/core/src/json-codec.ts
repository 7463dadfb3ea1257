import { MqttAgentsError } from './errors.js';
import { utf8ByteLength } from './topic-filter.js';

/**
 * The one JSON codec for wire payloads. Everything that arrives from MQTT goes through `decodeJson`, which
 * never throws and reports what was wrong as data. Runtime-neutral: Web `TextEncoder`/`TextDecoder` only.
 *
 * Decisions, in one place:
 * - Size: at most `DEFAULT_MAX_JSON_BYTES` (1 MiB) unless the caller passes `maxBytes`. The limit counts the
 *   raw UTF-8 bytes (a byte order mark included) and is checked before any decoding, so an oversize payload
 *   costs nothing. 1 MiB matches the default maximum packet size of common brokers (EMQX) and is far above
 *   any JSON-RPC message the protocols produce; pass a larger `maxBytes` for bulky tool results.
 * - Depth: objects and arrays nest at most `DEFAULT_MAX_JSON_DEPTH` (128) levels. `JSON.parse` copes with
 *   much deeper input, but `JSON.stringify`, loggers and validators recurse and would overflow the stack
 *   later, far from the wire.
 * - UTF-8: checked strictly (overlong forms, lone surrogates and truncated sequences are rejected). A string
 *   payload with an unpaired surrogate is rejected the same way, since it has no UTF-8 form.
 * - Byte order mark: one leading BOM is stripped before parsing (RFC 8259 lets parsers ignore it, and some
 *   peers on other platforms emit one). `encodeJson` never writes one.
 * - Empty: a zero-length payload is `EMPTY`, distinct from `INVALID_JSON`, because an empty payload is a
 *   meaningful signal on presence topics. Whitespace alone is `INVALID_JSON`.
 * - Prototype-pollution shapes are rejected at any depth (not stripped): every `__proto__` key, and a
 *   `constructor` key whose value is an object holding `prototype` (the `constructor.prototype` path), so a
 *   decoded value can be merged or spread anywhere. A plain `constructor` or `prototype` key is ordinary
 *   data (MCP tool arguments and JSON Schemas may legitimately use those names).
 */

/** Default largest payload `decodeJson` accepts, in bytes: 1 MiB. */
export const DEFAULT_MAX_JSON_BYTES = 1024 * 1024;

/** Default deepest nesting of objects and arrays `decodeJson` accepts. */
export const DEFAULT_MAX_JSON_DEPTH = 128;

/** Object keys that `decodeJson` refuses at any depth, whatever their value. */
export const FORBIDDEN_JSON_KEYS: readonly string[] = ['__proto__'];

/**
 * Why `decodeJson` refused a payload: empty, larger than `maxBytes`, nested deeper than `maxDepth`, not
 * UTF-8, not JSON, or holding a key of {@link FORBIDDEN_JSON_KEYS}.
 */
export type JsonDecodeErrorCode =
  'EMPTY' | 'TOO_LARGE' | 'TOO_DEEP' | 'INVALID_UTF8' | 'INVALID_JSON' | 'FORBIDDEN_KEY';

/** A payload `decodeJson` refused: data, never thrown. */
export interface JsonDecodeError {
  /** The kind of failure, for programmatic checks. */
  code: JsonDecodeErrorCode;
  /** A human-readable explanation (the limit exceeded, the key refused), for logs. */
  message: string;
}

/** What `decodeJson` returns: the decoded value, or the reason it refused the payload. */
export type DecodeResult = { ok: true; value: unknown } | { ok: false; error: JsonDecodeError };

/** Limits `decodeJson` enforces on untrusted payloads. */
export interface DecodeJsonOptions {
  /** Largest payload accepted, in UTF-8 bytes. Default `DEFAULT_MAX_JSON_BYTES`. */
  maxBytes?: number;
  /** Deepest nesting of objects and arrays accepted. Default `DEFAULT_MAX_JSON_DEPTH`. */
  maxDepth?: number;
}

/** Limits `encodeJson` enforces on what it produces. */
export interface EncodeJsonOptions {
  /** When set, values whose encoding is larger than this many bytes throw `PAYLOAD_TOO_LARGE`. */
  maxBytes?: number;
}

const FORBIDDEN = new Set(FORBIDDEN_JSON_KEYS);
const encoder = new TextEncoder();
// `ignoreBOM: true` keeps a leading BOM in the output, so `utf8Decode` is byte-exact; `decodeJson` strips it.
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const BOM = '\uFEFF';

/** Encode text as UTF-8. Unpaired surrogates become U+FFFD, as `TextEncoder` does. */
export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Decode UTF-8 strictly, keeping a leading byte order mark if there is one.
 * Throws `INVALID_PAYLOAD` on malformed bytes; check with `isValidUtf8` first when the bytes are untrusted.
 */
export function utf8Decode(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch (error) {
    throw new MqttAgentsError('INVALID_PAYLOAD', 'invalid utf-8 in payload', { cause: error });
  }
}

/** True when `bytes` is well-formed UTF-8 (no overlong forms, surrogates, or truncated sequences). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strictDecoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** True when `text` has a UTF-8 form, i.e. contains no unpaired surrogate. */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

// One UTF-8 length count for the whole package (topic-filter.ts holds it; topics need it too).
export { utf8ByteLength };

function failure(code: JsonDecodeErrorCode, message: string): DecodeResult {
  return { ok: false, error: { code, message } };
}

function limitOption(value: number | undefined, fallback: number): number {
  return value === undefined || Number.isNaN(value) ? fallback : value;
}

/**
 * Decode a JSON payload from the wire. Never throws: every failure comes back as
 * `{ ok: false, error: { code, message } }`. See the module comment for the limits and rules.
 */
export function decodeJson(payload: Uint8Array | string, options: DecodeJsonOptions = {}): DecodeResult {
  const maxBytes = limitOption(options.maxBytes, DEFAULT_MAX_JSON_BYTES);
  const maxDepth = limitOption(options.maxDepth, DEFAULT_MAX_JSON_DEPTH);
  let text: string;
  try {
    if (typeof payload === 'string') {
      if (payload.length === 0) return failure('EMPTY', 'empty payload');
      // Each UTF-16 unit takes at least one UTF-8 byte: a cheap early rejection before counting exactly.
      if (payload.length > maxBytes || utf8ByteLength(payload) > maxBytes) {
        return failure('TOO_LARGE', `payload exceeds ${maxBytes} bytes`);
      }
      if (!isWellFormedText(payload)) return failure('INVALID_UTF8', 'payload has an unpaired surrogate');
      text = payload;
    } else {
      if (payload.byteLength === 0) return failure('EMPTY', 'empty payload');
      if (payload.byteLength > maxBytes) {
        return failure('TOO_LARGE', `payload of ${payload.byteLength} bytes exceeds ${maxBytes} bytes`);
      }
      try {
        text = strictDecoder.decode(payload);
      } catch {
        return failure('INVALID_UTF8', 'payload is not valid utf-8');
      }
    }
    if (text.startsWith(BOM)) text = text.slice(1);

    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return failure('INVALID_JSON', `payload is not valid json: ${reason}`);
    }
    const problem = inspect(value, maxDepth);
    if (problem) return { ok: false, error: problem };
    return { ok: true, value };
  } catch (error) {
    // Nothing above should throw; this keeps the never-throws promise even for exotic engines.
    const reason = error instanceof Error ? error.message : String(error);
    return failure('INVALID_JSON', `payload could not be decoded: ${reason}`);
  }
}

interface Frame {
  value: object;
  depth: number;
  parent: Frame | undefined;
  key: string | number;
}

/** A readable location such as `$.params.items[3]`, built only when something is reported. */
function pathOf(frame: Frame | undefined, key?: string): string {
  const parts: string[] = key === undefined ? [] : [formatKey(key)];
  for (let current = frame; current?.parent; current = current.parent) parts.push(formatKey(current.key));
  return `$${parts.reverse().join('')}`;
}

function formatKey(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`;
  return /^[A-Za-z_$][\w$]{0,63}$/.test(key) ? `.${key}` : `[${JSON.stringify(key.slice(0, 64))}]`;
}

/** True for `{ prototype: ... }`: with a `constructor` key around it, the classic pollution path. */
function holdsPrototype(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, 'prototype')
  );
}

/** Walk a parsed value without recursion: reject forbidden keys and excessive nesting. */
function inspect(root: unknown, maxDepth: number): JsonDecodeError | undefined {
  if (typeof root !== 'object' || root === null) return undefined;
  const stack: Frame[] = [{ value: root, depth: 1, parent: undefined, key: '' }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.depth > maxDepth) {
      return { code: 'TOO_DEEP', message: `json nesting exceeds ${maxDepth} levels at ${pathOf(frame)}` };
    }
    const { value, depth } = frame;
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        const item: unknown = value[index];
        if (typeof item === 'object' && item !== null) {
          stack.push({ value: item, depth: depth + 1, parent: frame, key: index });
        }
      }
      continue;
    }
    // JSON.parse defines `__proto__` as an own data property, so Object.keys sees it.
    for (const key of Object.keys(value)) {
      const item: unknown = (value as Record<string, unknown>)[key];
      if (FORBIDDEN.has(key) || (key === 'constructor' && holdsPrototype(item))) {
        return { code: 'FORBIDDEN_KEY', message: `forbidden key '${key}' at ${pathOf(frame, key)}` };
      }
      if (typeof item === 'object' && item !== null) {
        stack.push({ value: item, depth: depth + 1, parent: frame, key });
      }
    }
  }
  return undefined;
}

/**
 * Encode a value as UTF-8 JSON (no byte order mark; unpaired surrogates are escaped, so the output is
 * always valid UTF-8). Throws `INVALID_PAYLOAD` for values JSON cannot represent (undefined, functions,
 * symbols, bigints, cycles) and `PAYLOAD_TOO_LARGE` when `options.maxBytes` is exceeded.
 */
export function encodeJson(value: unknown, options: EncodeJsonOptions = {}): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MqttAgentsError('INVALID_PAYLOAD', `value cannot be encoded as json: ${reason}`, {
      cause: error,
    });
  }
  if (text === undefined) {
    throw new MqttAgentsError('INVALID_PAYLOAD', `value of type ${typeof value} cannot be encoded as json`);
  }
  const bytes = encoder.encode(text);
  if (options.maxBytes !== undefined && bytes.byteLength > options.maxBytes) {
    throw new MqttAgentsError(
      'PAYLOAD_TOO_LARGE',
      `json payload of ${bytes.byteLength} bytes exceeds ${options.maxBytes} bytes`,
      { details: { size: bytes.byteLength, limit: options.maxBytes } },
    );
  }
  return bytes;
}
