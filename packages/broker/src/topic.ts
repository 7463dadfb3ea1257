/**
 * Topic names and topic filters (MQTT 5 section 4.7): validation, shared subscription parsing and a
 * reference matcher. The subscription index does the fast matching; `topicMatches` is the plain
 * definition it is tested against.
 */

/** Why a topic name or filter was refused, as a DISCONNECT or SUBACK reason code. */
export type TopicProblem = 0x81 | 0x82;

const SHARE_PREFIX = '$share/';

/**
 * Check a PUBLISH or will topic name: non-empty, no wildcards, no U+0000.
 * Returns undefined when valid, else the reason code to close the connection with
 * (0x81 malformed for U+0000, 0x82 protocol error for wildcards or an empty name).
 */
export function checkTopicName(topic: string): TopicProblem | undefined {
  if (topic.length === 0) return 0x82;
  for (let index = 0; index < topic.length; index++) {
    const code = topic.charCodeAt(index);
    if (code === 0x2b /* + */ || code === 0x23 /* # */) return 0x82;
    if (code === 0) return 0x81;
  }
  return undefined;
}

/** Check a (non-shared) topic filter: `#` only as the whole last level, `+` only as a whole level. */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0) return false;
  const last = filter.length - 1;
  for (let index = 0; index <= last; index++) {
    const code = filter.charCodeAt(index);
    if (code === 0) return false;
    if (code === 0x23 /* # */) {
      if (index !== last) return false;
      if (index > 0 && filter.charCodeAt(index - 1) !== 0x2f) return false;
    } else if (code === 0x2b /* + */) {
      if (index > 0 && filter.charCodeAt(index - 1) !== 0x2f) return false;
      if (index < last && filter.charCodeAt(index + 1) !== 0x2f) return false;
    }
  }
  return true;
}

/** A SUBSCRIBE topic filter split into its share name (if any) and the filter that is matched. */
export interface ParsedTopicFilter {
  /** The share name of `$share/{name}/{filter}`, or undefined for a non-shared subscription. */
  shareName: string | undefined;
  /** The filter matched against topic names (without the `$share/{name}/` prefix). */
  filter: string;
}

/** Parse and validate a SUBSCRIBE/UNSUBSCRIBE topic filter; undefined when it is malformed. */
export function parseTopicFilter(topicFilter: string): ParsedTopicFilter | undefined {
  if (!topicFilter.startsWith(SHARE_PREFIX)) {
    return isValidTopicFilter(topicFilter) ? { shareName: undefined, filter: topicFilter } : undefined;
  }
  const slash = topicFilter.indexOf('/', SHARE_PREFIX.length);
  if (slash === -1) return undefined;
  const shareName = topicFilter.slice(SHARE_PREFIX.length, slash);
  const filter = topicFilter.slice(slash + 1);
  if (
    shareName.length === 0 ||
    shareName.includes('+') ||
    shareName.includes('#') ||
    shareName.includes('\u0000')
  ) {
    return undefined;
  }
  if (!isValidTopicFilter(filter)) return undefined;
  return { shareName, filter };
}

/** Whether a filter contains a wildcard. */
export function hasWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

/**
 * Reference matcher: does `filter` (valid, non-shared) match `topic` (valid topic name)?
 * Filters starting with a wildcard never match topic names starting with `$` (MQTT-4.7.2-1).
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  for (let index = 0; index < filterLevels.length; index++) {
    const level = filterLevels[index];
    if (level === '#') return true;
    if (index >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[index]) return false;
  }
  return filterLevels.length === topicLevels.length;
}
