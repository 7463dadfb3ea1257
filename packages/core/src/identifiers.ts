import { MqttAgentsError } from './errors.js';
import { exceedsUtf8Bytes, quoteForMessage } from './topic-filter.js';

/**
 * Every identifier that MCP over MQTT or A2A over MQTT puts into a topic.
 *
 * - MCP: `server-id` and `mcp-client-id` (MQTT client ids, one topic level each), `server-name` (one or more
 *   levels, `factory/line-7/press`) and `server-name-filter` (a topic filter over server names).
 * - A2A: `org-id`, `unit-id`, `agent-id`, `pool-id`, `group-id` (the shared-subscription share name) and
 *   `reply-suffix` (the last level of a requester's reply topic); all match `^[A-Za-z0-9_.-]+$`.
 */
export type IdentifierKind =
  | 'server-id'
  | 'server-name'
  | 'server-name-filter'
  | 'mcp-client-id'
  | 'org-id'
  | 'unit-id'
  | 'agent-id'
  | 'pool-id'
  | 'group-id'
  | 'reply-suffix';

/** Why an identifier was rejected; also found in `error.details.rule`. */
export type IdentifierRule =
  | 'type'
  | 'empty'
  | 'too-long'
  | 'nul'
  | 'lone-surrogate'
  | 'control'
  | 'whitespace'
  | 'slash'
  | 'wildcard'
  | 'charset'
  | 'empty-level'
  | 'wildcard-position'
  | 'reserved';

/** The outcome of a non-throwing identifier check. `reason` is a short lowercase phrase for messages. */
export type IdentifierValidation = { ok: true } | { ok: false; rule: IdentifierRule; reason: string };

/**
 * The longest value accepted for each identifier, in UTF-8 bytes (A2A identifiers are ASCII, so bytes
 * and characters agree). Together they keep every topic far below MQTT's 65535-byte limit. `group-id`
 * follows the A2A profile's recommended 64.
 */
export const IDENTIFIER_MAX_BYTES: Readonly<Record<IdentifierKind, number>> = Object.freeze({
  'server-id': 128,
  'server-name': 256,
  'server-name-filter': 256,
  'mcp-client-id': 128,
  'org-id': 128,
  'unit-id': 128,
  'agent-id': 128,
  'pool-id': 128,
  'group-id': 64,
  'reply-suffix': 128,
});

/** The character rule of every A2A identifier (A2A over MQTT, Identifier Format). */
export const A2A_IDENTIFIER_PATTERN = /^[A-Za-z0-9_.-]+$/;

/**
 * Server ids that cannot be used: the control topic `$mcp-server/{server-id}/{server-name}` shares its
 * prefix with `$mcp-server/presence/...` and `$mcp-server/capability/...`, so a server with one of these
 * ids would make topics ambiguous (and its control subscription would receive other servers' presence).
 */
export const RESERVED_MCP_SERVER_IDS: readonly string[] = Object.freeze(['presence', 'capability']);

/**
 * Agent ids that cannot be used: the pool request topic `$a2a/v1/request/{org}/{unit}/pool/{pool}` puts the
 * keyword `pool` where a direct request topic has the agent id, so an agent called `pool` would have its
 * requests matched by every pool filter ending in `pool/#` (a pool member's wildcard, a broker ACL rule
 * such as EMQX's `$a2a/v1/request/${org}/${unit}/pool/#`). A topic grammar's keyword is never an identifier.
 */
export const RESERVED_A2A_AGENT_IDS: readonly string[] = Object.freeze(['pool']);

const OK: IdentifierValidation = Object.freeze({ ok: true });
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const WHITESPACE = /\s/u;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function fail(rule: IdentifierRule, reason: string): IdentifierValidation {
  return { ok: false, rule, reason };
}

function isA2aKind(kind: IdentifierKind): boolean {
  return (
    kind !== 'server-id' &&
    kind !== 'server-name' &&
    kind !== 'server-name-filter' &&
    kind !== 'mcp-client-id'
  );
}

function wildcardIn(value: string): string | undefined {
  if (value.includes('+')) return '+';
  if (value.includes('#')) return '#';
  return undefined;
}

/** Empty levels (`a//b`, `/a`, `a/`) are refused in server names and server name filters. */
function hasEmptyLevel(value: string): boolean {
  return value.startsWith('/') || value.endsWith('/') || value.includes('//');
}

function checkFilterLevels(value: string): IdentifierValidation {
  const levels = value.split('/');
  for (let index = 0; index < levels.length; index++) {
    const level = levels[index] as string;
    if (level === '+') continue;
    if (level === '#') {
      if (index !== levels.length - 1) return fail('wildcard-position', "'#' must be the whole last level");
      continue;
    }
    if (level.includes('+')) return fail('wildcard-position', "'+' must fill a whole level");
    if (level.includes('#')) return fail('wildcard-position', "'#' must be the whole last level");
  }
  return OK;
}

/**
 * Check `value` as an identifier of the given kind. Never throws; non-strings are refused with rule
 * `type`.
 *
 * Every kind refuses the empty string, NUL, other control characters, whitespace, unpaired surrogates
 * and values longer than {@link IDENTIFIER_MAX_BYTES}. Single-level kinds refuse `/`; names refuse `+` and
 * `#`; server names and filters refuse empty levels; filters allow `+` and `#` as whole levels (`#` last);
 * A2A kinds allow only `[A-Za-z0-9_.-]`; server ids `presence` and `capability` and the agent id `pool` are
 * reserved (they are keywords of the topic grammar at the same level).
 */
export function validateIdentifier(kind: IdentifierKind, value: unknown): IdentifierValidation {
  if (typeof value !== 'string') return fail('type', 'a string is required');
  const max = IDENTIFIER_MAX_BYTES[kind];
  if (kind === 'agent-id' && RESERVED_A2A_AGENT_IDS.includes(value)) {
    return fail('reserved', `'${value}' is reserved`);
  }
  if (isA2aKind(kind) && A2A_IDENTIFIER_PATTERN.test(value) && value.length <= max) return OK;

  if (value.length === 0) return fail('empty', 'it must not be empty');
  if (value.includes('\u0000')) return fail('nul', 'NUL is not allowed');
  if (LONE_SURROGATE.test(value)) return fail('lone-surrogate', 'unpaired surrogates are not allowed');
  if (CONTROL.test(value)) return fail('control', 'control characters are not allowed');
  if (WHITESPACE.test(value)) return fail('whitespace', 'whitespace is not allowed');

  const multiLevel = kind === 'server-name' || kind === 'server-name-filter';
  if (!multiLevel && value.includes('/')) return fail('slash', "'/' is not allowed");
  if (kind !== 'server-name-filter') {
    const wildcard = wildcardIn(value);
    if (wildcard !== undefined) return fail('wildcard', `'${wildcard}' is not allowed`);
  }
  if (isA2aKind(kind) && !A2A_IDENTIFIER_PATTERN.test(value)) {
    return fail('charset', "only letters, digits, '_', '.' and '-' are allowed");
  }
  if (multiLevel && hasEmptyLevel(value)) return fail('empty-level', 'empty levels are not allowed');
  if (kind === 'server-name-filter') {
    const levels = checkFilterLevels(value);
    if (!levels.ok) return levels;
  }
  if (kind === 'server-id' && RESERVED_MCP_SERVER_IDS.includes(value)) {
    return fail('reserved', `'${value}' is reserved`);
  }
  if (exceedsUtf8Bytes(value, max)) return fail('too-long', `it must be at most ${max} bytes`);
  return OK;
}

/** True when `value` is a valid identifier of the given kind. Never throws. */
export function isValidIdentifier(kind: IdentifierKind, value: unknown): value is string {
  return validateIdentifier(kind, value).ok;
}

/**
 * Return `value` when it is a valid identifier of the given kind; otherwise throw `INVALID_IDENTIFIER`
 * with a message such as `invalid agent id 'a/b': '/' is not allowed` and `details: { kind, value, rule }`.
 */
export function assertIdentifier(kind: IdentifierKind, value: unknown): string {
  const result = validateIdentifier(kind, value);
  if (!result.ok) {
    const label = kind.replaceAll('-', ' ');
    throw new MqttAgentsError(
      'INVALID_IDENTIFIER',
      `invalid ${label} ${quoteForMessage(value)}: ${result.reason}`,
      {
        details: { kind, value, rule: result.rule },
      },
    );
  }
  return value as string;
}

/** The assertion of one identifier kind: returns a valid `value`, throws `INVALID_IDENTIFIER` otherwise. */
function asserter(kind: IdentifierKind): (value: unknown) => string {
  return (value) => assertIdentifier(kind, value);
}

/** MCP server id (the server's MQTT client id): one topic level. Throws `INVALID_IDENTIFIER`. */
export const assertServerId = asserter('server-id');
/** MCP server name: one or more `/`-separated levels without wildcards. Throws `INVALID_IDENTIFIER`. */
export const assertServerName = asserter('server-name');
/** MCP server name filter: a server name in which `+` and `#` may stand for levels. Throws `INVALID_IDENTIFIER`. */
export const assertServerNameFilter = asserter('server-name-filter');
/** MCP client id (the client's MQTT client id): one topic level. Throws `INVALID_IDENTIFIER`. */
export const assertMcpClientId = asserter('mcp-client-id');
/** A2A org id. Throws `INVALID_IDENTIFIER`. */
export const assertOrgId = asserter('org-id');
/** A2A unit id. Throws `INVALID_IDENTIFIER`. */
export const assertUnitId = asserter('unit-id');
/** A2A agent id. Throws `INVALID_IDENTIFIER`. */
export const assertAgentId = asserter('agent-id');
/** A2A pool id. Throws `INVALID_IDENTIFIER`. */
export const assertPoolId = asserter('pool-id');
/** A2A shared-subscription group id (at most 64 bytes). Throws `INVALID_IDENTIFIER`. */
export const assertGroupId = asserter('group-id');
/** A2A reply-topic suffix: one level of `[A-Za-z0-9_.-]`. Throws `INVALID_IDENTIFIER`. */
export const assertReplySuffix = asserter('reply-suffix');

/** 32-bit FNV-1a over the string's code units (callers pass ASCII, where code units are bytes). */
function fnv1a32(value: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < value.length; index++) {
    hash ^= value.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The shared-subscription group id every member of an A2A pool uses, derived so that all members agree
 * without coordination: `a2a.{org_id}.{unit_id}.{pool_id}`, with every character outside `[A-Za-z0-9._]`
 * replaced by `_`. When that is longer than 64 characters it is cut to 55 and `_` plus the 8 hex digits of
 * the 32-bit FNV-1a hash of the unsanitised value are appended. The result is part of the wire contract:
 * peers that derive it differently land in a different group and receive every pooled request again.
 *
 * Throws `INVALID_IDENTIFIER` when an id is invalid.
 */
export function deriveA2aPoolGroupId(pool: { orgId: string; unitId: string; poolId: string }): string {
  const base = `a2a.${assertOrgId(pool.orgId)}.${assertUnitId(pool.unitId)}.${assertPoolId(pool.poolId)}`;
  const sanitised = base.replace(/[^A-Za-z0-9._]/g, '_');
  const max = IDENTIFIER_MAX_BYTES['group-id'];
  if (sanitised.length <= max) return sanitised;
  const suffix = fnv1a32(base).toString(16).padStart(8, '0');
  return `${sanitised.slice(0, max - suffix.length - 1)}_${suffix}`;
}
