import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestDeadlines, requestIdKey } from './request-deadlines.js';

describe('RequestDeadlines', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const timeouts = new Map([['tools/call', 100]]);

  it('expires a request of a listed method and drops its late response', () => {
    const expired: unknown[] = [];
    const deadlines = new RequestDeadlines({ timeouts, onExpired: (request) => expired.push(request) });
    deadlines.track({ jsonrpc: '2.0', id: 0, method: 'tools/call', params: {} });
    vi.advanceTimersByTime(99);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual([{ id: 0, method: 'tools/call', milliseconds: 100 }]);
    expect(deadlines.observe({ jsonrpc: '2.0', id: 0, result: {} })).toBe(false);
    // Only once: a second response with the same id is passed on (the SDK reports it).
    expect(deadlines.observe({ jsonrpc: '2.0', id: 0, result: {} })).toBe(true);
  });

  it('ignores methods without a timeout and clears on response', () => {
    const expired: unknown[] = [];
    const deadlines = new RequestDeadlines({ timeouts, onExpired: (request) => expired.push(request) });
    deadlines.track({ jsonrpc: '2.0', id: 1, method: 'elicitation/create' });
    deadlines.track({ jsonrpc: '2.0', id: 2, method: 'tools/call' });
    expect(deadlines.observe({ jsonrpc: '2.0', id: 2, result: {} })).toBe(true);
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual([]);
  });

  it('restarts the clock on progress for the request', () => {
    const expired: unknown[] = [];
    const deadlines = new RequestDeadlines({ timeouts, onExpired: (request) => expired.push(request) });
    deadlines.track({
      jsonrpc: '2.0',
      id: 'a',
      method: 'tools/call',
      params: { _meta: { progressToken: 'a' } },
    });
    for (let step = 0; step < 5; step++) {
      vi.advanceTimersByTime(80);
      deadlines.observe({
        jsonrpc: '2.0',
        method: 'notifications/progress',
        params: { progressToken: 'a', progress: step },
      });
    }
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(expired).toHaveLength(1);
  });

  it('keeps 0 and "0" apart', () => {
    expect(requestIdKey(0)).not.toBe(requestIdKey('0'));
  });
});
