import { describe, expect, it } from 'vitest';
import { randomId } from './random-id.js';

describe('randomId', () => {
  it('gives 21 URL-safe characters by default and the length asked for', () => {
    expect(randomId()).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(randomId(12)).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });

  it('does not repeat itself', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => randomId()));
    expect(ids.size).toBe(10_000);
  });

  it('uses every character of its alphabet', () => {
    const seen = new Set(Array.from({ length: 2_000 }, () => randomId()).join(''));
    expect(seen.size).toBe(64);
  });
});
