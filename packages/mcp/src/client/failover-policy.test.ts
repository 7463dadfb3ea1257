import { describe, expect, it } from 'vitest';
import { isRetriable, resolveFailover, sessionLostDetails, sessionLostResponse } from './failover-policy.js';

describe('failover policy', () => {
  it('applies defaults, turns off with false, and refuses bad bounds', () => {
    expect(resolveFailover(undefined)).toMatchObject({
      timeoutMs: 30_000,
      maxFailovers: Number.POSITIVE_INFINITY,
      retryReads: true,
      retryAnnotatedTools: false,
      maxHeldMessages: 1_000,
    });
    expect(resolveFailover(false)).toBeUndefined();
    expect(resolveFailover({ maxFailovers: 2 })?.maxFailovers).toBe(2);
    for (const bad of [
      { timeoutMs: -1 },
      { timeoutMs: Number.POSITIVE_INFINITY },
      { maxFailovers: 1.5 },
      { maxHeldMessages: Number.NaN },
    ]) {
      expect(() => resolveFailover(bad)).toThrow(/failover\./);
    }
  });

  it('retries reads; tools only when opted in and annotated read-only or idempotent', () => {
    const policy = resolveFailover({})!;
    const opted = resolveFailover({ retryAnnotatedTools: true })!;
    const hints = new Map([
      ['stamp', { idempotentHint: true }],
      ['look', { readOnlyHint: true }],
    ]);
    expect(isRetriable({ method: 'resources/read' }, policy, hints)).toBe(true);
    expect(isRetriable({ method: 'tools/list' }, resolveFailover({ retryReads: false })!, hints)).toBe(false);
    expect(isRetriable({ method: 'tools/call', params: { name: 'stamp' } }, policy, hints)).toBe(false);
    expect(isRetriable({ method: 'tools/call', params: { name: 'stamp' } }, opted, hints)).toBe(true);
    expect(isRetriable({ method: 'tools/call', params: { name: 'look' } }, opted, hints)).toBe(true);
    expect(isRetriable({ method: 'tools/call', params: { name: 'press' } }, opted, hints)).toBe(false);
    expect(isRetriable({ method: 'sampling/createMessage' }, opted, hints)).toBe(false);
  });

  it('the session-lost error round-trips through sessionLostDetails, and nothing else passes for it', () => {
    const response = sessionLostResponse(7, {
      mayHaveRun: false,
      method: 'tools/call',
      serverName: 'factory/press',
      serverId: 'press-a',
    }) as { error: { code: number; message: string; data: unknown } };
    expect(response.error.message).toMatch(/it was not sent/);
    expect(sessionLostDetails(response.error)).toEqual({
      reason: 'session-lost',
      retriable: true,
      mayHaveRun: false,
      method: 'tools/call',
      serverName: 'factory/press',
      serverId: 'press-a',
    });
    expect(sessionLostDetails({ code: -32000, data: { reason: 'draining' } })).toBeUndefined();
    expect(sessionLostDetails(new Error('boom'))).toBeUndefined();
    expect(sessionLostDetails(null)).toBeUndefined();
  });
});
