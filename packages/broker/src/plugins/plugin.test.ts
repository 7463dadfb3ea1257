import { describe, expect, it } from 'vitest';
import type { ClientInfo, PublishedMessage, SubscriptionRequest } from '../types.js';
import { composePlugins } from './plugin.js';

const client = { id: 'c', userProperties: {} } as unknown as ClientInfo;
const message = { topic: 't' } as unknown as PublishedMessage;
const subscription = { filter: 't' } as unknown as SubscriptionRequest;

describe('composePlugins', () => {
  it('lets the first refusal win, in order, sync and async alike', async () => {
    const calls: string[] = [];
    const plugin = composePlugins(
      { name: 'a', hooks: { authorizePublish: () => (calls.push('a'), true) } },
      { name: 'b', hooks: { authorizePublish: async () => (calls.push('b'), 0x87) } },
      { name: 'c', hooks: { authorizePublish: () => (calls.push('c'), 0x99) } },
    );
    expect(plugin.name).toBe('a+b+c');
    expect(await plugin.hooks.authorizePublish?.(client, message)).toBe(0x87);
    expect(calls).toEqual(['a', 'b']);
  });

  it('caps a subscription at the lowest granted QoS unless someone refuses', async () => {
    const capped = composePlugins(
      { name: 'a', hooks: { authorizeSubscribe: () => 1 } },
      { name: 'b', hooks: { authorizeSubscribe: () => 0 } },
      { name: 'c', hooks: { authorizeSubscribe: () => true } },
    );
    expect(await capped.hooks.authorizeSubscribe?.(client, subscription)).toBe(0);
    const refused = composePlugins(
      { name: 'a', hooks: { authorizeSubscribe: () => 1 } },
      { name: 'b', hooks: { authorizeSubscribe: () => 0x87 } },
    );
    expect(await refused.hooks.authorizeSubscribe?.(client, subscription)).toBe(0x87);
  });

  it('shows later authenticate hooks the principal an earlier one returned', async () => {
    const principal = { name: 'ops', method: 'test', roles: ['operator'] };
    const seen: unknown[] = [];
    const plugin = composePlugins(
      { name: 'a', hooks: { authenticate: (context) => (seen.push(context.principal), true) } },
      { name: 'auth', hooks: { authenticate: async () => ({ principal }) } },
      { name: 'policy', hooks: { authenticate: (context) => (seen.push(context.principal), true) } },
    );
    const context = { id: 'c', principal: undefined } as unknown as Parameters<
      NonNullable<typeof plugin.hooks.authenticate>
    >[0];
    expect(await plugin.hooks.authenticate?.(context)).toEqual({ principal });
    expect(seen).toEqual([undefined, principal]);
  });

  it('merges CONNACK user properties and attaches every plugin', () => {
    const attached: string[] = [];
    const plugin = composePlugins(
      { name: 'a', hooks: { connackUserProperties: () => ({ one: '1' }) } },
      {
        name: 'b',
        hooks: { connackUserProperties: () => ({ two: '2' }) },
        attach: () => (attached.push('b'), () => attached.push('-b')),
      },
    );
    expect(plugin.hooks.connackUserProperties?.(client)).toEqual({ one: '1', two: '2' });
    const detach = plugin.attach?.({} as never);
    detach?.();
    expect(attached).toEqual(['b', '-b']);
  });
});
