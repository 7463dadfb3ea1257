import { describe, expect, it } from 'vitest';
import { MqttAgentsError, abortError } from './errors.js';

describe('MqttAgentsError', () => {
  it('carries a code, a cause and details', () => {
    const cause = new Error('socket closed');
    const error = new MqttAgentsError('NOT_CONNECTED', 'not connected', { cause, details: { url: 'x' } });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('NOT_CONNECTED');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ url: 'x' });
    expect(error.name).toBe('MqttAgentsError');
  });

  it('is recognised across bundled copies through its Symbol.for brand', () => {
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('mqtt-agents.error')]: true,
      code: 'CLOSED',
    });
    expect(MqttAgentsError.isInstance(foreign)).toBe(true);
    expect(MqttAgentsError.isInstance(new Error('plain'))).toBe(false);
    expect(MqttAgentsError.isInstance(null)).toBe(false);
    expect(MqttAgentsError.isInstance('CLOSED')).toBe(false);
  });

  it('hasCode checks the code too', () => {
    const error = new MqttAgentsError('REQUEST_TIMEOUT', 'timed out');
    expect(MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT')).toBe(true);
    expect(MqttAgentsError.hasCode(error, 'ABORTED')).toBe(false);
  });
});

describe('abortError', () => {
  it('wraps a plain abort reason in an ABORTED error', () => {
    const controller = new AbortController();
    controller.abort('user left');
    const error = abortError(controller.signal, 'request');
    expect(error.code).toBe('ABORTED');
    expect(error.message).toBe('request was aborted');
    expect(error.cause).toBe('user left');
  });

  it('passes an SDK error given as the reason through unchanged', () => {
    const controller = new AbortController();
    const reason = new MqttAgentsError('CLOSED', 'closed');
    controller.abort(reason);
    expect(abortError(controller.signal, 'request')).toBe(reason);
  });
});
