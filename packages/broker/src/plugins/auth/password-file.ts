// The password file: one credential per line, each with the client ids it may connect as and its roles.
//
//   # comment
//   <user>:<scrypt hash>:<client-id pattern>[,<pattern>...][:<role>[,<role>...]]
//
//   planner:$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$...:acme/line/planner
//   console:$scrypt$ln=15,r=8,p=1$...$...:console-*:operator
//
// User names are letters, digits and `_ . - @`. Hashes are `$scrypt$` PHC strings (`mqtt-agents passwd`
// writes them); a plain-text or otherwise unhashed entry makes the whole file invalid, so a mistake fails
// closed at start instead of letting a guessable password in.
import { readFile } from 'node:fs/promises';
import { parseClientIdPattern, isValidRole, type ClientIdPattern } from './client-id-pattern.js';
import { parseScryptHash, type ScryptHash } from './password-hash.js';

const USER_NAME = /^[A-Za-z0-9_.@-]{1,128}$/;

/** One line of a password file. */
export interface PasswordEntry {
  readonly user: string;
  /** The `$scrypt$` hash as written. */
  readonly hash: string;
  /** Client-id patterns (see `parseClientIdPattern`) as written. */
  readonly clientIds: readonly string[];
  readonly roles: readonly string[];
}

/** A password entry ready for checks: hash and patterns parsed. */
export interface ParsedPasswordEntry extends PasswordEntry {
  readonly scrypt: ScryptHash;
  readonly patterns: readonly ClientIdPattern[];
}

/** True when `user` can be a password-file user name. */
export function isValidUserName(user: string): boolean {
  return USER_NAME.test(user);
}

function entryProblem(entry: PasswordEntry): string | undefined {
  if (!isValidUserName(entry.user)) {
    return "the user name must be 1 to 128 letters, digits, '_', '.', '-' or '@'";
  }
  if (entry.clientIds.length === 0) return 'no client-id pattern';
  const badRole = entry.roles.find((role) => !isValidRole(role));
  if (badRole !== undefined) return `invalid role ${JSON.stringify(badRole)}`;
  return undefined;
}

/** Check an entry and parse its hash and patterns; throws a TypeError that names the problem. */
export function parsePasswordEntry(entry: PasswordEntry): ParsedPasswordEntry {
  const problem = entryProblem(entry);
  if (problem) throw new TypeError(problem);
  const scrypt = parseScryptHash(entry.hash);
  const patterns = entry.clientIds.map((pattern) => parseClientIdPattern(pattern));
  return Object.freeze({
    user: entry.user,
    hash: entry.hash,
    clientIds: Object.freeze([...entry.clientIds]),
    roles: Object.freeze([...entry.roles]),
    scrypt,
    patterns: Object.freeze(patterns),
  });
}

function splitList(field: string | undefined): string[] {
  if (field === undefined || field.trim() === '') return [];
  return field.split(',').map((item) => item.trim());
}

/** Parse one non-comment line (without its line break). */
function parseLine(line: string): ParsedPasswordEntry {
  const fields = line.split(':');
  if (fields.length < 3 || fields.length > 4) {
    throw new TypeError(
      fields.length === 2
        ? 'no client-id patterns (expected <user>:<hash>:<client-id patterns>[:<roles>])'
        : 'expected <user>:<hash>:<client-id patterns>[:<roles>]',
    );
  }
  const [user, hash, clientIds, roles] = fields as [string, string, string, string | undefined];
  return parsePasswordEntry({ user, hash, clientIds: splitList(clientIds), roles: splitList(roles) });
}

/**
 * Parse the text of a password file. Blank lines and `#` comments are skipped; any other invalid line
 * (plain-text password, unknown hash, bad pattern, duplicate user) throws a TypeError naming its line number.
 */
export function parsePasswordFile(text: string, source = 'password file'): ParsedPasswordEntry[] {
  const entries: ParsedPasswordEntry[] = [];
  const users = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    let entry: ParsedPasswordEntry;
    try {
      entry = parseLine(line);
    } catch (error) {
      throw new TypeError(`invalid ${source}, line ${index + 1}: ${(error as Error).message}`);
    }
    if (users.has(entry.user)) {
      throw new TypeError(`invalid ${source}, line ${index + 1}: user '${entry.user}' appears twice`);
    }
    users.add(entry.user);
    entries.push(entry);
  }
  return entries;
}

/** Read and parse a password file. */
export async function readPasswordFile(path: string): Promise<ParsedPasswordEntry[]> {
  return parsePasswordFile(await readFile(path, 'utf8'), `password file ${path}`);
}

/** One password-file line for an entry (checked first). */
export function formatPasswordEntry(entry: PasswordEntry): string {
  const parsed = parsePasswordEntry(entry);
  const roles = parsed.roles.length > 0 ? `:${parsed.roles.join(',')}` : '';
  return `${parsed.user}:${parsed.hash}:${parsed.clientIds.join(',')}${roles}`;
}

/**
 * The text of a password file with the entry of `entry.user` replaced (or appended), or removed when
 * `entry` is only a user name. Comments and other lines are kept as they are.
 */
export function updatePasswordFile(text: string, entry: PasswordEntry | { readonly user: string }): string {
  const replacement = 'hash' in entry ? formatPasswordEntry(entry) : undefined;
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  let replaced = false;
  const kept: string[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('#') && trimmed.split(':')[0] === entry.user) {
      if (replacement !== undefined && !replaced) kept.push(replacement);
      replaced = true;
      continue;
    }
    kept.push(line);
  }
  if (!replaced && replacement !== undefined) kept.push(replacement);
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}
