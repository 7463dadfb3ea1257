import { expect, it } from 'vitest';
import { SessionAdmission, isRefusal, sessionLimit, sessionTimeout } from './session-admission.js';

it('refuses beyond the total and the per-sender limit, and gives slots back once', () => {
  const admission = new SessionAdmission({ maxSessions: 3, maxSessionsPerSender: 2 });
  const a1 = admission.admit('alice');
  const a2 = admission.admit('alice');
  expect(isRefusal(a1) || isRefusal(a2)).toBe(false);
  expect(admission.admit('alice')).toEqual({ limit: 'max-sessions-per-sender', max: 2 });
  const anonymous = admission.admit(undefined);
  expect(isRefusal(anonymous)).toBe(false);
  expect(admission.admit('bob')).toEqual({ limit: 'max-sessions', max: 3 });
  if (isRefusal(a1)) throw new Error('unreachable');
  a1.release();
  a1.release();
  expect(admission.size).toBe(2);
  expect(admission.countOf('alice')).toBe(1);
  expect(isRefusal(admission.admit('alice'))).toBe(false);
});

it('validates limits and timeouts', () => {
  expect(sessionLimit(undefined, 1000, 'maxSessions')).toBe(1000);
  expect(sessionLimit(Infinity, 1000, 'maxSessions')).toBe(Infinity);
  expect(() => sessionLimit(0, 1000, 'maxSessions')).toThrow(/positive integer/);
  expect(() => sessionLimit(1.5, 1000, 'maxSessions')).toThrow(/positive integer/);
  expect(sessionTimeout(0, 30_000, 'initializationTimeoutMs')).toBe(0);
  expect(() => sessionTimeout(Number.NaN, 30_000, 'initializationTimeoutMs')).toThrow(/>= 0/);
});
