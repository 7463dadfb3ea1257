import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { SessionActivity } from './session-activity.js';
import type { SessionExpiry } from './session-activity.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function activity(idleTimeoutMs: number, initializationTimeoutMs: number) {
  const expired: SessionExpiry[] = [];
  const clock = new SessionActivity({
    idleTimeoutMs,
    initializationTimeoutMs,
    onExpired: (expiry) => expired.push(expiry),
  });
  return { clock, expired };
}

it('reaps a session whose client never confirms initialization', () => {
  const { clock, expired } = activity(10_000, 1_000);
  clock.heard({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
  clock.sent({ jsonrpc: '2.0', id: 1, result: {} });
  clock.answeredInitialize();
  vi.advanceTimersByTime(999);
  expect(expired).toEqual([]);
  vi.advanceTimersByTime(1);
  expect(expired).toEqual(['initialization']);
});

it('reaps an initialized session after the idle time; traffic and requests in progress hold it', () => {
  const { clock, expired } = activity(1_000, 500);
  clock.heard({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
  clock.sent({ jsonrpc: '2.0', id: 1, result: {} });
  clock.answeredInitialize();
  clock.heard({ jsonrpc: '2.0', method: 'notifications/initialized' });
  vi.advanceTimersByTime(800);
  clock.heard({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: {} });
  vi.advanceTimersByTime(5_000);
  expect(expired).toEqual([]);
  clock.sent({ jsonrpc: '2.0', id: 2, result: {} });
  vi.advanceTimersByTime(999);
  expect(expired).toEqual([]);
  vi.advanceTimersByTime(1_001);
  expect(expired).toEqual(['idle']);
  vi.advanceTimersByTime(10_000);
  expect(expired).toEqual(['idle']);
});

it('0 turns both clocks off', () => {
  const { clock, expired } = activity(0, 0);
  clock.answeredInitialize();
  vi.advanceTimersByTime(10 ** 9);
  expect(expired).toEqual([]);
  clock.dispose();
});

it('counts requests in progress; a response or a cancellation from the client finishes one', () => {
  const { clock } = activity(10_000, 0);
  clock.heard({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: {} });
  clock.heard({ jsonrpc: '2.0', id: 'two', method: 'tools/call', params: {} });
  expect(clock.requestsInProgress).toBe(2);
  clock.sent({ jsonrpc: '2.0', id: 1, result: {} });
  expect(clock.requestsInProgress).toBe(1);
  clock.heard({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'two' } });
  expect(clock.requestsInProgress).toBe(0);
  clock.dispose();
});
