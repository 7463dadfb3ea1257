import { expect, it } from 'vitest';
import { sessionRefusalError, sessionRefusalReason } from './session-refusal.js';

/** The shape of the SDK's McpError, without importing the SDK. */
class FakeMcpError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(`MCP error ${code}: ${message}`);
  }
}

it('reads data.reason of a -32000 refusal, as an error, a wire object or a wrapped cause', () => {
  const wire = sessionRefusalError('draining', 'server instance is draining');
  expect(wire).toEqual({
    code: -32000,
    message: 'server instance is draining',
    data: { reason: 'draining' },
  });
  expect(sessionRefusalReason(wire)).toBe('draining');
  expect(sessionRefusalReason(new FakeMcpError(-32000, 'full', { reason: 'session-limit', max: 1 }))).toBe(
    'session-limit',
  );
  const wrapped = new Error('connect failed', {
    cause: new FakeMcpError(-32000, 'x', { reason: 'draining' }),
  });
  expect(sessionRefusalReason(wrapped)).toBe('draining');
});

it('is undefined for anything else', () => {
  expect(sessionRefusalReason(new FakeMcpError(-32603, 'x', { reason: 'draining' }))).toBeUndefined();
  expect(sessionRefusalReason(new FakeMcpError(-32000, 'x'))).toBeUndefined();
  expect(sessionRefusalReason(new FakeMcpError(-32000, 'x', { reason: 7 }))).toBeUndefined();
  expect(sessionRefusalReason(new Error('nope'))).toBeUndefined();
  expect(sessionRefusalReason(undefined)).toBeUndefined();
  expect(sessionRefusalReason('draining')).toBeUndefined();
  const loop: { code: number; cause?: unknown } = { code: 1 };
  loop.cause = loop;
  expect(sessionRefusalReason(loop)).toBeUndefined();
});
