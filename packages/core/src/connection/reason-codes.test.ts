import { describe, expect, it } from 'vitest';
import { describeReasonCode } from './reason-codes.js';

describe('describeReasonCode', () => {
  it('names known reason codes in hex', () => {
    expect(describeReasonCode(0x87)).toBe('0x87 (Not authorized)');
    expect(describeReasonCode(0x10)).toMatch(/^0x10 \(No matching subscribers\)$/i);
  });

  it('prints unknown codes in hex only', () => {
    expect(describeReasonCode(0x7f)).toBe('0x7f');
  });
});
