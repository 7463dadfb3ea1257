import { DEFAULT_MAX_JSON_RPC_PAYLOAD_BYTES, decodeJsonRpcPayload } from '@mqtt-agents/core';
import type { JsonRpcSingleClassification } from '@mqtt-agents/core';
import type { JSONRPCMessage } from '../json-rpc-types.js';

/** Default largest inbound payload a transport decodes, in bytes (16 MiB). */
export const DEFAULT_MAX_INBOUND_BYTES = DEFAULT_MAX_JSON_RPC_PAYLOAD_BYTES;

/** What one MQTT payload held: the JSON-RPC messages to deliver, in order, and what was wrong with the rest. */
export interface DecodedPayload {
  messages: JSONRPCMessage[];
  problems: string[];
  /** True when the payload was a JSON-RPC batch (an array), which this binding never sends. */
  batch: boolean;
}

function accept(item: JsonRpcSingleClassification, into: DecodedPayload): void {
  switch (item.kind) {
    case 'request':
    case 'notification':
    case 'response':
      into.messages.push(item.message as unknown as JSONRPCMessage);
      return;
    case 'error':
      if (item.message.id === null) {
        into.problems.push(`error response without an id: ${item.message.error.message}`);
        return;
      }
      into.messages.push(item.message as unknown as JSONRPCMessage);
      return;
    case 'invalid':
      into.problems.push(`invalid json-rpc message: ${item.reason}`);
      return;
  }
}

/**
 * Decode an inbound payload and split it into single JSON-RPC messages, with core's canonical
 * `decodeJsonRpcPayload`: the very parse the embedded broker's RBAC judges (BOM stripped, batches split
 * the same way). Batches are split and delivered one by one. Never throws.
 */
export function decodeMcpPayload(payload: Uint8Array, maxBytes = DEFAULT_MAX_INBOUND_BYTES): DecodedPayload {
  const result: DecodedPayload = { messages: [], problems: [], batch: false };
  const decoded = decodeJsonRpcPayload(payload, { maxBytes });
  if (!decoded.ok) {
    result.problems.push(decoded.error.message);
    return result;
  }
  result.batch = decoded.batch;
  for (const item of decoded.items) accept(item, result);
  return result;
}

/** The method of a request or notification, or undefined for a response. */
export function methodOf(message: JSONRPCMessage): string | undefined {
  return 'method' in message && typeof message.method === 'string' ? message.method : undefined;
}

/** True for a request (method and id). */
export function isRequest(
  message: JSONRPCMessage,
): message is Extract<JSONRPCMessage, { id: unknown; method: string }> {
  return 'method' in message && 'id' in message;
}

/** True for a notification (method, no id). */
export function isNotification(message: JSONRPCMessage): boolean {
  return 'method' in message && !('id' in message);
}

/** True for a result or error response. */
export function isResponse(message: JSONRPCMessage): boolean {
  return !('method' in message) && 'id' in message;
}

/** The `notifications/disconnected` message both sides send to end a session. */
export const DISCONNECTED_NOTIFICATION = Object.freeze({
  jsonrpc: '2.0' as const,
  method: 'notifications/disconnected',
});

/** Notifications a server publishes on its capability topic instead of a session's RPC topic. */
export const SERVER_CAPABILITY_METHODS: ReadonlySet<string> = new Set([
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/resources/list_changed',
  'notifications/resources/updated',
]);

/** Notifications a client publishes on its capability topic instead of a session's RPC topic. */
export const CLIENT_CAPABILITY_METHODS: ReadonlySet<string> = new Set(['notifications/roots/list_changed']);
