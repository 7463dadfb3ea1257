import { describe, expect, it } from 'vitest';
import { payloadFingerprint } from './payload-fingerprint.js';

describe('payloadFingerprint', () => {
  it('is equal for equal bytes, and tells apart payloads that differ in one byte or in length', () => {
    const payload = new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"result":{}}');
    expect(payloadFingerprint(payload.slice())).toBe(payloadFingerprint(payload));
    const changed = payload.slice();
    changed[10] = (changed[10] as number) ^ 1;
    expect(payloadFingerprint(changed)).not.toBe(payloadFingerprint(payload));
    expect(payloadFingerprint(payload.subarray(1))).not.toBe(payloadFingerprint(payload));
    expect(payloadFingerprint(new Uint8Array(0))).toMatch(/^0:[0-9a-f]+\.[0-9a-f]+$/);
  });
});
