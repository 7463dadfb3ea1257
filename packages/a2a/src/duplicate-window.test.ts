import { describe, expect, it } from 'vitest';
import { DuplicateWindow, WINDOW_ENTRY_OVERHEAD_BYTES } from './duplicate-window.js';

function windowWith(overrides: Partial<ConstructorParameters<typeof DuplicateWindow>[0]> = {}) {
  let now = 0;
  const window = new DuplicateWindow<string>({
    windowMs: 1_000,
    maxEntriesPerRequester: 3,
    maxBytesPerRequester: 1024 * 1024,
    maxEntries: 10,
    maxBytes: 1024 * 1024,
    now: () => now,
    ...overrides,
  });
  return { window, advance: (ms: number) => (now += ms) };
}

describe('DuplicateWindow', () => {
  it('remembers an answered request for the window, whatever else arrives, and forgets it after', () => {
    const { window, advance } = windowWith({ maxEntriesPerRequester: 100, maxEntries: 100 });
    expect(window.add('victim', 'alice', 'v')).toEqual({ ok: true });
    window.settle('victim');
    for (let index = 0; index < 50; index++) {
      window.add(`other-${index}`, `bob-${index % 5}`, 'x');
      window.settle(`other-${index}`);
    }
    advance(999);
    expect(window.get('victim')?.value).toBe('v');
    advance(1);
    expect(window.get('victim')).toBeUndefined();
  });

  it('never expires a request in flight', () => {
    const { window, advance } = windowWith();
    window.add('running', 'alice', 'r');
    advance(60_000);
    expect(window.get('running')?.value).toBe('r');
    window.settle('running');
    advance(1_000);
    expect(window.get('running')).toBeUndefined();
  });

  it('refuses a requester at its own limit and keeps serving the others', () => {
    const { window, advance } = windowWith();
    for (const key of ['a', 'b', 'c']) expect(window.add(key, 'flooder', key).ok).toBe(true);
    expect(window.add('d', 'flooder', 'd')).toEqual({ ok: false, refusal: 'requester-entries' });
    expect(window.add('e', 'alice', 'e')).toEqual({ ok: true });
    expect(window.get('a')?.value).toBe('a');
    // Its entries age out once answered: then it is served again.
    for (const key of ['a', 'b', 'c']) window.settle(key);
    advance(1_000);
    expect(window.add('d', 'flooder', 'd')).toEqual({ ok: true });
    expect(window.usageOf('flooder').entries).toBe(1);
  });

  it('bounds the total by count and by bytes, and per requester by bytes', () => {
    const entry = WINDOW_ENTRY_OVERHEAD_BYTES + 2 * ('k0'.length + 'r0'.length);
    const byCount = windowWith({ maxEntriesPerRequester: 10, maxEntries: 2 }).window;
    byCount.add('k0', 'r0', '');
    byCount.add('k1', 'r1', '');
    expect(byCount.add('k2', 'r2', '')).toEqual({ ok: false, refusal: 'entries' });
    const byBytes = windowWith({ maxEntriesPerRequester: 10, maxBytes: 2 * entry }).window;
    byBytes.add('k0', 'r0', '');
    byBytes.add('k1', 'r1', '');
    expect(byBytes.add('k2', 'r2', '')).toEqual({ ok: false, refusal: 'bytes' });
    const perRequester = windowWith({ maxEntriesPerRequester: 10, maxBytesPerRequester: entry + 100 }).window;
    perRequester.add('k0', 'r0', '');
    // A kept answer counts: it takes the requester over its byte budget.
    perRequester.settle('k0', 200);
    expect(perRequester.usageOf('r0').bytes).toBe(entry + 200);
    expect(perRequester.add('k1', 'r0', '')).toEqual({ ok: false, refusal: 'requester-bytes' });
    expect(perRequester.add('k1', 'r1', '').ok).toBe(true);
  });

  it('forgets a request that never ran at once, and releases its budget', () => {
    const { window } = windowWith();
    window.add('k', 'alice', 'v');
    window.delete('k');
    expect(window.get('k')).toBeUndefined();
    expect(window.size).toBe(0);
    expect(window.bytes).toBe(0);
    expect(window.usageOf('alice')).toEqual({ entries: 0, bytes: 0 });
  });
});
