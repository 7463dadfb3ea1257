// Client-id patterns: which MQTT client ids a credential may connect with. A deliberately small syntax that
// can only ever match client ids made of identifier levels, so no pattern lets `+`, `#`, `/` inside a level,
// empty levels or control characters through, whatever it is combined with.
//
//   acme/line/planner    exactly that id
//   acme/line/*          `*` stands for one or more identifier characters `[A-Za-z0-9_.-]` within one level
//   press-*              ... also as part of a level (at most one `*` per level)
//   {name}               the principal's name (user name, JWT `sub`, certificate CN), when it is itself made
//   acme/{name}          of identifier levels; a principal whose name is not matches nothing
import { A2A_IDENTIFIER_PATTERN, IDENTIFIER_MAX_BYTES } from '@mqtt-agents/core/grammar';

/** The longest client-id level a pattern matches (the longest A2A/MCP identifier). */
export const CLIENT_ID_LEVEL_MAX_LENGTH = IDENTIFIER_MAX_BYTES['agent-id'];
/** The most levels a client id matched by a pattern may have. */
export const CLIENT_ID_MAX_LEVELS = 8;

const PLACEHOLDER = '{name}';
const PATTERN_LEVEL = /^(?:[A-Za-z0-9_.*-]|\{name\})+$/;

/** True when `value` is `/`-separated levels that are each one identifier (core's identifier rule). */
function isIdentifierLevels(value: string): boolean {
  return value.split('/').every((level) => A2A_IDENTIFIER_PATTERN.test(level));
}

/** A parsed client-id pattern. Build it with `parseClientIdPattern`. */
export interface ClientIdPattern {
  /** The pattern as written. */
  readonly source: string;
  /** True when it contains `{name}`. */
  readonly usesName: boolean;
}

interface CompiledPattern extends ClientIdPattern {
  readonly levels: readonly string[];
}

function problemOf(source: string): string | undefined {
  if (source.length === 0) return 'it is empty';
  const levels = source.split('/');
  if (levels.length > CLIENT_ID_MAX_LEVELS) return `it has more than ${CLIENT_ID_MAX_LEVELS} levels`;
  for (const level of levels) {
    if (level.length === 0) return 'it has an empty level';
    if (!PATTERN_LEVEL.test(level)) {
      return "only letters, digits, '_', '.', '-', '*' and {name} are allowed ('+' and '#' never are)";
    }
    if (level.split('*').length > 2) return "a level may hold at most one '*'";
  }
  return undefined;
}

/**
 * Parse a client-id pattern; throws a TypeError that names the problem (`invalid client-id pattern 'a/+':
 * ...`). The error message quotes the pattern escaped, so it is safe to log.
 */
export function parseClientIdPattern(source: string): ClientIdPattern {
  const problem = typeof source === 'string' ? problemOf(source) : 'it is not a string';
  if (problem !== undefined) {
    throw new TypeError(`invalid client-id pattern ${JSON.stringify(String(source))}: ${problem}`);
  }
  const pattern: CompiledPattern = Object.freeze({
    source,
    usesName: source.includes(PLACEHOLDER),
    levels: Object.freeze(source.split('/')),
  });
  return pattern;
}

/** True when a client id is one or more identifier levels of at most `CLIENT_ID_LEVEL_MAX_LENGTH` characters. */
export function isPatternableClientId(clientId: string): boolean {
  if (!isIdentifierLevels(clientId)) return false;
  const levels = clientId.split('/');
  return (
    levels.length <= CLIENT_ID_MAX_LEVELS &&
    levels.every((level) => level.length <= CLIENT_ID_LEVEL_MAX_LENGTH)
  );
}

function matchLevel(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star === -1) return pattern === value;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  // `*` stands for at least one character; every character of `value` is an identifier character already.
  return value.length > prefix.length + suffix.length && value.startsWith(prefix) && value.endsWith(suffix);
}

/**
 * True when `clientId` matches the pattern for a principal called `name`. A client id that is not made of
 * identifier levels never matches, nor does a `{name}` pattern when `name` is not made of identifier levels.
 */
export function matchesClientIdPattern(pattern: ClientIdPattern, clientId: string, name: string): boolean {
  if (!isPatternableClientId(clientId)) return false;
  let levels = (pattern as CompiledPattern).levels;
  if (pattern.usesName) {
    // The name may only bring identifier levels: never `*`, `{`, wildcards or empty levels.
    if (!isIdentifierLevels(name)) return false;
    levels = pattern.source.split(PLACEHOLDER).join(name).split('/');
  }
  const values = clientId.split('/');
  if (values.length !== levels.length) return false;
  for (let index = 0; index < values.length; index++) {
    if (!matchLevel(levels[index] as string, values[index] as string)) return false;
  }
  return true;
}

/** True when any of the patterns matches. */
export function matchesAnyClientIdPattern(
  patterns: readonly ClientIdPattern[],
  clientId: string,
  name: string,
): boolean {
  return patterns.some((pattern) => matchesClientIdPattern(pattern, clientId, name));
}

/** A role name: one identifier (`operator`, `line-viewer`). */
export function isValidRole(role: unknown): role is string {
  return typeof role === 'string' && role.length <= 64 && A2A_IDENTIFIER_PATTERN.test(role);
}
