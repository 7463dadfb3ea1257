import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MqttAgentsError } from './errors.js';
import {
  A2A_IDENTIFIER_PATTERN,
  IDENTIFIER_MAX_BYTES,
  RESERVED_A2A_AGENT_IDS,
  assertAgentId,
  assertGroupId,
  assertIdentifier,
  assertMcpClientId,
  assertOrgId,
  assertPoolId,
  assertReplySuffix,
  assertServerId,
  assertServerName,
  assertServerNameFilter,
  assertUnitId,
  deriveA2aPoolGroupId,
  isValidIdentifier,
  validateIdentifier,
} from './identifiers.js';
import type { IdentifierKind } from './identifiers.js';
import { validateTopicFilter } from './topic-filter.js';

const a2aKinds: IdentifierKind[] = ['org-id', 'unit-id', 'agent-id', 'pool-id', 'group-id', 'reply-suffix'];
const singleLevelMcpKinds: IdentifierKind[] = ['server-id', 'mcp-client-id'];
const allKinds: IdentifierKind[] = [...a2aKinds, ...singleLevelMcpKinds, 'server-name', 'server-name-filter'];

function errorOf(action: () => unknown): MqttAgentsError {
  try {
    action();
  } catch (error) {
    if (MqttAgentsError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('error shape', () => {
  it('names the kind, the value and the rule', () => {
    const error = errorOf(() => assertAgentId('a/b'));
    expect(error.code).toBe('INVALID_IDENTIFIER');
    expect(error.message).toBe("invalid agent id 'a/b': '/' is not allowed");
    expect(error.details).toEqual({ kind: 'agent-id', value: 'a/b', rule: 'slash' });
  });

  it.each([
    [() => assertServerId('s+'), "invalid server id 's+': '+' is not allowed"],
    [() => assertServerName('a/#'), "invalid server name 'a/#': '#' is not allowed"],
    [() => assertServerName('a//b'), "invalid server name 'a//b': empty levels are not allowed"],
    [
      () => assertServerNameFilter('a/#/b'),
      "invalid server name filter 'a/#/b': '#' must be the whole last level",
    ],
    [() => assertMcpClientId(''), "invalid mcp client id '': it must not be empty"],
    [() => assertOrgId('acmé'), "invalid org id 'acmé': only letters, digits, '_', '.' and '-' are allowed"],
    [() => assertUnitId('a b'), "invalid unit id 'a b': whitespace is not allowed"],
    [() => assertPoolId('p\u0000'), "invalid pool id 'p\\u0000': NUL is not allowed"],
    [
      () => assertGroupId('g'.repeat(65)),
      `invalid group id '${'g'.repeat(65)}': it must be at most 64 bytes`,
    ],
    [() => assertReplySuffix('r\t'), "invalid reply suffix 'r\\u0009': control characters are not allowed"],
    [() => assertServerId('presence'), "invalid server id 'presence': 'presence' is reserved"],
    [() => assertAgentId(7), 'invalid agent id 7: a string is required'],
  ])('%#: %s', (action, message) => {
    expect(errorOf(action).message).toBe(message);
  });

  it('the typed helpers return the value', () => {
    expect(assertServerId('srv-1')).toBe('srv-1');
    expect(assertServerName('factory/line-7/press')).toBe('factory/line-7/press');
    expect(assertServerNameFilter('factory/+/press')).toBe('factory/+/press');
    expect(assertMcpClientId('client-1')).toBe('client-1');
    expect(assertOrgId('com.example')).toBe('com.example');
    expect(assertUnitId('factory-a')).toBe('factory-a');
    expect(assertAgentId('iot_ops.agent-001')).toBe('iot_ops.agent-001');
    expect(assertPoolId('summarizers')).toBe('summarizers');
    expect(assertGroupId('a2a.o.u.p')).toBe('a2a.o.u.p');
    expect(assertReplySuffix('3f2a9c')).toBe('3f2a9c');
  });
});

describe('rules shared by every kind', () => {
  it.each(allKinds)('%s refuses empty, NUL, control, whitespace, lone surrogates, non-strings', (kind) => {
    expect(validateIdentifier(kind, '')).toMatchObject({ ok: false, rule: 'empty' });
    expect(validateIdentifier(kind, 'a\u0000b')).toMatchObject({ ok: false, rule: 'nul' });
    expect(validateIdentifier(kind, 'a\u0007')).toMatchObject({ ok: false, rule: 'control' });
    expect(validateIdentifier(kind, 'a\u0085')).toMatchObject({ ok: false, rule: 'control' });
    expect(validateIdentifier(kind, 'a\nb')).toMatchObject({ ok: false, rule: 'control' });
    expect(validateIdentifier(kind, 'a b')).toMatchObject({ ok: false, rule: 'whitespace' });
    expect(validateIdentifier(kind, 'a\u00a0b')).toMatchObject({ ok: false, rule: 'whitespace' });
    expect(validateIdentifier(kind, 'a\u3000b')).toMatchObject({ ok: false, rule: 'whitespace' });
    expect(validateIdentifier(kind, 'a\uD83D')).toMatchObject({ ok: false, rule: 'lone-surrogate' });
    expect(validateIdentifier(kind, undefined)).toMatchObject({ ok: false, rule: 'type' });
    expect(validateIdentifier(kind, 12)).toMatchObject({ ok: false, rule: 'type' });
  });

  it.each(allKinds)('%s enforces its byte limit exactly', (kind) => {
    const max = IDENTIFIER_MAX_BYTES[kind];
    expect(validateIdentifier(kind, 'a'.repeat(max))).toEqual({ ok: true });
    expect(validateIdentifier(kind, 'a'.repeat(max + 1))).toMatchObject({ ok: false, rule: 'too-long' });
  });

  it('counts UTF-8 bytes for MCP ids', () => {
    const max = IDENTIFIER_MAX_BYTES['server-id'];
    expect(validateIdentifier('server-id', 'é'.repeat(max / 2)).ok).toBe(true);
    expect(validateIdentifier('server-id', 'é'.repeat(max / 2 + 1))).toMatchObject({
      ok: false,
      rule: 'too-long',
    });
  });

  it('documents sane limits', () => {
    expect(IDENTIFIER_MAX_BYTES).toEqual({
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
    expect(Object.isFrozen(IDENTIFIER_MAX_BYTES)).toBe(true);
  });
});

describe('MCP identifiers', () => {
  it.each(singleLevelMcpKinds)('%s is one level without wildcards', (kind) => {
    expect(validateIdentifier(kind, 'a/b')).toMatchObject({ ok: false, rule: 'slash' });
    expect(validateIdentifier(kind, 'a+')).toMatchObject({ ok: false, rule: 'wildcard' });
    expect(validateIdentifier(kind, '#')).toMatchObject({ ok: false, rule: 'wildcard' });
    expect(validateIdentifier(kind, 'Ünïcødé-😀:id@x')).toEqual({ ok: true });
    expect(validateIdentifier(kind, '$weird')).toEqual({ ok: true });
  });

  it("reserves the server ids 'presence' and 'capability' only", () => {
    expect(validateIdentifier('server-id', 'presence')).toMatchObject({ ok: false, rule: 'reserved' });
    expect(validateIdentifier('server-id', 'capability')).toMatchObject({ ok: false, rule: 'reserved' });
    expect(validateIdentifier('server-id', 'Presence')).toEqual({ ok: true });
    expect(validateIdentifier('mcp-client-id', 'presence')).toEqual({ ok: true });
    expect(validateIdentifier('server-name', 'presence')).toEqual({ ok: true });
  });

  it('server names may have levels, but no empty ones and no wildcards', () => {
    expect(validateIdentifier('server-name', 'factory/line-7/press')).toEqual({ ok: true });
    expect(validateIdentifier('server-name', 'single')).toEqual({ ok: true });
    for (const value of ['/a', 'a/', 'a//b', '/']) {
      expect(validateIdentifier('server-name', value)).toMatchObject({ ok: false, rule: 'empty-level' });
    }
    for (const value of ['a/+', 'a/#', 'a+b']) {
      expect(validateIdentifier('server-name', value)).toMatchObject({ ok: false, rule: 'wildcard' });
    }
  });

  it('server name filters allow whole-level wildcards only', () => {
    for (const value of ['#', '+', 'factory/#', 'factory/+/press', '+/+', 'a/b']) {
      expect(validateIdentifier('server-name-filter', value)).toEqual({ ok: true });
    }
    for (const value of ['#/a', 'a+', 'a/b#', '+a/b']) {
      expect(validateIdentifier('server-name-filter', value)).toMatchObject({
        ok: false,
        rule: 'wildcard-position',
      });
    }
    expect(validateIdentifier('server-name-filter', 'a//#')).toMatchObject({
      ok: false,
      rule: 'empty-level',
    });
  });

  it('every valid server name filter is a valid MQTT topic filter', () => {
    const level = fc.constantFrom('a', 'b-c', '+', '#', 'é', '', 'x+', '#y');
    fc.assert(
      fc.property(fc.array(level, { minLength: 1, maxLength: 5 }), (levels) => {
        const value = levels.join('/');
        if (isValidIdentifier('server-name-filter', value)) expect(validateTopicFilter(value).ok).toBe(true);
      }),
    );
  });
});

describe('A2A identifiers', () => {
  const valid = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/);

  it.each(a2aKinds)('%s accepts every value matching ^[A-Za-z0-9_.-]+$ within the limit', (kind) => {
    fc.assert(
      fc.property(valid, (value) => {
        fc.pre(kind !== 'agent-id' || !RESERVED_A2A_AGENT_IDS.includes(value));
        expect(validateIdentifier(kind, value)).toEqual({ ok: true });
        expect(assertIdentifier(kind, value)).toBe(value);
      }),
    );
  });

  it.each(a2aKinds)('%s rejects every value outside the pattern with INVALID_IDENTIFIER', (kind) => {
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 40, unit: 'binary' }), (value) => {
        fc.pre(!A2A_IDENTIFIER_PATTERN.test(value));
        expect(validateIdentifier(kind, value).ok).toBe(false);
        const error = errorOf(() => assertIdentifier(kind, value));
        expect(error.code).toBe('INVALID_IDENTIFIER');
        expect(error.details).toMatchObject({ kind, value });
      }),
    );
  });

  it('injects one forbidden character into a valid id and always gets rejected', () => {
    const forbidden = fc.constantFrom('/', '+', '#', ' ', '\u0000', '\t', 'é', ':', '$', '*', '\u200b');
    fc.assert(
      fc.property(valid, forbidden, fc.nat(), (value, character, position) => {
        const at = position % (value.length + 1);
        const broken = value.slice(0, at) + character + value.slice(at);
        expect(isValidIdentifier('agent-id', broken)).toBe(false);
      }),
    );
  });

  it("reserves the agent id 'pool' (the pool keyword of request topics) and nothing else", () => {
    expect(RESERVED_A2A_AGENT_IDS).toEqual(['pool']);
    expect(validateIdentifier('agent-id', 'pool')).toMatchObject({ ok: false, rule: 'reserved' });
    expect(() => assertAgentId('pool')).toThrow("invalid agent id 'pool': 'pool' is reserved");
    expect(validateIdentifier('agent-id', 'Pool')).toEqual({ ok: true });
    expect(validateIdentifier('agent-id', 'pools')).toEqual({ ok: true });
    for (const kind of ['org-id', 'unit-id', 'pool-id', 'reply-suffix', 'group-id'] as const) {
      expect(validateIdentifier(kind, 'pool')).toEqual({ ok: true });
    }
  });

  it('names the most useful rule', () => {
    expect(validateIdentifier('org-id', 'a/b')).toMatchObject({ rule: 'slash' });
    expect(validateIdentifier('org-id', 'a+b')).toMatchObject({ rule: 'wildcard' });
    expect(validateIdentifier('org-id', 'a:b')).toMatchObject({ rule: 'charset' });
    expect(validateIdentifier('org-id', 'a'.repeat(200))).toMatchObject({ rule: 'too-long' });
  });
});

describe('deriveA2aPoolGroupId', () => {
  it('uses the recommended base value, sanitised to [A-Za-z0-9._]', () => {
    expect(deriveA2aPoolGroupId({ orgId: 'acme', unitId: 'ops', poolId: 'summarizers' })).toBe(
      'a2a.acme.ops.summarizers',
    );
    expect(deriveA2aPoolGroupId({ orgId: 'com.example', unitId: 'factory-a', poolId: 'pool_1' })).toBe(
      'a2a.com.example.factory_a.pool_1',
    );
  });

  it('truncates long values and appends an FNV-1a hash, pinned because peers must agree', () => {
    const pool = { orgId: 'o'.repeat(30), unitId: 'u'.repeat(30), poolId: 'p'.repeat(30) };
    const groupId = deriveA2aPoolGroupId(pool);
    expect(groupId).toHaveLength(64);
    expect(groupId).toBe(`a2a.${'o'.repeat(30)}.${'u'.repeat(20)}_${groupId.slice(-8)}`);
    expect(groupId.slice(-8)).toMatch(/^[0-9a-f]{8}$/);
    // Known-answer test: a change of algorithm would split pools between old and new members.
    expect(
      deriveA2aPoolGroupId({
        orgId: 'acme-corporation',
        unitId: 'manufacturing-plant-north',
        poolId: 'invoice-summarizers',
      }),
    ).toBe('a2a.acme_corporation.manufacturing_plant_north.invoice__4a9a44f0');
  });

  it('is deterministic, valid, at most 64 long, and distinguishes pools that truncate alike', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_.-]{1,128}$/);
    fc.assert(
      fc.property(id, id, id, (orgId, unitId, poolId) => {
        const groupId = deriveA2aPoolGroupId({ orgId, unitId, poolId });
        expect(groupId).toBe(deriveA2aPoolGroupId({ orgId, unitId, poolId }));
        expect(groupId.length).toBeLessThanOrEqual(64);
        expect(groupId).toMatch(/^[A-Za-z0-9._]+$/);
        expect(validateIdentifier('group-id', groupId)).toEqual({ ok: true });
      }),
    );
    const base = { orgId: 'o'.repeat(60), unitId: 'u' };
    expect(deriveA2aPoolGroupId({ ...base, poolId: 'one' })).not.toBe(
      deriveA2aPoolGroupId({ ...base, poolId: 'two' }),
    );
  });

  it('rejects invalid ids', () => {
    expect(() => deriveA2aPoolGroupId({ orgId: 'a/b', unitId: 'u', poolId: 'p' })).toThrow(
      "invalid org id 'a/b': '/' is not allowed",
    );
    expect(() => deriveA2aPoolGroupId({ orgId: 'o', unitId: 'u', poolId: '' })).toThrow(
      expect.objectContaining({ code: 'INVALID_IDENTIFIER' }),
    );
  });
});
