import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  JsonRpcErrorCode,
  classifyJsonRpc,
  isJsonRpcId,
  jsonRpcError,
  jsonRpcErrorResponse,
  jsonRpcErrorResponseSchema,
  jsonRpcMessageSchema,
  jsonRpcNotificationSchema,
  jsonRpcRequestSchema,
  jsonRpcSuccessResponse,
  jsonRpcSuccessResponseSchema,
  type JsonRpcClassification,
} from './json-rpc.js';

function kindOf(value: unknown): JsonRpcClassification['kind'] {
  return classifyJsonRpc(value).kind;
}

describe('classifyJsonRpc', () => {
  it('classifies a request and returns the very object it was given', () => {
    const message = { jsonrpc: '2.0', id: 'a-1', method: 'tools/list', params: {} };
    const result = classifyJsonRpc(message);
    expect(result).toEqual({ kind: 'request', message });
    expect(result.kind === 'request' && result.message).toBe(message);
  });

  it('treats 0 as a real id, never as missing', () => {
    expect(classifyJsonRpc({ jsonrpc: '2.0', id: 0, method: 'ping' })).toMatchObject({
      kind: 'request',
      message: { id: 0 },
    });
    expect(classifyJsonRpc({ jsonrpc: '2.0', id: 0, result: {} })).toMatchObject({
      kind: 'response',
      message: { id: 0 },
    });
    expect(classifyJsonRpc({ jsonrpc: '2.0', id: '', method: 'ping' }).kind).toBe('request');
  });

  it('keeps ids exactly as received: strings stay strings, numbers stay numbers', () => {
    const stringId = classifyJsonRpc({ jsonrpc: '2.0', id: '7', result: null });
    const numberId = classifyJsonRpc({ jsonrpc: '2.0', id: 7, result: null });
    expect(stringId.kind === 'response' && stringId.message.id).toBe('7');
    expect(numberId.kind === 'response' && numberId.message.id).toBe(7);
    expect(classifyJsonRpc({ jsonrpc: '2.0', id: -1.5, method: 'x' }).kind).toBe('request');
  });

  it('classifies notifications (no id) with and without params', () => {
    expect(kindOf({ jsonrpc: '2.0', method: 'notifications/initialized' })).toBe('notification');
    expect(kindOf({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } })).toBe(
      'notification',
    );
    expect(kindOf({ jsonrpc: '2.0', method: 'positional', params: [1, 2] })).toBe('notification');
  });

  it('classifies success responses, including a null result', () => {
    expect(kindOf({ jsonrpc: '2.0', id: 1, result: { tools: [] } })).toBe('response');
    expect(kindOf({ jsonrpc: '2.0', id: 1, result: null })).toBe('response');
  });

  it('classifies error responses, and accepts a null id only there', () => {
    const error = { code: -32601, message: 'Method not found' };
    expect(kindOf({ jsonrpc: '2.0', id: 3, error })).toBe('error');
    expect(kindOf({ jsonrpc: '2.0', id: null, error })).toBe('error');
    expect(classifyJsonRpc({ jsonrpc: '2.0', id: null, method: 'x' })).toEqual({
      kind: 'invalid',
      reason: 'request id must be a string or a finite number',
      id: null,
    });
    expect(kindOf({ jsonrpc: '2.0', id: null, result: 1 })).toBe('invalid');
  });

  it('keeps extra members instead of stripping them', () => {
    const message = { jsonrpc: '2.0', id: 1, method: 'x', _meta: { trace: 't' } };
    const result = classifyJsonRpc(message);
    expect(result.kind === 'request' && result.message._meta).toEqual({ trace: 't' });
  });

  it.each([
    ['a string', 'hello', 'message is not an object'],
    ['null', null, 'message is not an object'],
    ['a number', 0, 'message is not an object'],
    ['a missing version', { id: 1, method: 'x' }, "jsonrpc must be '2.0'"],
    ['version 1.0', { jsonrpc: '1.0', id: 1, method: 'x' }, "jsonrpc must be '2.0'"],
    ['a numeric method', { jsonrpc: '2.0', id: 1, method: 5 }, 'method must be a string'],
    [
      'null params',
      { jsonrpc: '2.0', id: 1, method: 'x', params: null },
      'params must be an object or an array',
    ],
    ['string params', { jsonrpc: '2.0', method: 'x', params: 'a' }, 'params must be an object or an array'],
    [
      'a boolean id',
      { jsonrpc: '2.0', id: true, method: 'x' },
      'request id must be a string or a finite number',
    ],
    [
      'an object id',
      { jsonrpc: '2.0', id: {}, result: 1 },
      'response id must be a string or a finite number',
    ],
    [
      'an infinite id',
      { jsonrpc: '2.0', id: Infinity, method: 'x' },
      'request id must be a string or a finite number',
    ],
    [
      'a NaN id',
      { jsonrpc: '2.0', id: Number.NaN, result: 1 },
      'response id must be a string or a finite number',
    ],
    [
      'result and error',
      { jsonrpc: '2.0', id: 1, result: 1, error: { code: 1, message: 'm' } },
      'a response has result or error, not both',
    ],
    [
      'method and result',
      { jsonrpc: '2.0', id: 1, method: 'x', result: 1 },
      'a message with a method has no result or error',
    ],
    ['no method, result or error', { jsonrpc: '2.0', id: 1 }, 'message has no method, result or error'],
    [
      'an error without id',
      { jsonrpc: '2.0', error: { code: 1, message: 'm' } },
      'error response id must be a string, a finite number or null',
    ],
    ['a string error', { jsonrpc: '2.0', id: 1, error: 'boom' }, 'error must be an object'],
    [
      'a fractional error code',
      { jsonrpc: '2.0', id: 1, error: { code: 1.5, message: 'm' } },
      'error.code must be an integer',
    ],
    [
      'an error without message',
      { jsonrpc: '2.0', id: 1, error: { code: 1 } },
      'error.message must be a string',
    ],
  ])('rejects %s', (_name, value, reason) => {
    const result = classifyJsonRpc(value);
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.reason).toBe(reason);
  });

  it('carries the id of an invalid message when it can be read, for the Invalid Request reply', () => {
    expect(classifyJsonRpc({ jsonrpc: '1.0', id: 0, method: 'x' })).toMatchObject({ kind: 'invalid', id: 0 });
    expect(classifyJsonRpc({ jsonrpc: '2.0', id: 'r', method: 1 })).toMatchObject({
      kind: 'invalid',
      id: 'r',
    });
    expect(classifyJsonRpc({ jsonrpc: '2.0', id: true, method: 'x' })).toMatchObject({
      kind: 'invalid',
      id: null,
    });
  });

  it('treats undefined members as absent (in-process values)', () => {
    expect(kindOf({ jsonrpc: '2.0', id: undefined, method: 'x' })).toBe('notification');
    expect(kindOf({ jsonrpc: '2.0', id: 1, method: 'x', params: undefined, result: undefined })).toBe(
      'request',
    );
  });

  it('splits a batch and classifies each item', () => {
    const result = classifyJsonRpc([
      { jsonrpc: '2.0', id: 1, method: 'a' },
      { jsonrpc: '2.0', method: 'b' },
      { jsonrpc: '2.0', id: 2, result: 'ok' },
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } },
      1,
      [{ jsonrpc: '2.0', id: 3, method: 'nested' }],
    ]);
    expect(result.kind).toBe('batch');
    expect(result.kind === 'batch' && result.items.map((item) => item.kind)).toEqual([
      'request',
      'notification',
      'response',
      'error',
      'invalid',
      'invalid',
    ]);
  });

  it('rejects an empty batch', () => {
    expect(classifyJsonRpc([])).toEqual({ kind: 'invalid', reason: 'empty batch', id: null });
  });
});

describe('schemas', () => {
  it('parse each kind and keep extra members', () => {
    expect(jsonRpcRequestSchema.parse({ jsonrpc: '2.0', id: 0, method: 'm', extra: 1 })).toEqual({
      jsonrpc: '2.0',
      id: 0,
      method: 'm',
      extra: 1,
    });
    expect(jsonRpcNotificationSchema.safeParse({ jsonrpc: '2.0', method: 'm' }).success).toBe(true);
    expect(jsonRpcNotificationSchema.safeParse({ jsonrpc: '2.0', id: 1, method: 'm' }).success).toBe(false);
    expect(jsonRpcSuccessResponseSchema.safeParse({ jsonrpc: '2.0', id: 1 }).success).toBe(false);
    expect(
      jsonRpcErrorResponseSchema.safeParse({ jsonrpc: '2.0', id: null, error: jsonRpcError(-1) }).success,
    ).toBe(true);
  });

  /** JSON values that look like JSON-RPC messages often enough to exercise every branch. */
  const member = <T>(arbitrary: fc.Arbitrary<T>, freq = 2) => fc.option(arbitrary, { nil: undefined, freq });
  const mostly = <T>(likely: fc.Arbitrary<T>, unlikely: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: likely, weight: 4 }, { arbitrary: unlikely, weight: 1 });
  const idLike = fc.oneof(
    fc.string({ maxLength: 3 }),
    fc.integer(),
    fc.double(),
    fc.constant(null),
    fc.boolean(),
  );
  const errorLike = mostly(
    fc.record({
      code: fc.integer(),
      message: fc.string({ maxLength: 3 }),
      data: member(fc.jsonValue({ maxDepth: 1 })),
    }),
    fc.oneof(
      fc.record({ code: fc.double(), message: fc.string({ maxLength: 3 }) }),
      fc.record({ code: fc.integer() }),
      fc.jsonValue({ maxDepth: 1 }),
    ),
  );
  const messageLike = fc
    .record(
      {
        jsonrpc: member(mostly(fc.constant('2.0'), fc.constantFrom('1.0', 2)), 10),
        id: member(mostly(fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), idLike)),
        method: member(fc.oneof(fc.string({ maxLength: 5 }), fc.integer())),
        params: member(
          fc.oneof(
            fc.dictionary(fc.string({ maxLength: 2 }), fc.integer()),
            fc.array(fc.integer()),
            fc.constant(null),
            fc.string(),
          ),
        ),
        result: member(fc.jsonValue({ maxDepth: 1 })),
        error: member(errorLike),
      },
      { requiredKeys: [] },
    )
    .map((record) => Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)));

  it('agree with classifyJsonRpc on every single message', () => {
    fc.assert(
      fc.property(fc.oneof(messageLike, fc.jsonValue({ maxDepth: 2 })), (value) => {
        const kind = kindOf(value);
        if (kind === 'batch') return;
        expect(jsonRpcMessageSchema.safeParse(value).success).toBe(kind !== 'invalid');
        expect(jsonRpcRequestSchema.safeParse(value).success).toBe(kind === 'request');
        expect(jsonRpcNotificationSchema.safeParse(value).success).toBe(kind === 'notification');
        expect(jsonRpcSuccessResponseSchema.safeParse(value).success).toBe(kind === 'response');
        expect(jsonRpcErrorResponseSchema.safeParse(value).success).toBe(kind === 'error');
      }),
      { numRuns: 1000 },
    );
  });

  it('find every kind in the generated messages (the agreement test is not vacuous)', () => {
    const kinds = new Set(fc.sample(messageLike, 2000).map(kindOf));
    expect([...kinds].sort()).toEqual(['error', 'invalid', 'notification', 'request', 'response']);
  });
});

describe('ids', () => {
  it('isJsonRpcId accepts strings and finite numbers only', () => {
    expect([0, -1, 1.5, '', 'x'].every(isJsonRpcId)).toBe(true);
    expect([null, undefined, Infinity, Number.NaN, true, {}, []].some(isJsonRpcId)).toBe(false);
  });

  it('survive a request/response round trip unchanged', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
        (id) => {
          const request = classifyJsonRpc(JSON.parse(JSON.stringify({ jsonrpc: '2.0', id, method: 'm' })));
          expect(request.kind).toBe('request');
          const wireId = request.kind === 'request' ? request.message.id : undefined;
          expect(wireId).toBe(JSON.parse(JSON.stringify(id)));
          const response = classifyJsonRpc(jsonRpcSuccessResponse(wireId!, {}));
          expect(response.kind === 'response' && response.message.id).toBe(wireId);
        },
      ),
    );
  });
});

describe('error builders', () => {
  it('expose the reserved codes', () => {
    expect(JsonRpcErrorCode).toEqual({
      ParseError: -32700,
      InvalidRequest: -32600,
      MethodNotFound: -32601,
      InvalidParams: -32602,
      InternalError: -32603,
    });
  });

  it('fill in the standard message and omit undefined data', () => {
    expect(jsonRpcError(JsonRpcErrorCode.ParseError)).toEqual({ code: -32700, message: 'Parse error' });
    expect(Object.keys(jsonRpcError(JsonRpcErrorCode.MethodNotFound))).toEqual(['code', 'message']);
    expect(jsonRpcError(JsonRpcErrorCode.InvalidParams, 'missing name', { field: 'name' })).toEqual({
      code: -32602,
      message: 'missing name',
      data: { field: 'name' },
    });
    expect(jsonRpcError(-32003).message).toBe('Server error');
    expect(jsonRpcError(42).message).toBe('Error');
  });

  it('build responses that classify as what they are', () => {
    const parseFailure = jsonRpcErrorResponse(null, jsonRpcError(JsonRpcErrorCode.ParseError));
    expect(parseFailure).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'Parse error' },
    });
    expect(kindOf(parseFailure)).toBe('error');
    expect(kindOf(jsonRpcErrorResponse(0, jsonRpcError(JsonRpcErrorCode.InternalError)))).toBe('error');
    expect(jsonRpcSuccessResponse(0, null)).toEqual({ jsonrpc: '2.0', id: 0, result: null });
    expect(kindOf(jsonRpcSuccessResponse(0, null))).toBe('response');
  });
});
