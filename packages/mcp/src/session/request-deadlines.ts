import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '../json-rpc-types.js';

/** JSON-RPC error code the SDK uses for a request that timed out (`ErrorCode.RequestTimeout`). */
export const REQUEST_TIMEOUT_ERROR_CODE = -32001;

/** An expired request, as `RequestDeadlines` reports it. */
export interface ExpiredRequest {
  readonly id: RequestId;
  readonly method: string;
  readonly milliseconds: number;
}

/** The `notifications/cancelled` a transport sends its peer for a request it gave up on. */
export function timeoutCancellation(request: ExpiredRequest): JSONRPCMessage {
  return {
    jsonrpc: '2.0',
    method: 'notifications/cancelled',
    params: { requestId: request.id, reason: 'request timed out' },
  };
}

/** The error response a transport hands its own SDK side for a request that ran out of time. */
export function timeoutResponse(request: ExpiredRequest): JSONRPCMessage {
  return {
    jsonrpc: '2.0',
    id: request.id,
    error: {
      code: REQUEST_TIMEOUT_ERROR_CODE,
      message: `${request.method} timed out after ${request.milliseconds} ms`,
      data: { timeout: request.milliseconds },
    },
  };
}

/** A map key for a JSON-RPC id that keeps `0` and `'0'` apart and never treats `0` as missing. */
export function requestIdKey(id: RequestId): string {
  return `${typeof id === 'number' ? 'n' : 's'}:${id}`;
}

interface Pending {
  readonly id: RequestId;
  readonly method: string;
  readonly milliseconds: number;
  readonly progressToken: string | undefined;
  timer: ReturnType<typeof setTimeout>;
}

export interface RequestDeadlinesOptions {
  /** Milliseconds per method; methods that are absent get no transport timeout. */
  timeouts: ReadonlyMap<string, number>;
  /** Called when a request ran out of time: the transport answers it locally and tells the peer. */
  onExpired(request: ExpiredRequest): void;
}

/**
 * Per-method timeouts for the requests one transport sends. Progress notifications for a request restart
 * its clock; a response that arrives after the deadline is recognised so it can be dropped quietly.
 */
export class RequestDeadlines {
  private readonly pending = new Map<string, Pending>();
  private readonly byProgressToken = new Map<string, string>();
  private readonly expired = new Set<string>();
  private readonly options: RequestDeadlinesOptions;

  constructor(options: RequestDeadlinesOptions) {
    this.options = options;
  }

  /** Start the clock for an outgoing request when its method has a timeout. */
  track(request: JSONRPCRequest): void {
    const milliseconds = this.options.timeouts.get(request.method);
    if (milliseconds === undefined) return;
    const key = requestIdKey(request.id);
    const token = (request.params?._meta as { progressToken?: unknown } | undefined)?.progressToken;
    const progressToken =
      typeof token === 'string' || typeof token === 'number' ? requestIdKey(token) : undefined;
    this.clear(key);
    const entry: Pending = {
      id: request.id,
      method: request.method,
      milliseconds,
      progressToken,
      timer: setTimeout(() => this.expire(key), milliseconds),
    };
    this.pending.set(key, entry);
    if (progressToken !== undefined) this.byProgressToken.set(progressToken, key);
  }

  /**
   * Look at an incoming message. Returns `false` when it is a late response to a request that already
   * timed out here (the caller drops it), `true` otherwise.
   */
  observe(message: JSONRPCMessage): boolean {
    if ('id' in message && !('method' in message)) {
      const key = requestIdKey(message.id as RequestId);
      if (this.expired.delete(key)) return false;
      this.clear(key);
      return true;
    }
    if ('method' in message && message.method === 'notifications/progress' && !('id' in message)) {
      const token = (message.params as { progressToken?: unknown } | undefined)?.progressToken;
      if (typeof token === 'string' || typeof token === 'number') {
        const key = this.byProgressToken.get(requestIdKey(token));
        const entry = key === undefined ? undefined : this.pending.get(key);
        if (key !== undefined && entry) {
          clearTimeout(entry.timer);
          entry.timer = setTimeout(() => this.expire(key), entry.milliseconds);
        }
      }
    }
    return true;
  }

  /** Forget an outgoing request (for example after a `notifications/cancelled` for it). */
  forget(id: RequestId): void {
    this.clear(requestIdKey(id));
  }

  /** Stop every clock; nothing expires after this. */
  dispose(): void {
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
    this.byProgressToken.clear();
    this.expired.clear();
  }

  private clear(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(key);
    if (entry.progressToken !== undefined) this.byProgressToken.delete(entry.progressToken);
  }

  private expire(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    this.clear(key);
    this.expired.add(key);
    // Keep the set of expired ids bounded: the oldest are forgotten first.
    if (this.expired.size > 1024) {
      const oldest = this.expired.values().next().value;
      if (oldest !== undefined) this.expired.delete(oldest);
    }
    this.options.onExpired({ id: entry.id, method: entry.method, milliseconds: entry.milliseconds });
  }
}
