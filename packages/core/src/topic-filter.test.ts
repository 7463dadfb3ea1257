import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MqttAgentsError } from './errors.js';
import {
  MQTT_TOPIC_MAX_BYTES,
  assertTopicFilter,
  assertTopicName,
  matchTopicFilter,
  parseSharedSubscription,
  sharedSubscription,
  utf8ByteLength,
  validateTopicFilter,
  validateTopicName,
} from './topic-filter.js';

// [filter, topic, matches] — MQTT 5 section 4.7 and its examples, plus edge cases.
const matchCases: Array<[string, string, boolean]> = [
  // exact
  ['sport/tennis/player1', 'sport/tennis/player1', true],
  ['sport/tennis/player1', 'sport/tennis/player2', false],
  ['sport/tennis', 'sport/tennis/player1', false],
  ['sport/tennis/player1', 'sport/tennis', false],
  ['Sport', 'sport', false],
  ['a b', 'a b', true],
  // multi-level wildcard
  ['sport/tennis/player1/#', 'sport/tennis/player1', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
  ['sport/#', 'sport', true],
  ['sport/#', 'sport/', true],
  ['sport/#', 'sports', false],
  ['sport/#', 'sportx/tennis', false],
  ['#', 'sport', true],
  ['#', 'sport/tennis/player1', true],
  ['#', '/', true],
  ['#', '/finance', true],
  // single-level wildcard
  ['sport/tennis/+', 'sport/tennis/player1', true],
  ['sport/tennis/+', 'sport/tennis/player2', true],
  ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
  ['sport/+', 'sport', false],
  ['sport/+', 'sport/', true],
  ['+', 'sport', true],
  ['+', 'sport/tennis', false],
  ['+', '/', false],
  ['+/+', '/finance', true],
  ['/+', '/finance', true],
  ['+', '/finance', false],
  ['+/tennis/#', 'sport/tennis/player1', true],
  ['+/tennis/#', 'sport/tennis', true],
  ['+/+/+', 'a/b', false],
  ['+/#', 'a', true],
  ['a/+/c', 'a//c', true],
  // empty levels
  ['/', '/', true],
  ['a//b', 'a//b', true],
  ['a//b', 'a/b', false],
  // topics starting with '$'
  ['#', '$SYS/monitor/Clients', false],
  ['#', '$SYS', false],
  ['+', '$SYS', false],
  ['+/monitor/Clients', '$SYS/monitor/Clients', false],
  ['+/#', '$SYS/x', false],
  ['$SYS/#', '$SYS/', true],
  ['$SYS/#', '$SYS', true],
  ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
  ['$SYS/+/Clients', '$SYS/monitor/Clients', true],
  ['$a2a/v1/discovery/+/+/+', '$a2a/v1/discovery/o/u/a', true],
  ['a/#', 'a/$b', true],
  ['a/+', 'a/$b', true],
  // shared subscriptions match like their inner filter
  ['$share/g/sport/#', 'sport/tennis', true],
  ['$share/g/#', '$SYS/x', false],
  ['$share/g/$a2a/v1/request/o/u/pool/p', '$a2a/v1/request/o/u/pool/p', true],
  ['$share/g/+', 'a/b', false],
  ['$share/g', 'g', false],
  ['$share//a', 'a', false],
  ['$share/g/', 'x', false],
  ['$share/g+/a', 'a', false],
  // invalid filters and topics never match
  ['sport/#/tennis', 'sport/x/tennis', false],
  ['sport/#/tennis', 'sport/tennis', false],
  ['sport+', 'sport+', false],
  ['sport#', 'sport#', false],
  ['sport/+x', 'sport/+x', false],
  ['', '', false],
  ['', 'a', false],
  ['#', '', false],
  ['+', '', false],
  ['+', 'a+', false],
  ['#', 'a/#', false],
  ['a/+', 'a/#', false],
];

describe('matchTopicFilter', () => {
  it.each(matchCases)('%j matches %j: %s', (filter, topic, expected) => {
    expect(matchTopicFilter(filter, topic)).toBe(expected);
  });

  it('never throws on non-string input', () => {
    expect(matchTopicFilter(undefined as unknown as string, 'a')).toBe(false);
    expect(matchTopicFilter('#', 42 as unknown as string)).toBe(false);
  });

  // A deliberately simple model of MQTT 5 matching, to check the allocation-free matcher against.
  function referenceMatch(filter: string, topic: string): boolean {
    if (!validateTopicFilter(filter).ok || !validateTopicName(topic).ok) return false;
    const shared = parseSharedSubscription(filter);
    const inner = shared ? shared.filter : filter;
    if ((inner.startsWith('+') || inner.startsWith('#')) && topic.startsWith('$')) return false;
    const filterLevels = inner.split('/');
    const topicLevels = topic.split('/');
    for (let index = 0; index < filterLevels.length; index++) {
      const level = filterLevels[index];
      if (level === '#') return true;
      if (index >= topicLevels.length) return false;
      if (level !== '+' && level !== topicLevels[index]) return false;
    }
    return filterLevels.length === topicLevels.length;
  }

  const level = fc.constantFrom('a', 'b', '', '$a', 'ab', 'é', '+', '#', 'a+', '#b');
  const levelsToString = (levels: string[]) => levels.join('/');
  const filterArbitrary = fc.oneof(
    fc.array(level, { minLength: 1, maxLength: 5 }).map(levelsToString),
    fc.array(level, { minLength: 1, maxLength: 4 }).map((levels) => `$share/g/${levelsToString(levels)}`),
  );
  const topicArbitrary = fc.array(fc.constantFrom('a', 'b', '', '$a', 'ab', 'é', '$SYS', 'a+'), {
    minLength: 1,
    maxLength: 5,
  });

  it('agrees with a split-based reference implementation', () => {
    fc.assert(
      fc.property(filterArbitrary, topicArbitrary.map(levelsToString), (filter, topic) => {
        expect(matchTopicFilter(filter, topic)).toBe(referenceMatch(filter, topic));
      }),
      { numRuns: 5000 },
    );
  });

  it('a topic name used as a filter matches itself', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'grapheme' }), (topic) => {
        fc.pre(validateTopicName(topic).ok && !topic.startsWith('$share/'));
        expect(matchTopicFilter(topic, topic)).toBe(true);
      }),
    );
  });

  it("'#' matches every valid topic that does not start with '$'", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (topic) => {
        fc.pre(validateTopicName(topic).ok);
        expect(matchTopicFilter('#', topic)).toBe(!topic.startsWith('$'));
      }),
    );
  });
});

describe('validateTopicName', () => {
  it.each([['a'], ['/'], ['a/b/c'], ['$SYS/x'], ['a b'], ['é/ü'], ['😀'], ['$share/g/a']])(
    'accepts %j',
    (topic) => {
      expect(validateTopicName(topic)).toEqual({ ok: true });
    },
  );

  it.each([
    ['', 'empty'],
    ['a/+', 'wildcard'],
    ['a/#', 'wildcard'],
    ['a+b', 'wildcard'],
    ['a\u0000b', 'nul'],
    ['a\uD800', 'lone-surrogate'],
    ['\uDC00a', 'lone-surrogate'],
    [42, 'type'],
  ])('rejects %j (%s)', (topic, rule) => {
    expect(validateTopicName(topic as string)).toMatchObject({ ok: false, rule });
  });

  it('limits topics to 65535 bytes of UTF-8, not 65535 characters', () => {
    expect(validateTopicName('a'.repeat(MQTT_TOPIC_MAX_BYTES)).ok).toBe(true);
    expect(validateTopicName('a'.repeat(MQTT_TOPIC_MAX_BYTES + 1))).toMatchObject({
      ok: false,
      rule: 'too-long',
    });
    // 'é' is two bytes: 32768 of them are 65536 bytes in only 32768 characters.
    expect(validateTopicName('é'.repeat(32_767)).ok).toBe(true);
    expect(validateTopicName('é'.repeat(32_768))).toMatchObject({ ok: false, rule: 'too-long' });
    // An emoji is a surrogate pair: two code units, four bytes.
    expect(validateTopicName('😀'.repeat(16_383) + 'abc').ok).toBe(true);
    expect(validateTopicName('😀'.repeat(16_384))).toMatchObject({ ok: false, rule: 'too-long' });
  });
});

describe('utf8ByteLength', () => {
  it('agrees with TextEncoder on well-formed strings', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        expect(utf8ByteLength(value)).toBe(encoder.encode(value).length);
      }),
    );
  });
});

describe('validateTopicFilter', () => {
  it.each([
    ['#'],
    ['+'],
    ['+/+'],
    ['/+'],
    ['sport/#'],
    ['sport/+/player1'],
    ['sport/tennis/#'],
    ['$SYS/#'],
    ['+/tennis/#'],
    ['a//b'],
    ['$share/g/#'],
    ['$share/g/a/+/b'],
    ['$share/group.1/$a2a/v1/request/o/u/pool/p'],
    ['$share'],
    ['$sharex/a'],
  ])('accepts %j', (filter) => {
    expect(validateTopicFilter(filter)).toEqual({ ok: true });
  });

  it.each([
    ['', 'empty'],
    ['sport/tennis#', 'wildcard-position'],
    ['sport/tennis/#/ranking', 'wildcard-position'],
    ['#/a', 'wildcard-position'],
    ['sport+', 'wildcard-position'],
    ['sport/+tennis', 'wildcard-position'],
    ['++', 'wildcard-position'],
    ['a\u0000', 'nul'],
    ['a/\uD800', 'lone-surrogate'],
    ['$share/g', 'share-filter'],
    ['$share/g/', 'share-filter'],
    ['$share//a', 'share-name'],
    ['$share/', 'share-name'],
    ['$share/g+/a', 'share-name'],
    ['$share/#/a', 'share-name'],
    ['$share/g/a#', 'wildcard-position'],
    [null, 'type'],
  ])('rejects %j (%s)', (filter, rule) => {
    expect(validateTopicFilter(filter as string)).toMatchObject({ ok: false, rule });
  });

  it('limits filters to 65535 bytes', () => {
    expect(validateTopicFilter('a/'.repeat(32_767) + '#').ok).toBe(true);
    expect(validateTopicFilter('a/'.repeat(32_767) + 'ab')).toMatchObject({ ok: false, rule: 'too-long' });
  });
});

describe('assertTopicName and assertTopicFilter', () => {
  it('return the value when valid', () => {
    expect(assertTopicName('a/b')).toBe('a/b');
    expect(assertTopicFilter('a/+')).toBe('a/+');
  });

  it('throw INVALID_TOPIC / INVALID_TOPIC_FILTER with a message naming the value and the rule', () => {
    expect(() => assertTopicName('a/+')).toThrow(
      "invalid topic 'a/+': '+' and '#' are not allowed in a topic name",
    );
    try {
      assertTopicFilter('a/#/b');
      expect.unreachable();
    } catch (error) {
      expect(MqttAgentsError.hasCode(error, 'INVALID_TOPIC_FILTER')).toBe(true);
      expect((error as MqttAgentsError).message).toBe(
        "invalid topic filter 'a/#/b': '#' must be the whole last level",
      );
      expect((error as MqttAgentsError).details).toEqual({ filter: 'a/#/b', rule: 'wildcard-position' });
    }
    expect(() => assertTopicName('')).toThrow(expect.objectContaining({ code: 'INVALID_TOPIC' }));
  });

  it('keeps messages on one line and short for hostile values', () => {
    try {
      assertTopicName('a\u0000\n' + 'x'.repeat(1000));
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).not.toContain('\n');
      expect(message).toContain('\\u0000\\u000a');
      expect(message.length).toBeLessThan(150);
    }
  });
});

describe('shared subscriptions', () => {
  it('parseSharedSubscription splits group and filter', () => {
    expect(parseSharedSubscription('$share/g/a/#')).toEqual({ group: 'g', filter: 'a/#' });
    expect(parseSharedSubscription('$share/g/$a2a/v1/x')).toEqual({ group: 'g', filter: '$a2a/v1/x' });
    expect(parseSharedSubscription('$share/g/$share/h/x')).toEqual({ group: 'g', filter: '$share/h/x' });
  });

  it.each([
    ['a/#'],
    ['$share'],
    ['$share/g'],
    ['$share//a'],
    ['$share/g/'],
    ['$share/g+/a'],
    ['$share/g/a#'],
  ])('parseSharedSubscription(%j) is undefined', (filter) => {
    expect(parseSharedSubscription(filter)).toBeUndefined();
  });

  it('sharedSubscription builds and round-trips', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/),
        fc.array(fc.constantFrom('a', '$b', '+', 'c d'), { minLength: 1, maxLength: 4 }),
        (group, levels) => {
          const filter = levels.join('/');
          expect(parseSharedSubscription(sharedSubscription(group, filter))).toEqual({ group, filter });
        },
      ),
    );
  });

  it('sharedSubscription rejects bad groups and filters', () => {
    expect(() => sharedSubscription('a/b', 'x')).toThrow("invalid share name 'a/b': '/' is not allowed");
    expect(() => sharedSubscription('', 'x')).toThrow(
      expect.objectContaining({ code: 'INVALID_TOPIC_FILTER' }),
    );
    expect(() => sharedSubscription('g+', 'x')).toThrow(
      expect.objectContaining({ code: 'INVALID_TOPIC_FILTER' }),
    );
    expect(() => sharedSubscription('g', '')).toThrow(
      expect.objectContaining({ code: 'INVALID_TOPIC_FILTER' }),
    );
    expect(() => sharedSubscription('g', 'a/#/b')).toThrow(
      expect.objectContaining({ code: 'INVALID_TOPIC_FILTER' }),
    );
    expect(() => sharedSubscription('g', '$share/h/x')).toThrow('cannot be shared again');
  });
});
