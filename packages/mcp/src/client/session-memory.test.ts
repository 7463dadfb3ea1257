import { describe, expect, it } from 'vitest';
import type { InstanceTransport } from './instance-transport.js';
import { SessionMemory, canonicalJson } from './session-memory.js';

const first = {} as InstanceTransport;
const later = {} as InstanceTransport;

describe('session memory', () => {
  it('remembers initialize, log level, subscriptions and requests in flight until answered', () => {
    const memory = new SessionMemory();
    memory.recordOutbound({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { clientInfo: {} } });
    memory.recordOutbound({ jsonrpc: '2.0', method: 'notifications/initialized' });
    memory.recordOutbound({ jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'debug' } });
    memory.recordOutbound({ jsonrpc: '2.0', id: 3, method: 'resources/subscribe', params: { uri: 'a://1' } });
    memory.recordOutbound({ jsonrpc: '2.0', id: 4, method: 'resources/subscribe', params: { uri: 'a://2' } });
    memory.recordOutbound({
      jsonrpc: '2.0',
      id: 5,
      method: 'resources/unsubscribe',
      params: { uri: 'a://1' },
    });
    expect(memory.initialize?.id).toBe(1);
    expect(memory.initialized).toBe(true);
    expect(memory.logLevel).toEqual({ level: 'debug' });
    expect([...memory.subscriptions]).toEqual(['a://2']);
    expect(memory.pending.size).toBe(5);
    expect(memory.answered({ jsonrpc: '2.0', id: 2, result: {} })?.message.method).toBe('logging/setLevel');
    expect(memory.answered({ jsonrpc: '2.0', id: 2, result: {} })).toBeUndefined();
    expect(memory.pending.size).toBe(4);
  });

  it('learns first pages of lists and tool hints; later pages do not replace them', () => {
    const memory = new SessionMemory();
    const tools = [
      { name: 'stamp', annotations: { idempotentHint: true, destructiveHint: true } },
      { name: 'press', annotations: { readOnlyHint: false } },
      { name: 'plain' },
    ];
    memory.learn({ method: 'tools/list', params: {} }, { tools });
    expect(memory.toolHints.get('stamp')).toEqual({ idempotentHint: true });
    expect(memory.toolHints.get('press')).toEqual({});
    expect(memory.toolHints.has('plain')).toBe(false);
    memory.learn({ method: 'tools/list', params: { cursor: 'next' } }, { tools: [] });
    expect(memory.lists.get('tools/list')?.result).toBe(canonicalJson({ tools }));
    memory.learn({ method: 'resources/read', params: {} }, { contents: [] });
    expect(memory.lists.has('resources/read')).toBe(false);
  });

  it('answers server requests on the instance that asked, with its own id; later instances get ids that cannot clash', () => {
    const memory = new SessionMemory();
    const asked = memory.serverRequest(first, { jsonrpc: '2.0', id: 0, method: 'roots/list' }, false);
    expect(asked.id).toBe(0);
    const rewritten = memory.serverRequest(later, { jsonrpc: '2.0', id: 0, method: 'roots/list' }, true);
    expect(rewritten.id).not.toBe(0);
    expect(memory.serverRequestTarget(rewritten.id)).toEqual({ inner: later, id: 0 });
    expect(memory.serverRequestTarget(0)).toEqual({ inner: first, id: 0 });
    expect(memory.serverRequestTarget(0)).toBeUndefined();
  });

  it('canonical JSON ignores key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 1, e: 2 }], c: 2 } })).toBe(
      canonicalJson({ a: { c: 2, d: [1, { e: 2, f: 1 }] }, b: 1 }),
    );
  });
});
