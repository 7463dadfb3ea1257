import { afterEach, describe, expect, it, vi } from 'vitest';
import { RecentMap } from './recent-map.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('RecentMap', () => {
  it('forgets entries after their ttl', () => {
    vi.useFakeTimers();
    const map = new RecentMap<string, number>({ ttlMs: 1_000, maxEntries: 10 });
    map.set('a', 1);
    vi.advanceTimersByTime(999);
    expect(map.get('a')).toBe(1);
    vi.advanceTimersByTime(1);
    expect(map.get('a')).toBeUndefined();
  });

  it('drops the oldest entries beyond maxEntries', () => {
    const map = new RecentMap<string, number>({ ttlMs: 60_000, maxEntries: 2 });
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 3); // refreshed: now the newest
    map.set('c', 4);
    expect(map.has('b')).toBe(false);
    expect(map.get('a')).toBe(3);
    expect(map.get('c')).toBe(4);
    expect(map.size).toBe(2);
  });
});
