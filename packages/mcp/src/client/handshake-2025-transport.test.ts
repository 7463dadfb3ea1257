import { expect, it } from 'vitest';
import type { JSONRPCMessage, Transport } from '../json-rpc-types.js';
import { Handshake2025Transport } from './handshake-2025-transport.js';

/** A stand-in for the session transport: records what reaches it. */
function recordingTransport(): Transport & { sent: JSONRPCMessage[]; versions: string[] } {
  const sent: JSONRPCMessage[] = [];
  const versions: string[] = [];
  return {
    sent,
    versions,
    start: async () => {},
    send: async (message) => void sent.push(message),
    close: async () => {},
    setProtocolVersion: (version) => void versions.push(version),
  };
}

const discover = { jsonrpc: '2.0', id: 'probe-1', method: 'server/discover', params: {} } as const;

it('answers server/discover before initialize locally with method not found, asynchronously', async () => {
  const inner = recordingTransport();
  const wrapper = new Handshake2025Transport(inner);
  const received: JSONRPCMessage[] = [];
  wrapper.onmessage = (message) => void received.push(message);
  const sending = wrapper.send(discover);
  // Not from inside send(): the SDK registers its response handler around the call.
  expect(received).toEqual([]);
  await sending;
  await Promise.resolve();
  expect(inner.sent).toEqual([]);
  expect(received).toEqual([
    {
      jsonrpc: '2.0',
      id: 'probe-1',
      error: { code: -32601, message: expect.stringMatching(/server\/discover/) },
    },
  ]);
});

it('passes everything else on, and server/discover too once the session is established', async () => {
  const inner = recordingTransport();
  const wrapper = new Handshake2025Transport(inner);
  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} } as const;
  await wrapper.send(initialize);
  inner.sessionId = 'planner-1';
  await wrapper.send(discover);
  expect(inner.sent).toEqual([initialize, discover]);
  expect(wrapper.sessionId).toBe('planner-1');
});

it('is the wrapped transport for the SDK: callbacks, protocol version', () => {
  const inner = recordingTransport();
  const wrapper = new Handshake2025Transport(inner);
  const onclose = (): void => {};
  const onerror = (): void => {};
  wrapper.onclose = onclose;
  wrapper.onerror = onerror;
  expect(inner.onclose).toBe(onclose);
  expect(inner.onerror).toBe(onerror);
  wrapper.setProtocolVersion('2025-06-18');
  expect(inner.versions).toEqual(['2025-06-18']);
});
