import { printable } from './printable.js';
import { MqttAgentsError } from './errors.js';

/** The longest topic name or topic filter MQTT can carry: a UTF-8 string of at most 65535 bytes. */
export const MQTT_TOPIC_MAX_BYTES = 65_535;

/** Why a topic name or topic filter was rejected. */
export type TopicRule =
  | 'type'
  | 'empty'
  | 'too-long'
  | 'nul'
  | 'lone-surrogate'
  | 'wildcard'
  | 'wildcard-position'
  | 'share-name'
  | 'share-filter';

/** The outcome of a non-throwing topic check. `reason` is a short lowercase phrase for messages. */
export type TopicValidation = { ok: true } | { ok: false; rule: TopicRule; reason: string };

/** A parsed MQTT 5 shared subscription `$share/{group}/{filter}`. */
export interface SharedSubscription {
  group: string;
  filter: string;
}

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;
const SHARE_PREFIX = '$share/';
const OK: TopicValidation = Object.freeze({ ok: true });
// With the `u` flag a well-formed surrogate pair is one code point, so this only finds unpaired halves.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** The number of bytes `value` takes in UTF-8 (unpaired surrogates count as the 3 bytes of U+FFFD). */
export function utf8ByteLength(value: string): number {
  let bytes = 0;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < value.length) {
      const next = value.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        index++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** True when `value` is longer than `maxBytes` in UTF-8, without measuring short strings. */
export function exceedsUtf8Bytes(value: string, maxBytes: number): boolean {
  // Every UTF-16 code unit encodes to 1..3 bytes, so the length alone often settles it.
  if (value.length * 3 <= maxBytes) return false;
  if (value.length > maxBytes) return true;
  return utf8ByteLength(value) > maxBytes;
}

function fail(rule: TopicRule, reason: string): TopicValidation {
  return { ok: false, rule, reason };
}

/** Checks shared by topic names and filters: type, emptiness, NUL, well-formed UTF-16, byte length. */
function checkString(value: unknown): TopicValidation {
  if (typeof value !== 'string') return fail('type', 'a string is required');
  if (value.length === 0) return fail('empty', 'it must not be empty');
  if (value.includes('\u0000')) return fail('nul', 'NUL is not allowed');
  if (LONE_SURROGATE.test(value)) return fail('lone-surrogate', 'unpaired surrogates are not allowed');
  if (exceedsUtf8Bytes(value, MQTT_TOPIC_MAX_BYTES)) {
    return fail('too-long', `it must be at most ${MQTT_TOPIC_MAX_BYTES} bytes in UTF-8`);
  }
  return OK;
}

/**
 * Check a topic name (what a PUBLISH carries) against MQTT 5: a non-empty UTF-8 string of at most
 * 65535 bytes with no NUL and no `+` or `#`. Never throws.
 */
export function validateTopicName(topic: string): TopicValidation {
  const base = checkString(topic);
  if (!base.ok) return base;
  if (topic.includes('+') || topic.includes('#')) {
    return fail('wildcard', "'+' and '#' are not allowed in a topic name");
  }
  return OK;
}

/** Wildcard placement within a plain (non-shared) filter: `#` only as the whole last level, `+` whole levels. */
function checkFilterLevels(filter: string): TopicValidation {
  for (let index = 0; index < filter.length; index++) {
    const code = filter.charCodeAt(index);
    if (code !== PLUS && code !== HASH) continue;
    const levelStart = index === 0 || filter.charCodeAt(index - 1) === SLASH;
    const levelEnd = index === filter.length - 1 || filter.charCodeAt(index + 1) === SLASH;
    if (code === PLUS && !(levelStart && levelEnd)) {
      return fail('wildcard-position', "'+' must fill a whole level");
    }
    if (code === HASH && !(levelStart && index === filter.length - 1)) {
      return fail('wildcard-position', "'#' must be the whole last level");
    }
  }
  return OK;
}

/**
 * Check a topic filter (what a SUBSCRIBE carries) against MQTT 5. Shared subscriptions
 * (`$share/{group}/{filter}`) are accepted when the group is non-empty without wildcards and the inner
 * filter is itself valid. Never throws.
 */
export function validateTopicFilter(filter: string): TopicValidation {
  const base = checkString(filter);
  if (!base.ok) return base;
  if (!filter.startsWith(SHARE_PREFIX)) return checkFilterLevels(filter);
  const slash = filter.indexOf('/', SHARE_PREFIX.length);
  const group = slash === -1 ? filter.slice(SHARE_PREFIX.length) : filter.slice(SHARE_PREFIX.length, slash);
  if (group.length === 0 || group.includes('+') || group.includes('#')) {
    return fail('share-name', "the share name must be non-empty and must not contain '+' or '#'");
  }
  if (slash === -1 || slash === filter.length - 1) {
    return fail('share-filter', 'a shared subscription needs a topic filter after the share name');
  }
  return checkFilterLevels(filter.slice(slash + 1));
}

/** Quote a value for an error message: one line, control characters escaped, long values cut. */
export function quoteForMessage(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  // One line, readable, and nothing a terminal would interpret.
  return `'${printable(value, 80)}'`;
}

/** Throw `INVALID_TOPIC` unless `topic` is a valid MQTT 5 topic name; return it otherwise. */
export function assertTopicName(topic: string): string {
  const result = validateTopicName(topic);
  if (!result.ok) {
    throw new MqttAgentsError('INVALID_TOPIC', `invalid topic ${quoteForMessage(topic)}: ${result.reason}`, {
      details: { topic, rule: result.rule },
    });
  }
  return topic;
}

/** Throw `INVALID_TOPIC_FILTER` unless `filter` is a valid MQTT 5 topic filter; return it otherwise. */
export function assertTopicFilter(filter: string): string {
  const result = validateTopicFilter(filter);
  if (!result.ok) {
    throw new MqttAgentsError(
      'INVALID_TOPIC_FILTER',
      `invalid topic filter ${quoteForMessage(filter)}: ${result.reason}`,
      {
        details: { filter, rule: result.rule },
      },
    );
  }
  return filter;
}

/**
 * Split `$share/{group}/{filter}` into its parts. Returns `undefined` for anything that is not a
 * well-formed shared subscription (plain filters included). Never throws.
 */
export function parseSharedSubscription(filter: string): SharedSubscription | undefined {
  if (typeof filter !== 'string' || !filter.startsWith(SHARE_PREFIX)) return undefined;
  if (!validateTopicFilter(filter).ok) return undefined;
  const slash = filter.indexOf('/', SHARE_PREFIX.length);
  return { group: filter.slice(SHARE_PREFIX.length, slash), filter: filter.slice(slash + 1) };
}

/**
 * Build `$share/{group}/{filter}`. Throws `INVALID_TOPIC_FILTER` when the group is empty, contains
 * `/`, `+` or `#`, or when the inner filter is invalid.
 */
export function sharedSubscription(group: string, filter: string): string {
  if (typeof group !== 'string' || group.includes('/')) {
    throw new MqttAgentsError(
      'INVALID_TOPIC_FILTER',
      `invalid share name ${quoteForMessage(group)}: '/' is not allowed`,
      {
        details: { filter: `${SHARE_PREFIX}${String(group)}/${String(filter)}`, rule: 'share-name' },
      },
    );
  }
  if (typeof filter === 'string' && filter.startsWith(SHARE_PREFIX)) {
    throw new MqttAgentsError(
      'INVALID_TOPIC_FILTER',
      `invalid topic filter ${quoteForMessage(filter)}: a shared subscription cannot be shared again`,
      { details: { filter, rule: 'share-filter' } },
    );
  }
  return assertTopicFilter(`${SHARE_PREFIX}${group}/${filter}`);
}

/**
 * Does the MQTT 5 topic filter `filter` match the topic name `topic`?
 *
 * Follows MQTT 5 section 4.7: `+` matches exactly one level (an empty one too), `#` matches the parent
 * level and any number of levels below it, and a filter that starts with a wildcard never matches a topic
 * that starts with `$`. A shared subscription `$share/{group}/{filter}` matches what its inner filter
 * matches. Invalid filters and invalid topic names never match; the function never throws and allocates
 * nothing.
 */
export function matchTopicFilter(filter: string, topic: string): boolean {
  if (typeof filter !== 'string' || typeof topic !== 'string') return false;
  const topicLength = topic.length;
  if (topicLength === 0) return false;
  let start = 0;
  if (filter.startsWith(SHARE_PREFIX)) {
    const slash = filter.indexOf('/', SHARE_PREFIX.length);
    if (slash <= SHARE_PREFIX.length) return false;
    for (let index = SHARE_PREFIX.length; index < slash; index++) {
      const code = filter.charCodeAt(index);
      if (code === PLUS || code === HASH) return false;
    }
    start = slash + 1;
  }
  const filterLength = filter.length;
  if (start >= filterLength) return false;

  const first = filter.charCodeAt(start);
  if ((first === PLUS || first === HASH) && topic.charCodeAt(0) === DOLLAR) return false;

  let filterIndex = start; // start of the current filter level
  let topicIndex = 0; // start of the current topic level; topicLength + 1 once the topic has no more levels
  for (;;) {
    let filterEnd = filter.indexOf('/', filterIndex);
    if (filterEnd === -1) filterEnd = filterLength;
    const levelLength = filterEnd - filterIndex;
    const code = filter.charCodeAt(filterIndex);

    if (levelLength === 1 && code === HASH) {
      // '#' matches the parent level and everything below it, but only as the last level.
      if (filterEnd !== filterLength) return false;
      return noWildcards(topic, topicIndex);
    }
    if (topicIndex > topicLength) return false; // the filter wants another level the topic does not have

    let topicEnd = topic.indexOf('/', topicIndex);
    if (topicEnd === -1) topicEnd = topicLength;

    if (levelLength === 1 && code === PLUS) {
      if (!noWildcardsBetween(topic, topicIndex, topicEnd)) return false;
    } else {
      if (levelLength !== topicEnd - topicIndex) return false;
      for (let offset = 0; offset < levelLength; offset++) {
        const filterCode = filter.charCodeAt(filterIndex + offset);
        // A literal level containing a wildcard is an invalid filter: it matches nothing.
        if (
          filterCode !== topic.charCodeAt(topicIndex + offset) ||
          filterCode === PLUS ||
          filterCode === HASH
        ) {
          return false;
        }
      }
    }

    filterIndex = filterEnd + 1;
    topicIndex = topicEnd + 1;
    if (filterIndex > filterLength) return topicIndex > topicLength;
  }
}

function noWildcardsBetween(topic: string, from: number, to: number): boolean {
  for (let index = from; index < to; index++) {
    const code = topic.charCodeAt(index);
    if (code === PLUS || code === HASH) return false;
  }
  return true;
}

function noWildcards(topic: string, from: number): boolean {
  return noWildcardsBetween(topic, from, topic.length);
}
