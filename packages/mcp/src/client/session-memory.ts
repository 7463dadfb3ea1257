import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '../json-rpc-types.js';
import { isRequest, methodOf } from '../inbound/inbound-messages.js';
import { requestIdKey } from '../session/request-deadlines.js';
import { LIST_CHANGE_NOTIFICATIONS } from './failover-policy.js';
import type { ToolHints } from './failover-policy.js';
import type { InstanceTransport } from './instance-transport.js';

/** Most server-to-client requests (sampling, elicitation, roots) a session keeps id mappings for. */
const MAX_SERVER_REQUESTS = 1_000;
/** Most tools whose hints a session remembers (from the first page of `tools/list`). */
const MAX_TOOL_HINTS = 10_000;

/** A request the SDK sent and has no answer for yet. */
export interface PendingRequest {
  readonly message: JSONRPCRequest;
  /** The instance session it went to; undefined while it waits for a move to finish. */
  inner: InstanceTransport | undefined;
  /** True once it was handed to an instance session (it may have run there). */
  sent: boolean;
}

/**
 * @internal What one client session must carry over to a new server instance: the SDK's `initialize`
 * request and its answer, the log level, the resource subscriptions, the first page of every list (to tell
 * whether the new instance differs) and the requests in flight. Bounded: the in-flight map by what the SDK
 * has outstanding, subscriptions by the URIs the SDK subscribed to, the rest by the constants above.
 */
export class SessionMemory {
  initialize: JSONRPCRequest | undefined;
  initialized = false;
  protocolVersion: string | undefined;
  logLevel: Record<string, unknown> | undefined;
  readonly subscriptions = new Set<string>();
  /** method → `{ params, result }` of the first page the SDK last listed (canonical JSON of the result). */
  readonly lists = new Map<string, { params: Record<string, unknown>; result: string }>();
  readonly toolHints = new Map<string, ToolHints>();
  readonly pending = new Map<string, PendingRequest>();
  /** Server requests in flight: id the SDK saw (a key) → where to answer, with the id the instance used. */
  private readonly serverRequests = new Map<string, { inner: InstanceTransport; id: RequestId }>();
  private nextServerRequest = 0;

  /** An outbound message from the SDK, before it goes anywhere. */
  recordOutbound(message: JSONRPCMessage): void {
    if (!isRequest(message)) {
      if (methodOf(message) === 'notifications/initialized') this.initialized = true;
      return;
    }
    const request = message as JSONRPCRequest;
    this.pending.set(requestIdKey(request.id), { message: request, inner: undefined, sent: false });
    const params = request.params ?? {};
    switch (request.method) {
      case 'initialize':
        this.initialize = request;
        return;
      case 'logging/setLevel':
        this.logLevel = params;
        return;
      case 'resources/subscribe':
        if (typeof params.uri === 'string') this.subscriptions.add(params.uri);
        return;
      case 'resources/unsubscribe':
        if (typeof params.uri === 'string') this.subscriptions.delete(params.uri);
        return;
    }
  }

  /** A response for a request of the SDK's: forget it, and learn from lists. Returns the request. */
  answered(message: JSONRPCMessage & { id: RequestId }): PendingRequest | undefined {
    const key = requestIdKey(message.id);
    const entry = this.pending.get(key);
    if (!entry) return undefined;
    this.pending.delete(key);
    if ('result' in message) this.learn(entry.message, message.result as Record<string, unknown>);
    return entry;
  }

  /** Remember the first page of a list (and the hints of listed tools). */
  learn(request: { method: string; params?: Record<string, unknown> | undefined }, result: unknown): void {
    if (!LIST_CHANGE_NOTIFICATIONS.has(request.method)) return;
    const params = request.params ?? {};
    if (params.cursor !== undefined || typeof result !== 'object' || result === null) return;
    this.lists.set(request.method, { params, result: canonicalJson(result) });
    if (request.method !== 'tools/list') return;
    const tools = (result as { tools?: unknown }).tools;
    if (!Array.isArray(tools)) return;
    this.toolHints.clear();
    for (const tool of tools.slice(0, MAX_TOOL_HINTS)) {
      const { name, annotations } = (tool ?? {}) as { name?: unknown; annotations?: unknown };
      if (typeof name !== 'string' || typeof annotations !== 'object' || annotations === null) continue;
      const { readOnlyHint, idempotentHint } = annotations as ToolHints;
      this.toolHints.set(name, {
        ...(readOnlyHint === true ? { readOnlyHint } : {}),
        ...(idempotentHint === true ? { idempotentHint } : {}),
      });
    }
  }

  /** The requests in flight on one instance session (all of them when `inner` is omitted). */
  pendingOn(inner: InstanceTransport): PendingRequest[] {
    return [...this.pending.values()].filter((entry) => entry.inner === inner);
  }

  /**
   * A server request from `inner`: remembered, so the SDK's answer goes back to the instance that asked
   * (after a drain move the earlier instance may still ask). `rewrite` gives it an id that cannot clash with
   * an earlier instance's ids.
   */
  serverRequest(inner: InstanceTransport, message: JSONRPCRequest, rewrite: boolean): JSONRPCRequest {
    const id = rewrite ? `mqtt-agents/${++this.nextServerRequest}/${String(message.id)}` : message.id;
    this.serverRequests.set(requestIdKey(id), { inner, id: message.id });
    if (this.serverRequests.size > MAX_SERVER_REQUESTS) {
      this.serverRequests.delete(this.serverRequests.keys().next().value as string);
    }
    return rewrite ? { ...message, id } : message;
  }

  /** Where an SDK response to a server request goes, with the id that instance used. */
  serverRequestTarget(id: RequestId): { inner: InstanceTransport; id: RequestId } | undefined {
    const key = requestIdKey(id);
    const target = this.serverRequests.get(key);
    if (target) this.serverRequests.delete(key);
    return target;
  }

  /** Rewrite a server notification that names a rewritten request (`notifications/cancelled`). */
  rewrittenCancellation(inner: InstanceTransport, message: JSONRPCMessage): JSONRPCMessage {
    if (methodOf(message) !== 'notifications/cancelled') return message;
    const params = (message as { params?: { requestId?: RequestId } }).params;
    for (const [key, target] of this.serverRequests) {
      if (target.inner === inner && target.id === params?.requestId) {
        const requestId = key.slice(2);
        return { ...message, params: { ...params, requestId } } as JSONRPCMessage;
      }
    }
    return message;
  }

  forgetServerRequestsOf(inner: InstanceTransport): void {
    for (const [id, target] of this.serverRequests)
      if (target.inner === inner) this.serverRequests.delete(id);
  }
}

/** JSON with object keys sorted, so two equal results compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
    return Object.fromEntries(
      Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  });
}
