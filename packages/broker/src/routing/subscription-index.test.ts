import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SubscriptionIndex } from './subscription-index.js';
import { topicMatches } from '../topic.js';

const level = fc.constantFrom('a', 'b', 'c', '', '$x', 'long-level');
const topicArbitrary = fc.array(level, { minLength: 1, maxLength: 5 }).map((levels) => levels.join('/'));
const filterArbitrary = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '', '$x', '+'), { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
  .chain((filter) => fc.constantFrom(filter, '#'));

function matchAll(index: SubscriptionIndex<string>, topic: string): string[] {
  return index.match(topic, []).flat().sort();
}

describe('SubscriptionIndex', () => {
  it('matches exactly the filters the reference matcher matches', () => {
    fc.assert(
      fc.property(fc.uniqueArray(filterArbitrary, { maxLength: 30 }), topicArbitrary, (filters, topic) => {
        const index = new SubscriptionIndex<string>();
        for (const filter of filters) index.add(filter, filter);
        const expected = filters.filter((filter) => topicMatches(filter, topic)).sort();
        expect(matchAll(index, topic)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('stays correct and prunes empty branches as filters are removed', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(filterArbitrary, { minLength: 1, maxLength: 20 }),
        fc.array(topicArbitrary, { minLength: 1, maxLength: 5 }),
        (filters, topics) => {
          const index = new SubscriptionIndex<string>();
          for (const filter of filters) index.add(filter, filter);
          const removed = filters.filter((_, position) => position % 2 === 0);
          for (const filter of removed) expect(index.remove(filter, filter)).toBe(true);
          const kept = filters.filter((_, position) => position % 2 === 1);
          expect(index.size).toBe(kept.length);
          for (const topic of topics) {
            expect(matchAll(index, topic)).toEqual(
              kept.filter((filter) => topicMatches(filter, topic)).sort(),
            );
          }
          for (const filter of kept) index.remove(filter, filter);
          expect(index.size).toBe(0);
          expect(
            (index as unknown as { root: { children?: Map<string, unknown> } }).root.children,
          ).toBeUndefined();
        },
      ),
    );
  });

  it('keeps several values under one filter and removes one at a time', () => {
    const index = new SubscriptionIndex<number>();
    index.add('a/+', 1);
    index.add('a/+', 2);
    expect(index.match('a/b', []).flat()).toEqual([1, 2]);
    expect(index.remove('a/+', 1)).toBe(true);
    expect(index.remove('a/+', 1)).toBe(false);
    expect(index.match('a/b', []).flat()).toEqual([2]);
    expect(index.get('a/+')).toEqual([2]);
  });

  it('never matches $ topics with filters starting with a wildcard', () => {
    const index = new SubscriptionIndex<string>();
    for (const filter of ['#', '+/v1/#', '+', '$a2a/#', '$a2a/v1/request/+']) index.add(filter, filter);
    expect(matchAll(index, '$a2a/v1/request/x')).toEqual(['$a2a/#', '$a2a/v1/request/+']);
    expect(matchAll(index, 'a2a/v1/request/x')).toEqual(['#', '+/v1/#']);
  });
});
