import { describe, expect, it } from 'vitest';
import { checkTopicName, isValidTopicFilter, parseTopicFilter, topicMatches } from './topic.js';

describe('checkTopicName', () => {
  it('accepts plain and $ topic names', () => {
    for (const topic of ['a', 'a/b', '/', '/a/', '$mcp-server/presence/x', '$a2a/v1/request/o/u/a', ' ']) {
      expect(checkTopicName(topic)).toBeUndefined();
    }
  });
  it('refuses empty names and wildcards with a protocol error, U+0000 as malformed', () => {
    expect(checkTopicName('')).toBe(0x82);
    expect(checkTopicName('a/+')).toBe(0x82);
    expect(checkTopicName('a/#')).toBe(0x82);
    expect(checkTopicName('a+b')).toBe(0x82);
    expect(checkTopicName('a\u0000b')).toBe(0x81);
  });
});

describe('isValidTopicFilter', () => {
  it.each(['#', '+', 'a/#', '+/+', 'a/+/b', '/#', '+/', '$a2a/v1/+/#', 'a//b', '/'])(
    'accepts %j',
    (filter) => {
      expect(isValidTopicFilter(filter)).toBe(true);
    },
  );
  it.each(['', 'a#', 'a/#/b', '#/a', 'a+', '+a', 'a/b+', '##', 'a/\u0000'])('refuses %j', (filter) => {
    expect(isValidTopicFilter(filter)).toBe(false);
  });
});

describe('parseTopicFilter', () => {
  it('splits shared subscriptions, including filters starting with $', () => {
    expect(parseTopicFilter('$share/g/a/#')).toEqual({ shareName: 'g', filter: 'a/#' });
    expect(parseTopicFilter('$share/pool/$a2a/v1/request/o/u/+')).toEqual({
      shareName: 'pool',
      filter: '$a2a/v1/request/o/u/+',
    });
    expect(parseTopicFilter('a/b')).toEqual({ shareName: undefined, filter: 'a/b' });
  });
  it('refuses malformed shared subscriptions', () => {
    for (const filter of [
      '$share/g',
      '$share/g/',
      '$share//a',
      '$share/g+/a',
      '$share/#/a',
      '$share/g/a/#/b',
    ]) {
      expect(parseTopicFilter(filter)).toBeUndefined();
    }
  });
  it('treats $shared and $sharex as ordinary filters', () => {
    expect(parseTopicFilter('$shared/g/a')).toEqual({ shareName: undefined, filter: '$shared/g/a' });
  });
});

describe('topicMatches', () => {
  it.each([
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'a/b', true],
    ['+', 'a', true],
    ['+', 'a/b', false],
    ['a/+', 'a/', true],
    ['+/+', '/a', true],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/d', false],
    ['a/b', 'a/b/c', false],
    ['#', '$SYS/x', false],
    ['+/x', '$a/x', false],
    ['$a/#', '$a/x', true],
    ['$a2a/v1/request/+/+/+', '$a2a/v1/request/o/u/a', true],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});
