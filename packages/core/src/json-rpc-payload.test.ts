import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_JSON_RPC_PAYLOAD_BYTES,
  decodeJsonRpcPayload,
  unclassifiableJsonRpc,
} from './json-rpc-payload.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const call = (name: string, id: unknown = 1) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name } });

/** The tool names `tools/call` items of a payload name, in order (what a policy and a host both see). */
function toolsCalled(payload: Uint8Array | string): unknown[] {
  const decoded = decodeJsonRpcPayload(payload);
  if (!decoded.ok) return [];
  return decoded.items.flatMap((item) =>
    (item.kind === 'request' || item.kind === 'notification') && item.message.method === 'tools/call'
      ? [(item.message.params as { name?: unknown } | undefined)?.name]
      : [],
  );
}

describe('decodeJsonRpcPayload', () => {
  it('reads a single message as one item and a batch as its items, in order', () => {
    expect(decodeJsonRpcPayload(bytes(call('echo')))).toMatchObject({
      ok: true,
      batch: false,
      items: [{ kind: 'request', message: { id: 1, method: 'tools/call' } }],
    });
    const batch = decodeJsonRpcPayload(bytes(`[${call('echo', 1)},${call('secret', 2)}]`));
    expect(batch).toMatchObject({ ok: true, batch: true });
    expect(toolsCalled(bytes(`[${call('echo', 1)},${call('secret', 2)}]`))).toEqual(['echo', 'secret']);
  });

  it('reads the same message through a BOM, padding, escapes and duplicate keys as the receiver does', () => {
    expect(toolsCalled(bytes(`\uFEFF${call('secret')}`))).toEqual(['secret']);
    expect(toolsCalled(bytes(` \n\t${call('secret')}\r\n `))).toEqual(['secret']);
    expect(
      toolsCalled(bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"secr\\u0065t"}}')),
    ).toEqual(['secret']);
    expect(
      toolsCalled(
        bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"secret"}}'),
      ),
    ).toEqual(['secret']); // JSON.parse keeps the last duplicate, everywhere
    expect(
      toolsCalled(bytes('{"jsonrpc":"2.0","id":1,"method":"tools/ca\\u006cl","params":{"name":"secret"}}')),
    ).toEqual(['secret']);
    // A surrogate pair escaped in JSON is the same string as the raw UTF-8 character.
    expect(toolsCalled(bytes(call('\u{1F600}')))).toEqual(
      toolsCalled(bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\\ud83d\\ude00"}}')),
    );
    // A string id that looks like a number stays a string.
    const stringId = decodeJsonRpcPayload(bytes(call('secret', '1')));
    expect(stringId.ok && stringId.items[0]?.kind === 'request' && stringId.items[0].message.id).toBe('1');
  });

  it('refuses what is not JSON, and says what', () => {
    const cases: Array<[Uint8Array | string, string]> = [
      [new Uint8Array(), 'EMPTY'],
      [bytes('{"jsonrpc":'), 'INVALID_JSON'],
      [Uint8Array.from([0x7b, 0xff, 0x7d]), 'INVALID_UTF8'],
      [bytes('\uFEFF\uFEFF{}'), 'INVALID_JSON'], // one BOM is tolerated, not two
      [bytes(`{"jsonrpc":"2.0","id":1,"method":"m","params":{"__proto__":{"admin":true}}}`), 'FORBIDDEN_KEY'],
      [bytes(`{"jsonrpc":"2.0","id":1,"method":"m","params":{"\\u005f_proto__":{}}}`), 'FORBIDDEN_KEY'],
      [bytes(`${'['.repeat(200)}${']'.repeat(200)}`), 'TOO_DEEP'],
    ];
    for (const [payload, code] of cases) {
      const decoded = decodeJsonRpcPayload(payload);
      expect(decoded.ok ? 'ok' : decoded.error.code, String(payload)).toBe(code);
      expect(unclassifiableJsonRpc(decoded)).toBeTypeOf('string');
    }
    const tooLarge = decodeJsonRpcPayload(bytes(call('x'.repeat(100))), { maxBytes: 64 });
    expect(tooLarge.ok ? 'ok' : tooLarge.error.code).toBe('TOO_LARGE');
  });

  it('classifies empty batches, nested arrays and invalid items as invalid, which a policy cannot judge', () => {
    expect(unclassifiableJsonRpc(decodeJsonRpcPayload(bytes('[]')))).toBe('empty batch');
    expect(decodeJsonRpcPayload(bytes('[]'))).toMatchObject({ ok: true, batch: false });
    expect(unclassifiableJsonRpc(decodeJsonRpcPayload(bytes(`[[${call('secret')}]]`)))).toBe(
      'batch item 0: batch item is an array',
    );
    expect(unclassifiableJsonRpc(decodeJsonRpcPayload(bytes(`[${call('echo')},"x"]`)))).toBe(
      'batch item 1: message is not an object',
    );
    expect(unclassifiableJsonRpc(decodeJsonRpcPayload(bytes('{"id":1,"method":"tools/call"}')))).toBe(
      "jsonrpc must be '2.0'",
    );
    expect(unclassifiableJsonRpc(decodeJsonRpcPayload(bytes(call('echo'))))).toBeUndefined();
    expect(
      unclassifiableJsonRpc(
        decodeJsonRpcPayload(bytes('{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"m"}}')),
      ),
    ).toBeUndefined();
  });

  it('defaults to the MCP hosts limit of 16 MiB', () => {
    expect(DEFAULT_MAX_JSON_RPC_PAYLOAD_BYTES).toBe(16 * 1024 * 1024);
    const big = call('x'.repeat(2 * 1024 * 1024)); // above decodeJson's own 1 MiB default
    expect(decodeJsonRpcPayload(bytes(big)).ok).toBe(true);
  });

  it('gives a BOM-prefixed payload exactly the reading of the plain one (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(decodeJsonRpcPayload(bytes(`\uFEFF${text}`))).toEqual(decodeJsonRpcPayload(bytes(text)));
        expect(decodeJsonRpcPayload(text)).toEqual(decodeJsonRpcPayload(bytes(text)));
      }),
      { numRuns: 300 },
    );
  });
});
