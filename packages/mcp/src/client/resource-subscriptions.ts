import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '../json-rpc-types.js';
import { methodOf } from '../inbound/inbound-messages.js';
import { requestIdKey } from '../session/request-deadlines.js';

/**
 * The resource URIs one client session subscribed to. A server's capability topic reaches every client of
 * the instance, so `notifications/resources/updated` passes only for URIs this session subscribed to; a
 * subscription counts once the server answered `resources/subscribe` (or `unsubscribe`) with a result.
 */
export class ResourceSubscriptions {
  private readonly subscribed = new Set<string>();
  private readonly pending = new Map<string, { uri: string; subscribe: boolean }>();

  /** An outgoing request: remember a (un)subscription until its answer arrives. */
  sent(request: JSONRPCRequest): void {
    if (request.method !== 'resources/subscribe' && request.method !== 'resources/unsubscribe') return;
    const uri = (request.params as { uri?: unknown } | undefined)?.uri;
    if (typeof uri !== 'string') return;
    this.pending.set(requestIdKey(request.id), { uri, subscribe: request.method === 'resources/subscribe' });
  }

  /** A response from the server. */
  answered(message: JSONRPCMessage & { id: RequestId }): void {
    const key = requestIdKey(message.id);
    const subscription = this.pending.get(key);
    if (!subscription) return;
    this.pending.delete(key);
    if (!('result' in message)) return;
    if (subscription.subscribe) this.subscribed.add(subscription.uri);
    else this.subscribed.delete(subscription.uri);
  }

  /** False for a `notifications/resources/updated` about a URI this session did not subscribe to. */
  passes(message: JSONRPCMessage): boolean {
    if (methodOf(message) !== 'notifications/resources/updated') return true;
    return this.subscribed.has(String((message as { params?: { uri?: unknown } }).params?.uri));
  }
}
