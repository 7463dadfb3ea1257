import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RetainedStore } from './retained-store.js';
import { topicMatches } from '../topic.js';

interface Item {
  topic: string;
  expiresAt: number;
}

const level = fc.constantFrom('a', 'b', '', '$x', 'c');
const topicArbitrary = fc.array(level, { minLength: 1, maxLength: 4 }).map((levels) => levels.join('/'));
const filterArbitrary = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '', '$x', '+'), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
  .chain((filter) => fc.constantFrom(filter, '#', '+'));

describe('RetainedStore', () => {
  it('finds exactly the retained topics the reference matcher matches', () => {
    fc.assert(
      fc.property(fc.uniqueArray(topicArbitrary, { maxLength: 25 }), filterArbitrary, (topics, filter) => {
        const store = new RetainedStore<Item>();
        for (const topic of topics) store.set(topic, { topic, expiresAt: 0 });
        const found = store
          .match(filter)
          .map((item) => item.topic)
          .sort();
        expect(found).toEqual(topics.filter((topic) => topicMatches(filter, topic)).sort());
      }),
      { numRuns: 2000 },
    );
  });

  it('replaces, deletes and prunes', () => {
    const store = new RetainedStore<Item>();
    store.set('a/b', { topic: 'a/b', expiresAt: 0 });
    store.set('a/b', { topic: 'a/b', expiresAt: 1 });
    expect(store.size).toBe(1);
    expect(store.get('a/b', 0)?.expiresAt).toBe(1);
    expect(store.delete('a/b')).toBe(true);
    expect(store.delete('a/b')).toBe(false);
    expect(store.size).toBe(0);
    expect(store.match('#')).toEqual([]);
    expect((store as unknown as { root: { children?: Map<string, unknown> } }).root.children?.size ?? 0).toBe(
      0,
    );
  });

  it('drops expired messages when they are looked up', () => {
    const store = new RetainedStore<Item>();
    store.set('a', { topic: 'a', expiresAt: 1000 });
    store.set('b', { topic: 'b', expiresAt: 0 });
    expect(
      store
        .match('+', 999)
        .map((item) => item.topic)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(store.match('+', 1000).map((item) => item.topic)).toEqual(['b']);
    expect(store.size).toBe(1);
    store.set('c', { topic: 'c', expiresAt: 5 });
    expect(store.get('c', 6)).toBeUndefined();
    expect(store.size).toBe(1);
  });

  it('hides $ topics from filters starting with a wildcard', () => {
    const store = new RetainedStore<Item>();
    for (const topic of ['$mcp-server/presence/s', 'mcp/presence/s'])
      store.set(topic, { topic, expiresAt: 0 });
    expect(store.match('#').map((item) => item.topic)).toEqual(['mcp/presence/s']);
    expect(store.match('+/presence/+').map((item) => item.topic)).toEqual(['mcp/presence/s']);
    expect(store.match('$mcp-server/#').map((item) => item.topic)).toEqual(['$mcp-server/presence/s']);
  });
});
