// A namespace import, not `import { z } from 'zod'`: bundlers shake `z.union` and friends off a namespace
// import member by member, but keep all of `z` (with its 250 KiB of `zod/v4/locales`) when `z` is one value.
// The MCP and A2A SDKs import the same `zod/v4` modules, so a browser bundle shares them with the SDK.
import * as z from 'zod/v4';

/**
 * JSON-RPC 2.0 messages as they travel on MCP and A2A topics: types, zod schemas, a classifier for decoded
 * payloads, and builders for error objects. These are wire data, never thrown: local failures are
 * `MqttAgentsError`s.
 *
 * Rules the classifier and the schemas share:
 * - An id is a string or a finite number, kept exactly as received (never rewritten, `0` is a real id).
 * - `null` is an id only on an error response (the peer could not read the request's id).
 * - `params`, when present, is an object or an array.
 * - A message has either `method` (request or notification) or exactly one of `result` / `error`.
 * - Extra members are kept, not stripped, so nothing a peer sends is lost on the way through.
 * - A member whose value is `undefined` counts as absent (only possible for in-process values).
 */

/** The `jsonrpc` member every JSON-RPC 2.0 message carries. */
export const JSONRPC_VERSION = '2.0';

/** The error codes JSON-RPC 2.0 reserves. */
export const JsonRpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;
export type JsonRpcErrorCode = (typeof JsonRpcErrorCode)[keyof typeof JsonRpcErrorCode];

const STANDARD_MESSAGES: Record<number, string> = {
  [JsonRpcErrorCode.ParseError]: 'Parse error',
  [JsonRpcErrorCode.InvalidRequest]: 'Invalid Request',
  [JsonRpcErrorCode.MethodNotFound]: 'Method not found',
  [JsonRpcErrorCode.InvalidParams]: 'Invalid params',
  [JsonRpcErrorCode.InternalError]: 'Internal error',
};

/** A request id: a string or a finite number, kept exactly as received. */
export type JsonRpcId = string | number;
/** The `params` of a request or notification: by name (an object) or by position (an array). */
export type JsonRpcParams = Record<string, unknown> | unknown[];

/** A call that expects a response with the same `id`. Extra members are kept. */
export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: JsonRpcParams;
  [member: string]: unknown;
}

/** A call without `id`: nothing answers it. Extra members are kept. */
export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: JsonRpcParams;
  [member: string]: unknown;
}

/** No index signature, so error objects typed elsewhere (`{ code; message; data? }`) fit without a cast. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** The answer to a request that succeeded: its `id` and a `result`. Extra members are kept. */
export interface JsonRpcSuccessResponse {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: unknown;
  [member: string]: unknown;
}

/**
 * The answer to a request that failed: its `id` (`null` when the request's id could not be read) and an
 * `error` object. Extra members are kept.
 */
export interface JsonRpcErrorResponse {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: JsonRpcErrorObject;
  [member: string]: unknown;
}

/** The answer to a request: a success or an error response. */
export type JsonRpcResponse = JsonRpcSuccessResponse | JsonRpcErrorResponse;
/** Any single JSON-RPC 2.0 message (not a batch). */
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/**
 * What `classifyJsonRpc` found in one message: its kind and the message itself, typed, or `invalid` with
 * the reason.
 */
export type JsonRpcSingleClassification =
  | { kind: 'request'; message: JsonRpcRequest }
  | { kind: 'notification'; message: JsonRpcNotification }
  | { kind: 'response'; message: JsonRpcSuccessResponse }
  | { kind: 'error'; message: JsonRpcErrorResponse }
  /** `id` is the message's id when it could be read, so an Invalid Request reply can carry it. */
  | { kind: 'invalid'; reason: string; id: JsonRpcId | null };

/** What `classifyJsonRpc` returns: one classified message, or a batch of them in payload order. */
export type JsonRpcClassification =
  JsonRpcSingleClassification | { kind: 'batch'; items: JsonRpcSingleClassification[] };

// --- predicates shared by the classifier and the schemas ---

/** True for a string or a finite number: the ids a request or response may carry. */
export function isJsonRpcId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function present(value: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(value, key) && value[key] !== undefined;
}

function isParams(value: unknown): value is JsonRpcParams {
  return typeof value === 'object' && value !== null;
}

function errorObjectProblem(error: unknown): string | undefined {
  if (!isObject(error)) return 'error must be an object';
  if (typeof error.code !== 'number' || !Number.isSafeInteger(error.code)) {
    return 'error.code must be an integer';
  }
  if (typeof error.message !== 'string') return 'error.message must be a string';
  return undefined;
}

// --- zod schemas (they accept exactly what `classifyJsonRpc` accepts as a single message) ---
// Each is built in a pure-marked closure, so a bundle that never uses it drops it with the zod code it needs
// (our hosts classify with `classifyJsonRpc`; a pure mark on the zod calls alone would not do, their
// arguments are calls too).

/** Zod schema of {@link JsonRpcId}: a string or a finite number. */
export const jsonRpcIdSchema = /* @__PURE__ */ (() =>
  z.union([z.string(), z.number()]).refine(isJsonRpcId, 'id must be finite'))();

/** Zod schema of {@link JsonRpcParams}: an object or an array. */
export const jsonRpcParamsSchema = /* @__PURE__ */ (() =>
  z.custom<JsonRpcParams>(isParams, 'params must be an object or an array'))();

/** Zod schema of {@link JsonRpcErrorObject}: an integer `code`, a `message`, optional `data`. */
export const jsonRpcErrorObjectSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    code: z.number().int(),
    message: z.string(),
    data: z.unknown().optional(),
  }))();

const noneOf =
  (...keys: string[]) =>
  (value: Record<string, unknown>): boolean =>
    keys.every((key) => !present(value, key));

/** Zod schema of {@link JsonRpcRequest}; refuses a message that also has `result` or `error`. */
export const jsonRpcRequestSchema = /* @__PURE__ */ (() =>
  z
    .looseObject({
      jsonrpc: z.literal(JSONRPC_VERSION),
      id: jsonRpcIdSchema,
      method: z.string(),
      params: jsonRpcParamsSchema.optional(),
    })
    .refine(noneOf('result', 'error'), 'a request has no result or error'))();

/** Zod schema of {@link JsonRpcNotification}; refuses a message that also has `id`, `result` or `error`. */
export const jsonRpcNotificationSchema = /* @__PURE__ */ (() =>
  z
    .looseObject({
      jsonrpc: z.literal(JSONRPC_VERSION),
      method: z.string(),
      params: jsonRpcParamsSchema.optional(),
    })
    .refine(noneOf('id', 'result', 'error'), 'a notification has no id, result or error'))();

/** Zod schema of {@link JsonRpcSuccessResponse}; refuses a message that also has `method` or `error`. */
export const jsonRpcSuccessResponseSchema = /* @__PURE__ */ (() =>
  z
    .looseObject({
      jsonrpc: z.literal(JSONRPC_VERSION),
      id: jsonRpcIdSchema,
      result: z.unknown(),
    })
    .refine((value) => present(value, 'result'), 'a success response has a result')
    .refine(noneOf('method', 'error'), 'a success response has no method or error'))();

/** Zod schema of {@link JsonRpcErrorResponse} (`id` may be null); refuses one with `method` or `result`. */
export const jsonRpcErrorResponseSchema = /* @__PURE__ */ (() =>
  z
    .looseObject({
      jsonrpc: z.literal(JSONRPC_VERSION),
      id: z.union([jsonRpcIdSchema, z.null()]),
      error: jsonRpcErrorObjectSchema,
    })
    .refine(noneOf('method', 'result'), 'an error response has no method or result'))();

/** Zod schema of {@link JsonRpcMessage}: any single message, as `classifyJsonRpc` accepts it (no batches). */
export const jsonRpcMessageSchema = /* @__PURE__ */ (() =>
  z.union([
    jsonRpcRequestSchema,
    jsonRpcNotificationSchema,
    jsonRpcSuccessResponseSchema,
    jsonRpcErrorResponseSchema,
  ]))();

// --- classifier ---

/**
 * Sort a decoded payload into the kind of JSON-RPC message it is, without copying it: `message` is the
 * input object itself, typed. Arrays are batches whose items are classified one by one (an empty array and
 * nested arrays are invalid). Never throws.
 */
export function classifyJsonRpc(value: unknown): JsonRpcClassification {
  if (Array.isArray(value)) {
    if (value.length === 0) return invalid('empty batch', null);
    return {
      kind: 'batch',
      items: value.map((item: unknown) =>
        Array.isArray(item) ? invalid('batch item is an array', null) : classifySingle(item),
      ),
    };
  }
  return classifySingle(value);
}

function invalid(reason: string, id: JsonRpcId | null): JsonRpcSingleClassification {
  return { kind: 'invalid', reason, id };
}

function classifySingle(value: unknown): JsonRpcSingleClassification {
  if (!isObject(value)) return invalid('message is not an object', null);
  const hasId = present(value, 'id');
  const id = hasId && isJsonRpcId(value.id) ? value.id : null;
  if (value.jsonrpc !== JSONRPC_VERSION) return invalid("jsonrpc must be '2.0'", id);

  if (present(value, 'method')) {
    if (typeof value.method !== 'string') return invalid('method must be a string', id);
    if (present(value, 'result') || present(value, 'error')) {
      return invalid('a message with a method has no result or error', id);
    }
    if (present(value, 'params') && !isParams(value.params)) {
      return invalid('params must be an object or an array', id);
    }
    if (!hasId) return { kind: 'notification', message: value as JsonRpcNotification };
    if (!isJsonRpcId(value.id)) return invalid('request id must be a string or a finite number', null);
    return { kind: 'request', message: value as JsonRpcRequest };
  }

  const hasResult = present(value, 'result');
  const hasError = present(value, 'error');
  if (hasResult && hasError) return invalid('a response has result or error, not both', id);
  if (hasResult) {
    if (!isJsonRpcId(value.id)) return invalid('response id must be a string or a finite number', null);
    return { kind: 'response', message: value as JsonRpcSuccessResponse };
  }
  if (hasError) {
    if (!Object.hasOwn(value, 'id') || (value.id !== null && !isJsonRpcId(value.id))) {
      return invalid('error response id must be a string, a finite number or null', null);
    }
    const problem = errorObjectProblem(value.error);
    if (problem) return invalid(problem, id);
    return { kind: 'error', message: value as JsonRpcErrorResponse };
  }
  return invalid('message has no method, result or error', id);
}

// --- builders ---

/**
 * A JSON-RPC error object. `message` defaults to the standard text of a reserved code (`Server error` in
 * -32099..-32000, `Error` elsewhere); `data` is omitted when undefined.
 */
export function jsonRpcError(code: number, message?: string, data?: unknown): JsonRpcErrorObject {
  const fallback = code >= -32099 && code <= -32000 ? 'Server error' : 'Error';
  const error: JsonRpcErrorObject = { code, message: message ?? STANDARD_MESSAGES[code] ?? fallback };
  if (data !== undefined) error.data = data;
  return error;
}

/** An error response. Use `null` as the id only when the request's id could not be read. */
export function jsonRpcErrorResponse(id: JsonRpcId | null, error: JsonRpcErrorObject): JsonRpcErrorResponse {
  return { jsonrpc: JSONRPC_VERSION, id, error };
}

/** A success response carrying `result` for the request with this id. */
export function jsonRpcSuccessResponse(id: JsonRpcId, result: unknown): JsonRpcSuccessResponse {
  return { jsonrpc: JSONRPC_VERSION, id, result };
}
