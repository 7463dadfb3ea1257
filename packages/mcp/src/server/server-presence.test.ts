import { expect, it } from 'vitest';
import { readServerPresence, serverOnlineNotification } from './server-presence.js';

const address = { serverId: 'press-a', serverName: 'factory/press' };
const bytes = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

it('round-trips the online notification, taking id and name from the topic', () => {
  const notification = serverOnlineNotification({
    serverName: 'something/else',
    description: 'Press',
    meta: { site: 1 },
    rbac: { roles: [{ name: 'admin' }] },
  });
  expect(notification.params).toEqual({
    server_name: 'something/else',
    description: 'Press',
    meta: { site: 1, rbac: { roles: [{ name: 'admin' }] } },
  });
  expect(readServerPresence(address, bytes(notification))).toEqual({
    kind: 'online',
    instance: {
      ...address,
      description: 'Press',
      meta: { site: 1, rbac: { roles: [{ name: 'admin' }] } },
      rbac: { roles: [{ name: 'admin' }] },
      draining: false,
    },
  });
});

it('reads meta.draining: only the boolean true means draining', () => {
  const read = (meta: Record<string, unknown>) => {
    const reading = readServerPresence(
      address,
      bytes(serverOnlineNotification({ serverName: 'x', description: 'Press', meta })),
    );
    return reading.kind === 'online' ? reading.instance.draining : undefined;
  };
  expect(read({ draining: true, site: 1 })).toBe(true);
  expect(read({ draining: 'true' })).toBe(false);
  expect(read({ draining: false })).toBe(false);
  expect(read({})).toBe(false);
});

it('accepts missing fields and reads empty payloads as offline', () => {
  expect(
    readServerPresence(address, bytes({ jsonrpc: '2.0', method: 'notifications/server/online' })),
  ).toEqual({
    kind: 'online',
    instance: { ...address, description: '', meta: {}, rbac: undefined, draining: false },
  });
  expect(readServerPresence(address, new Uint8Array())).toEqual({ kind: 'offline' });
});

it('reports garbage', () => {
  expect(readServerPresence(address, bytes('{nope')).kind).toBe('invalid');
  expect(readServerPresence(address, bytes([1])).kind).toBe('invalid');
  expect(readServerPresence(address, bytes({ method: 'x' }))).toEqual({
    kind: 'invalid',
    reason: 'unexpected presence method "x"',
  });
});
