import { MqttAgentsError } from '@mqtt-agents/core';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '../json-rpc-types.js';
import type { InstanceTransport } from './instance-transport.js';

/** JSON-RPC "method not found". */
const METHOD_NOT_FOUND = -32601;

interface Waiter {
  inner: InstanceTransport;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/**
 * @internal Requests a client transport sends of its own on an instance session (the replayed `initialize`,
 * log level and subscriptions of a move, the lists it compares), with ids the SDK never sees. Bounded by
 * what a move asks at once; each waits at most until its signal aborts or its session ends.
 */
export class PrivateRequests {
  private readonly waiters = new Map<string, Waiter>();
  private next = 0;

  /**
   * Send `method` on `inner` and wait for its result. An error response rejects with a `PROTOCOL_ERROR`
   * whose details hold the JSON-RPC error (and `reason`, when the server gave one: `draining`, a session
   * limit); an aborted signal with `ABORTED`; the session's end with the reason it ended.
   */
  ask(
    inner: InstanceTransport,
    method: string,
    params: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<unknown> {
    const id = `mqtt-agents/failover/${++this.next}`;
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters.delete(id);
        reject(
          new MqttAgentsError('ABORTED', `${method} on '${inner.serverId}' was given up`, {
            cause: signal.reason,
          }),
        );
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal.removeEventListener('abort', onAbort);
      this.waiters.set(id, {
        inner,
        resolve: (result) => {
          done();
          resolve(result);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      inner.send({ jsonrpc: '2.0', id, method, params }).catch((error: unknown) => {
        this.waiters.get(id)?.reject(error as Error);
        this.waiters.delete(id);
      });
    });
  }

  /** A response from `inner`: true when it answered one of these requests (then it is consumed here). */
  answer(inner: InstanceTransport, message: JSONRPCMessage): boolean {
    const id = (message as { id?: RequestId }).id;
    const waiter = typeof id === 'string' ? this.waiters.get(id) : undefined;
    if (waiter?.inner !== inner) return false;
    this.waiters.delete(id as string);
    if ('result' in message) waiter.resolve(message.result);
    else waiter.reject(errorResponse(inner, message as { error?: unknown }));
    return true;
  }

  /** The session ended: its requests reject with `error`. */
  rejectAll(inner: InstanceTransport, error: Error): void {
    for (const [id, waiter] of [...this.waiters]) {
      if (waiter.inner !== inner) continue;
      this.waiters.delete(id);
      waiter.reject(error);
    }
  }
}

/**
 * The answer to a request the SDK sends before `initialize`: MCP over MQTT defines only the 2025
 * `initialize` handshake, and no server listens on the session's RPC topic before it. The one an SDK sends
 * is the 2.x `server/discover` probe of `versionNegotiation: { mode: 'auto' }`; "method not found" is what
 * that SDK reads as a 2025 server, so it falls back to `initialize` instead of waiting out the probe.
 */
export function beforeInitializeRefusal(request: JSONRPCRequest): JSONRPCMessage {
  return {
    jsonrpc: '2.0',
    id: request.id,
    error: {
      code: METHOD_NOT_FOUND,
      message: `${request.method} is not part of MCP over MQTT before initialize: the session uses the 2025 initialize handshake`,
    },
  };
}

function errorResponse(inner: InstanceTransport, message: { error?: unknown }): MqttAgentsError {
  const error = (message.error ?? {}) as { code?: unknown; message?: unknown; data?: unknown };
  const reason = (error.data as { reason?: unknown } | undefined)?.reason;
  return new MqttAgentsError(
    'PROTOCOL_ERROR',
    `instance '${inner.serverId}' answered with an error: ${String(error.message)}`,
    { details: { code: error.code, data: error.data, ...(typeof reason === 'string' ? { reason } : {}) } },
  );
}
