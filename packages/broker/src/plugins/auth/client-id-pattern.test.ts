import { describe, expect, it } from 'vitest';
import { isPatternableClientId, matchesClientIdPattern, parseClientIdPattern } from './client-id-pattern.js';

const matches = (pattern: string, clientId: string, name = 'alice'): boolean =>
  matchesClientIdPattern(parseClientIdPattern(pattern), clientId, name);

describe('client-id patterns', () => {
  it('match exact ids, and `*` within one level of identifier characters', () => {
    expect(matches('acme/line/planner', 'acme/line/planner')).toBe(true);
    expect(matches('acme/line/planner', 'acme/line/planner2')).toBe(false);
    expect(matches('acme/line/*', 'acme/line/planner')).toBe(true);
    expect(matches('acme/line/*', 'acme/line')).toBe(false);
    expect(matches('acme/line/*', 'acme/line/a/b')).toBe(false);
    expect(matches('press-*', 'press-a')).toBe(true);
    expect(matches('press-*', 'press-')).toBe(false);
    expect(matches('*-tools', 'camera-tools')).toBe(true);
    expect(matches('a*z', 'az')).toBe(false);
    expect(matches('a*z', 'a.z')).toBe(true);
    // `.` is a literal, not a regex wildcard.
    expect(matches('a.b', 'axb')).toBe(false);
  });

  it('substitute {name} only with a name made of identifier levels', () => {
    expect(matches('{name}', 'alice')).toBe(true);
    expect(matches('acme/{name}', 'acme/alice')).toBe(true);
    expect(matches('mcp-{name}-*', 'mcp-alice-1')).toBe(true);
    expect(matches('{name}', 'acme/line/planner', 'acme/line/planner')).toBe(true);
    // Names that would bring wildcards or empty levels match nothing.
    for (const name of ['*', '+', '#', 'a/+', 'a//b', '/a', 'a/', 'a b', 'x{name}', '', 'a\u0000']) {
      expect(matches('{name}', name, name)).toBe(false);
      expect(matches('{name}', 'anything', name)).toBe(false);
    }
    expect(matches('{name}', 'alice@example.com', 'alice@example.com')).toBe(false);
  });

  it('never match client ids with wildcards, empty levels or control characters', () => {
    for (const pattern of ['*', '*/*', '*/*/*', 'a*', '*a', '{name}', 'acme/*/planner']) {
      for (const clientId of [
        '+',
        '#',
        'a/+/b',
        'acme/+/planner',
        'acme/#',
        '',
        '/',
        'a//b',
        '/a',
        'a/',
        'a\u0000',
        'a\nb',
        'a b',
        'acme/\u001b[31m/planner',
        'a+',
        'a#',
        '$share',
        'a\u202eb',
      ]) {
        expect(matches(pattern, clientId, clientId), `${pattern} vs ${JSON.stringify(clientId)}`).toBe(false);
      }
    }
  });

  it('refuse patterns that hold wildcards, empty levels, control characters or two stars', () => {
    for (const pattern of [
      '',
      '+',
      '#',
      'a/+/b',
      'a/#',
      'a//b',
      '/a',
      'a/',
      'a\u0000',
      'a b',
      '**',
      'a*b*',
      '{sub}',
      '{name',
      'a\nb',
      '$SYS',
      'a/b/c/d/e/f/g/h/i',
    ]) {
      expect(() => parseClientIdPattern(pattern), JSON.stringify(pattern)).toThrow(
        /invalid client-id pattern/,
      );
    }
  });

  it('cap the level length and level count of matched ids', () => {
    expect(isPatternableClientId('a'.repeat(128))).toBe(true);
    expect(isPatternableClientId('a'.repeat(129))).toBe(false);
    expect(matches('*', 'a'.repeat(129))).toBe(false);
    expect(isPatternableClientId('a/b/c/d/e/f/g/h')).toBe(true);
    expect(isPatternableClientId('a/b/c/d/e/f/g/h/i')).toBe(false);
  });
});
