import { describe, expect, it, vi } from 'vitest';
import { setTcpNoDelay } from './socket-tuning.js';

describe('setTcpNoDelay', () => {
  it('turns Nagle off on anything with setNoDelay (net and tls sockets)', () => {
    const setNoDelay = vi.fn();
    expect(setTcpNoDelay({ setNoDelay })).toBe(true);
    expect(setNoDelay).toHaveBeenCalledWith(true);
  });

  it('leaves WebSocket streams and non-objects alone', () => {
    expect(setTcpNoDelay({ write() {}, on() {} })).toBe(false);
    expect(setTcpNoDelay({ setNoDelay: true })).toBe(false);
    expect(setTcpNoDelay(undefined)).toBe(false);
    expect(setTcpNoDelay(null)).toBe(false);
  });
});
