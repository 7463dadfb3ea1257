import { describe, expect, it } from 'vitest';
import { printable } from './printable.js';

describe('printable', () => {
  it('escapes newlines, ESC and other controls so a value cannot forge a log line', () => {
    expect(printable('evil\n2026-01-01 connect admin\u001b[31m')).toBe(
      'evil\\u000a2026-01-01 connect admin\\u001b[31m',
    );
    expect(printable('a\u0085b\u2028c\u202ed')).toBe('a\\u0085b\\u2028c\\u202ed');
  });

  it('keeps ordinary text and surrogate pairs, escapes lone surrogates', () => {
    expect(printable('acme/line-7/press ✓ 😀')).toBe('acme/line-7/press ✓ 😀');
    expect(printable('x\uD800y')).toBe('x\\ud800y');
  });

  it('cuts long values and stringifies non-strings', () => {
    expect(printable('a'.repeat(10), 4)).toBe('aaaa…');
    expect(printable(42)).toBe('42');
  });
});
