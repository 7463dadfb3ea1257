import { describe, expect, it } from 'vitest';
import { formatPasswordEntry, parsePasswordFile, updatePasswordFile } from './password-file.js';
import { hashPassword, parseScryptHash, verifyPassword } from './password-hash.js';

// The weakest cost the file accepts, to keep the unit tests quick.
const COST = 14;

describe('password hashes', () => {
  it('hash with scrypt and a fresh salt, and verify only the right password', async () => {
    const first = await hashPassword('correct horse', { cost: COST });
    const second = await hashPassword('correct horse', { cost: COST });
    expect(first).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(second).not.toBe(first); // salted
    expect(await verifyPassword(parseScryptHash(first), 'correct horse')).toBe(true);
    expect(await verifyPassword(parseScryptHash(first), 'correct horsf')).toBe(false);
    expect(await verifyPassword(parseScryptHash(first), '')).toBe(false);
  });

  it('refuse weak or unbounded parameters', async () => {
    await expect(hashPassword('x', { cost: 10 })).rejects.toThrow(/out of range/);
    expect(() => parseScryptHash('$scrypt$ln=10,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(43))).toThrow(
      /out of range/,
    );
    expect(() => parseScryptHash('$scrypt$ln=20,r=32,p=1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(43))).toThrow(
      /MiB/,
    );
    expect(() => parseScryptHash('$scrypt$ln=15,r=8,p=1$AAAA$' + 'A'.repeat(43))).toThrow(/salt/);
  });
});

describe('password file', () => {
  it('parses entries with client-id patterns and roles, skipping comments and blank lines', async () => {
    const hash = await hashPassword('pw', { cost: COST });
    const entries = parsePasswordFile(
      `# agents\n\nplanner:${hash}:acme/line/planner\r\nconsole:${hash}:console-*,ops/{name}:operator,viewer\n`,
    );
    expect(entries.map((entry) => [entry.user, entry.clientIds, entry.roles])).toEqual([
      ['planner', ['acme/line/planner'], []],
      ['console', ['console-*', 'ops/{name}'], ['operator', 'viewer']],
    ]);
  });

  it('refuses plain-text passwords, other hash schemes and broken lines, naming the line', async () => {
    const hash = await hashPassword('pw', { cost: COST });
    const cases: Array<[string, RegExp]> = [
      ['alice:secret:alice', /line 1: plain-text password/],
      ['alice:$6$salt$hash:alice', /line 1: unsupported password hash/],
      ['alice:$7$101$salt$hash:alice', /unsupported password hash/],
      ['alice:$scrypt$ln=15$AAAA$BBBB:alice', /malformed scrypt hash/],
      [`alice:${hash}`, /no client-id patterns/],
      [`alice:${hash}:`, /no client-id pattern/],
      [`alice:${hash}:acme/+/x`, /invalid client-id pattern/],
      [`alice:${hash}:#`, /invalid client-id pattern/],
      [`alice:${hash}:a//b`, /empty level/],
      [`alice:${hash}:alice:bad role`, /invalid role/],
      [`al ice:${hash}:alice`, /user name/],
      [`# ok\nalice:${hash}:alice\nalice:${hash}:alice`, /line 3: user 'alice' appears twice/],
      [`alice:${hash}:alice:operator:extra`, /expected <user>/],
    ];
    for (const [text, error] of cases) {
      expect(() => parsePasswordFile(text), text).toThrow(error);
    }
  });

  it('updates one user and keeps the other lines', async () => {
    const hash = await hashPassword('pw', { cost: COST });
    const text = `# agents\nplanner:${hash}:acme/line/planner\nother:${hash}:other\n`;
    const replaced = updatePasswordFile(text, {
      user: 'planner',
      hash,
      clientIds: ['acme/line/*'],
      roles: ['operator'],
    });
    expect(replaced).toBe(`# agents\nplanner:${hash}:acme/line/*:operator\nother:${hash}:other\n`);
    expect(updatePasswordFile(replaced, { user: 'planner' })).toBe(`# agents\nother:${hash}:other\n`);
    expect(updatePasswordFile('', { user: 'new', hash, clientIds: ['new'], roles: [] })).toBe(
      `new:${hash}:new\n`,
    );
    expect(() => formatPasswordEntry({ user: 'x', hash: 'plain', clientIds: ['x'], roles: [] })).toThrow(
      /plain-text/,
    );
    expect(parsePasswordFile(replaced)).toHaveLength(2);
  });
});
