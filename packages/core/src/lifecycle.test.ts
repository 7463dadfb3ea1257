import { describe, expect, it } from 'vitest';
import { startOrClose } from './lifecycle.js';

describe('startOrClose', () => {
  it('returns the started resource and leaves it open', async () => {
    const resource = { closed: false, close: async () => void (resource.closed = true) };
    await expect(startOrClose(resource, async () => {})).resolves.toBe(resource);
    expect(resource.closed).toBe(false);
  });

  it('closes the resource and rethrows when starting fails', async () => {
    const resource = { closed: false, close: async () => void (resource.closed = true) };
    const failure = new Error('no SUBACK');
    await expect(
      startOrClose(resource, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(resource.closed).toBe(true);
  });
});
