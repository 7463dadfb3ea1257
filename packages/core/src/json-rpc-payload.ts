import { decodeJson } from './json-codec.js';
import type { JsonDecodeError } from './json-codec.js';
import { classifyJsonRpc } from './json-rpc.js';
import type { JsonRpcSingleClassification } from './json-rpc.js';

/**
 * The canonical reading of a JSON-RPC payload from the wire: one function that every receiver (the MCP
 * server and client hosts) and every policy (the embedded broker's RBAC) uses, so that what a policy judges
 * is exactly what a receiver acts on. A policy that parsed differently (no BOM stripping, no batch
 * splitting, another size limit) could be shown one message while the receiver runs another.
 *
 * The steps, in order: {@link decodeJson} (size limit before anything else, strict UTF-8, one leading BOM
 * removed, `JSON.parse` (the last of duplicate keys wins), nesting depth, prototype-pollution keys), then
 * {@link classifyJsonRpc} on the value. A JSON array is a batch whose items are classified one by one;
 * an empty array is one invalid item (`empty batch`), and an array inside a batch is an invalid item.
 */

/** Default largest JSON-RPC payload read, in bytes: 16 MiB, the MCP hosts' default inbound limit. */
export const DEFAULT_MAX_JSON_RPC_PAYLOAD_BYTES = 16 * 1024 * 1024;

/** Limits `decodeJsonRpcPayload` enforces on untrusted payloads. */
export interface DecodeJsonRpcPayloadOptions {
  /** Largest payload read, in bytes. Default {@link DEFAULT_MAX_JSON_RPC_PAYLOAD_BYTES}. */
  maxBytes?: number;
  /** Deepest nesting of objects and arrays. Default `DEFAULT_MAX_JSON_DEPTH` (128). */
  maxDepth?: number;
}

/**
 * What one payload holds. `items` are the messages in payload order (exactly one when `batch` is false),
 * each classified; `ok: false` when the payload is not JSON at all (empty, too large, too deep, invalid
 * UTF-8 or JSON, a forbidden key).
 */
export type JsonRpcPayload =
  | { ok: true; batch: boolean; items: readonly JsonRpcSingleClassification[] }
  | { ok: false; error: JsonDecodeError };

/** Decode and classify one MQTT payload. Never throws. */
export function decodeJsonRpcPayload(
  payload: Uint8Array | string,
  options: DecodeJsonRpcPayloadOptions = {},
): JsonRpcPayload {
  const decoded = decodeJson(payload, {
    maxBytes: options.maxBytes ?? DEFAULT_MAX_JSON_RPC_PAYLOAD_BYTES,
    ...(options.maxDepth === undefined ? {} : { maxDepth: options.maxDepth }),
  });
  if (!decoded.ok) return decoded;
  const classified = classifyJsonRpc(decoded.value);
  if (classified.kind === 'batch') return { ok: true, batch: true, items: classified.items };
  return { ok: true, batch: false, items: [classified] };
}

/**
 * Why a policy cannot judge this payload, or undefined when every item is a well-formed request,
 * notification or response. A policy must refuse such a payload rather than let it through: it cannot
 * know what the receiver would make of it.
 */
export function unclassifiableJsonRpc(payload: JsonRpcPayload): string | undefined {
  if (!payload.ok) return payload.error.message;
  for (const [index, item] of payload.items.entries()) {
    if (item.kind === 'invalid') {
      return payload.batch ? `batch item ${index}: ${item.reason}` : item.reason;
    }
  }
  return undefined;
}
