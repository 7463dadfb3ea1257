// Stage: decode. A request's payload read with core's canonical JSON-RPC decoder (`decodeJsonRpcPayload`,
// the one the broker policy and the MCP hosts use), so that what a policy judged is what the agent runs.
import {
  JsonRpcErrorCode,
  decodeJsonRpcPayload,
  jsonRpcError,
  jsonRpcErrorResponse,
} from '@mqtt-agents/core';
import type { JsonRpcPayload, JsonRpcRequest } from '@mqtt-agents/core';

/** Decode a (plaintext) request payload, at most `maxBytes` long. Never throws. */
export function decodeRequest(payload: Uint8Array, maxBytes: number): JsonRpcPayload {
  return decodeJsonRpcPayload(payload, { maxBytes });
}

/** The one JSON-RPC request a payload must hold, or the error response that answers it. */
export function readRequest(
  decoded: JsonRpcPayload,
): { ok: true; request: JsonRpcRequest } | { ok: false; response: unknown } {
  if (!decoded.ok) {
    const code =
      decoded.error.code === 'TOO_LARGE' ? JsonRpcErrorCode.InvalidRequest : JsonRpcErrorCode.ParseError;
    return { ok: false, response: jsonRpcErrorResponse(null, jsonRpcError(code, decoded.error.message)) };
  }
  const classified = decoded.items[0];
  if (!decoded.batch && classified?.kind === 'request') return { ok: true, request: classified.message };
  const reason = decoded.batch
    ? 'batches are not supported'
    : classified?.kind === 'invalid'
      ? classified.reason
      : classified?.kind === 'notification'
        ? 'a2a requests need an id'
        : 'expected a request';
  const id = !decoded.batch && classified?.kind === 'invalid' ? classified.id : null;
  return {
    ok: false,
    response: jsonRpcErrorResponse(id, jsonRpcError(JsonRpcErrorCode.InvalidRequest, reason)),
  };
}
