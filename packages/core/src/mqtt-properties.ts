import type { IClientPublishOptions } from 'mqtt';
import { MqttAgentsError } from './errors.js';
import { isValidUtf8, isWellFormedText, utf8Encode } from './json-codec.js';
import { randomId } from './random-id.js';
import { assertTopicName, utf8ByteLength } from './topic-filter.js';

/**
 * MQTT 5 properties as the MCP and A2A bindings use them: the user property names both specs define, and
 * accessors over MQTT.js packet properties that never mutate their input and never throw on what a peer
 * sent. Writers validate what we are about to send, so a bad value fails at the call site instead of
 * making the broker drop the connection.
 *
 * User property names are matched exactly (MQTT compares them as byte strings; no case folding).
 */

// The names and well-known values are in property-names.ts (exported through the grammar entry).

/** Largest Message Expiry Interval MQTT can carry, in seconds (a four-byte integer). */
export const MAX_MESSAGE_EXPIRY_INTERVAL = 0xffff_ffff;

/** Largest Correlation Data MQTT can carry, in bytes (two-byte length prefix). */
export const MAX_CORRELATION_DATA_BYTES = 0xffff;

// --- types ---

/** MQTT.js shape of user properties: a repeated name holds an array of values. */
export type UserProperties = Record<string, string | string[]>;

/** Properties of an outgoing PUBLISH, exactly as `client.publish(topic, payload, { properties })` takes them. */
export type PublishProperties = NonNullable<IClientPublishOptions['properties']>;

/** Any MQTT 5 property bag that may carry user properties (PUBLISH, CONNACK, SUBACK, DISCONNECT, ...). */
export interface UserPropertiesCarrier {
  userProperties?: UserProperties | undefined;
}

/** The PUBLISH properties we read. MQTT.js packet properties fit (their Buffers are Uint8Arrays). */
export interface PublishPropertiesView extends UserPropertiesCarrier {
  payloadFormatIndicator?: boolean | undefined;
  messageExpiryInterval?: number | undefined;
  responseTopic?: string | undefined;
  correlationData?: Uint8Array | undefined;
  contentType?: string | undefined;
}

/** The parts of a received PUBLISH that `readPublishMetadata` looks at; an MQTT.js `IPublishPacket` fits. */
export interface PublishPacketView {
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  properties?: PublishPropertiesView | undefined;
}

/** What a received PUBLISH says about itself, in one plain object. */
export interface PublishMetadata {
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  contentType: string | undefined;
  /** `utf8` when the Payload Format Indicator is 1; otherwise the payload is unspecified bytes. */
  payloadFormat: 'utf8' | 'unspecified';
  responseTopic: string | undefined;
  /** A copy of the Correlation Data, opaque bytes. */
  correlationData: Uint8Array | undefined;
  /** `correlationKey(correlationData)`, ready to look up an in-flight request. */
  correlationKey: string | undefined;
  /** Remaining lifetime in seconds, as the broker forwarded it. */
  messageExpiryInterval: number | undefined;
  /** Every user property, each name with all its values in order. */
  userProperties: Readonly<Record<string, readonly string[]>>;
}

/**
 * The PUBLISH properties `createPublishProperties` and `mergePublishProperties` set; every value is
 * validated as MQTT 5 requires. An omitted member leaves the base value as it was.
 */
export interface PublishPropertiesOptions {
  /** Content Type, for example `application/json`. */
  contentType?: string;
  /** `utf8` sets the Payload Format Indicator to 1, `bytes` to 0. Omitted: left as it was. */
  payloadFormat?: 'utf8' | 'bytes';
  /** Response Topic: a topic name (no wildcards) the receiver publishes its reply to. */
  responseTopic?: string;
  /** Correlation Data the reply echoes, so the requester can match it to its request. */
  correlationData?: Uint8Array;
  /** Seconds, an integer from 0 to `MAX_MESSAGE_EXPIRY_INTERVAL`. */
  messageExpiryInterval?: number;
  /** Added to (and replacing same-named entries of) the base user properties. */
  userProperties?: Readonly<Record<string, string | readonly string[] | undefined>>;
}

// --- validation of what we send ---

/** Why `text` cannot be an MQTT UTF-8 string, or undefined when it can. */
function mqttStringProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains U+0000';
  if (!isWellFormedText(text)) return 'contains an unpaired surrogate';
  if (utf8ByteLength(text) > 0xffff) return 'is longer than 65535 bytes';
  return undefined;
}

function checkUserProperty(name: string, value: string): void {
  const nameProblem = typeof name === 'string' ? mqttStringProblem(name) : 'is not a string';
  if (nameProblem) {
    throw new MqttAgentsError('INVALID_PAYLOAD', `invalid user property name: ${nameProblem}`, {
      details: { property: name },
    });
  }
  const valueProblem = typeof value === 'string' ? mqttStringProblem(value) : 'is not a string';
  if (valueProblem) {
    throw new MqttAgentsError('INVALID_PAYLOAD', `invalid user property '${name}': value ${valueProblem}`, {
      details: { property: name },
    });
  }
}

// --- user properties ---

function rawUserProperty(properties: UserPropertiesCarrier | undefined, name: string): unknown {
  const bag: unknown = properties?.userProperties;
  if (typeof bag !== 'object' || bag === null || !Object.hasOwn(bag, name)) return undefined;
  return (bag as Record<string, unknown>)[name];
}

/** The first value of a user property, or undefined. MQTT.js gives a repeated name as an array. */
export function getUserProperty(
  properties: UserPropertiesCarrier | undefined,
  name: string,
): string | undefined {
  const value = rawUserProperty(properties, name);
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.find((item: unknown): item is string => typeof item === 'string');
  return undefined;
}

/** Every value of a user property, in the order received; empty when absent. */
export function getUserPropertyAll(properties: UserPropertiesCarrier | undefined, name: string): string[] {
  const value = rawUserProperty(properties, name);
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item: unknown): item is string => typeof item === 'string');
  return [];
}

/**
 * New user properties: `base` (copied, never mutated) with `additions` applied. A name in `additions`
 * replaces the same name in `base`; an array value sends the name once per element (an empty array removes
 * it); an undefined value is skipped, which suits optional properties. Throws `INVALID_PAYLOAD` for names
 * or values MQTT cannot carry (U+0000, unpaired surrogates, more than 65535 bytes).
 */
export function withUserProperties(
  base: UserProperties | undefined,
  additions: Readonly<Record<string, string | readonly string[] | undefined>>,
): UserProperties {
  const entries = new Map<string, string | string[]>();
  if (base) {
    for (const name of Object.keys(base)) {
      const value = base[name];
      if (typeof value === 'string') entries.set(name, value);
      else if (Array.isArray(value)) entries.set(name, [...value]);
    }
  }
  for (const [name, value] of Object.entries(additions)) {
    if (value === undefined) continue;
    if (typeof value === 'string') {
      checkUserProperty(name, value);
      entries.set(name, value);
      continue;
    }
    for (const item of value) checkUserProperty(name, item);
    if (value.length === 0) entries.delete(name);
    else entries.set(name, value.length === 1 ? value[0]! : [...value]);
  }
  // fromEntries defines own properties, so even a name like `__proto__` stays an ordinary entry.
  return Object.fromEntries(entries);
}

/** New user properties with one name set (replacing earlier values). See `withUserProperties`. */
export function setUserProperty(
  base: UserProperties | undefined,
  name: string,
  value: string | readonly string[],
): UserProperties {
  return withUserProperties(base, { [name]: value });
}

// --- single PUBLISH properties ---

/** The Content Type, or undefined. */
export function getContentType(properties: PublishPropertiesView | undefined): string | undefined {
  const value: unknown = properties?.contentType;
  return typeof value === 'string' ? value : undefined;
}

/** True when the Payload Format Indicator says the payload is UTF-8 text. */
export function isUtf8PayloadFormat(properties: PublishPropertiesView | undefined): boolean {
  const value: unknown = properties?.payloadFormatIndicator;
  return value === true || value === 1;
}

/**
 * False when the payload is flagged as UTF-8 but is not valid UTF-8 (the MQTT spec lets a receiver treat
 * that as a protocol error). True otherwise, including for unflagged payloads of any bytes.
 */
export function isPayloadFormatValid(
  payload: Uint8Array | string,
  properties: PublishPropertiesView | undefined,
): boolean {
  if (!isUtf8PayloadFormat(properties)) return true;
  return typeof payload === 'string' ? isWellFormedText(payload) : isValidUtf8(payload);
}

/** The Response Topic, or undefined when absent or empty. */
export function getResponseTopic(properties: PublishPropertiesView | undefined): string | undefined {
  const value: unknown = properties?.responseTopic;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The Message Expiry Interval in seconds, or undefined when absent or not a valid interval. */
export function getMessageExpiryInterval(properties: PublishPropertiesView | undefined): number | undefined {
  const value: unknown = properties?.messageExpiryInterval;
  return typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 0 &&
    value <= MAX_MESSAGE_EXPIRY_INTERVAL
    ? value
    : undefined;
}

/**
 * A copy of the Correlation Data as opaque bytes, or undefined when absent. Zero-length data is returned
 * as an empty array. A string (only possible for locally built properties) is taken as its UTF-8 bytes.
 */
export function getCorrelationData(properties: PublishPropertiesView | undefined): Uint8Array | undefined {
  const value: unknown = properties?.correlationData;
  // `new Uint8Array(view)` copies into a plain Uint8Array; `Buffer#slice` would share memory instead.
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (typeof value === 'string') return utf8Encode(value);
  return undefined;
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** A stable string key for any correlation bytes (lowercase hex): equal bytes give equal keys. */
export function correlationKey(bytes: Uint8Array): string {
  let key = '';
  for (let index = 0; index < bytes.length; index++) key += HEX[bytes[index] as number];
  return key;
}

/**
 * Fresh Correlation Data: 21 random URL-safe characters as UTF-8 text, since some peers decode correlation data as
 * a string. Inbound correlation data is still treated as opaque bytes.
 */
export function newCorrelationData(): Uint8Array {
  return utf8Encode(randomId());
}

// MQTT.js (mqtt-packet) concatenates binary properties with Buffer methods; hand it a Buffer view of our
// bytes where Buffer exists (Node, and browser bundles that polyfill it), without importing it.
type BufferFrom = (buffer: ArrayBufferLike, byteOffset: number, length: number) => Uint8Array;
function asWireBytes(bytes: Uint8Array): PublishProperties['correlationData'] {
  const NodeBuffer = (globalThis as { Buffer?: { from: BufferFrom } }).Buffer;
  const wire = NodeBuffer ? NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
  return wire as PublishProperties['correlationData'];
}

/**
 * New PUBLISH properties: `base` (never mutated) with `options` applied, validated for the wire. Throws
 * `INVALID_TOPIC` for a Response Topic that is not a valid topic name (empty, wildcards, NUL), and `INVALID_PAYLOAD` for a value MQTT
 * cannot carry (bad strings, Correlation Data over 65535 bytes, an expiry that is not an integer from 0 to
 * `MAX_MESSAGE_EXPIRY_INTERVAL`).
 */
export function mergePublishProperties(
  base: PublishProperties | undefined,
  options: PublishPropertiesOptions,
): PublishProperties {
  const result: PublishProperties = { ...base };
  if (base?.userProperties) result.userProperties = withUserProperties(base.userProperties, {});
  if (options.contentType !== undefined) {
    const problem = mqttStringProblem(options.contentType);
    if (problem) throw new MqttAgentsError('INVALID_PAYLOAD', `invalid content type: ${problem}`);
    result.contentType = options.contentType;
  }
  if (options.payloadFormat !== undefined) result.payloadFormatIndicator = options.payloadFormat === 'utf8';
  if (options.responseTopic !== undefined) result.responseTopic = assertTopicName(options.responseTopic);
  if (options.correlationData !== undefined) {
    const bytes = options.correlationData;
    if (bytes.byteLength > MAX_CORRELATION_DATA_BYTES) {
      throw new MqttAgentsError(
        'INVALID_PAYLOAD',
        `correlation data of ${bytes.byteLength} bytes exceeds ${MAX_CORRELATION_DATA_BYTES} bytes`,
      );
    }
    result.correlationData = asWireBytes(new Uint8Array(bytes));
  }
  if (options.messageExpiryInterval !== undefined) {
    const seconds = options.messageExpiryInterval;
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_MESSAGE_EXPIRY_INTERVAL) {
      throw new MqttAgentsError(
        'INVALID_PAYLOAD',
        `invalid message expiry interval ${seconds}: must be an integer from 0 to ${MAX_MESSAGE_EXPIRY_INTERVAL}`,
      );
    }
    result.messageExpiryInterval = seconds;
  }
  if (options.userProperties !== undefined) {
    result.userProperties = withUserProperties(result.userProperties, options.userProperties);
  }
  return result;
}

/** New PUBLISH properties from `options`. See `mergePublishProperties`. */
export function createPublishProperties(options: PublishPropertiesOptions): PublishProperties {
  return mergePublishProperties(undefined, options);
}

/** Read everything a received PUBLISH says about itself. Never throws on odd peer input. */
export function readPublishMetadata(packet: PublishPacketView): PublishMetadata {
  const properties = packet.properties;
  const correlationData = getCorrelationData(properties);
  const userProperties: Record<string, readonly string[]> = Object.create(null) as Record<
    string,
    readonly string[]
  >;
  const bag: unknown = properties?.userProperties;
  if (typeof bag === 'object' && bag !== null) {
    for (const name of Object.keys(bag)) {
      const values = getUserPropertyAll(properties, name);
      if (values.length > 0) userProperties[name] = values;
    }
  }
  return {
    topic: packet.topic,
    qos: packet.qos,
    retain: packet.retain,
    contentType: getContentType(properties),
    payloadFormat: isUtf8PayloadFormat(properties) ? 'utf8' : 'unspecified',
    responseTopic: getResponseTopic(properties),
    correlationData,
    correlationKey: correlationData === undefined ? undefined : correlationKey(correlationData),
    messageExpiryInterval: getMessageExpiryInterval(properties),
    userProperties,
  };
}
