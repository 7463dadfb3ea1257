import { expect, it } from 'vitest';
import { InstanceSelectionState } from './instance-selection.js';
import type { McpServerInstance } from '../server/server-presence.js';

const instance = (serverId: string): McpServerInstance => ({
  serverId,
  serverName: 'p',
  description: '',
  meta: {},
  rbac: undefined,
  draining: false,
});
const three = [instance('c'), instance('a'), instance('b')];

it('round-robin rotates in server-id order, per server name', () => {
  const state = new InstanceSelectionState();
  const picks = Array.from({ length: 4 }, () => state.select('round-robin', three, 'p')?.serverId);
  expect(picks).toEqual(['a', 'b', 'c', 'a']);
  expect(state.select('round-robin', three, 'other')?.serverId).toBe('a');
});

it('a user function may return an instance, an id, or nothing', () => {
  const state = new InstanceSelectionState();
  expect(state.select(() => 'b', three, 'p')?.serverId).toBe('b');
  expect(state.select((list) => list[0], three, 'p')?.serverId).toBe('c');
  expect(state.select(() => undefined, three, 'p')).toBeUndefined();
  expect(state.select(() => 'missing', three, 'p')).toBeUndefined();
});

it('random picks one of the instances', () => {
  const state = new InstanceSelectionState();
  const seen = new Set(Array.from({ length: 60 }, () => state.select('random', three, 'p')?.serverId));
  expect([...seen].sort()).toEqual(['a', 'b', 'c']);
});
