import { MqttAgentsError, abortError } from '@mqtt-agents/core';
import type { JSONRPCMessage, JSONRPCRequest } from '../json-rpc-types.js';
import { MCP_MQTT_DEFAULT_TIMEOUTS } from '../default-timeouts.js';

/** Ids of the pings a transport sends on its own: a private string namespace, never passed to the SDK. */
export const HEALTH_PING_ID_PREFIX = 'mqtt-agents/health-ping/';

/** Periodic `ping` requests that a transport sends on its own to check its peer. */
export interface HealthCheckOptions {
  /** Milliseconds between pings. */
  intervalMs: number;
  /** Milliseconds to wait for the answer; the spec's `ping` timeout (10 s) by default. */
  timeoutMs?: number;
}

interface HealthCheckWiring {
  send(request: JSONRPCRequest): Promise<void>;
  onFailure(error: MqttAgentsError): void;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Sends health pings with private ids and consumes their answers. */
export class HealthCheck {
  private readonly waiters = new Map<string, Waiter>();
  private readonly wiring: HealthCheckWiring;
  private readonly defaultTimeoutMs: number;
  private interval: ReturnType<typeof setInterval> | undefined;
  private sequence = 0;
  private disposed = false;

  constructor(wiring: HealthCheckWiring, defaultTimeoutMs = MCP_MQTT_DEFAULT_TIMEOUTS.ping ?? 10_000) {
    this.wiring = wiring;
    this.defaultTimeoutMs = defaultTimeoutMs;
  }

  /** Start pinging every `intervalMs`; the first failure calls `onFailure` and stops the schedule. */
  schedule(options: HealthCheckOptions): void {
    if (this.disposed || this.interval !== undefined || !(options.intervalMs > 0)) return;
    let busy = false;
    this.interval = setInterval(() => {
      if (busy) return;
      busy = true;
      this.ping({ timeoutMs: options.timeoutMs }).then(
        () => (busy = false),
        (error: unknown) => {
          busy = false;
          if (this.disposed) return;
          this.stop();
          this.wiring.onFailure(
            MqttAgentsError.isInstance(error)
              ? error
              : new MqttAgentsError('REQUEST_TIMEOUT', 'health ping failed', { cause: error }),
          );
        },
      );
    }, options.intervalMs);
  }

  /** Send one ping now and wait for its answer. */
  async ping(
    options: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<void> {
    if (this.disposed) throw new MqttAgentsError('CLOSED', 'health check on a closed transport');
    if (options.signal?.aborted) throw abortError(options.signal, 'health ping');
    const id = `${HEALTH_PING_ID_PREFIX}${++this.sequence}`;
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const answered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(
          new MqttAgentsError('REQUEST_TIMEOUT', `no answer to health ping within ${timeoutMs} ms`, {
            details: { timeoutMs },
          }),
        );
      }, timeoutMs);
      this.waiters.set(id, { resolve, reject, timer });
    });
    // Settled before we await it when sending fails or the signal fires: never an unhandled rejection.
    answered.catch(() => {});
    const onAbort = (): void => this.settle(id, abortError(options.signal as AbortSignal, 'health ping'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.wiring.send({ jsonrpc: '2.0', id, method: 'ping' });
      await answered;
    } catch (error) {
      this.settle(id, error);
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Returns true when `message` answers one of our pings (it is consumed, never passed on). */
  consume(message: JSONRPCMessage): boolean {
    if (!('id' in message) || 'method' in message) return false;
    const id = message.id;
    if (typeof id !== 'string' || !id.startsWith(HEALTH_PING_ID_PREFIX)) return false;
    const waiter = this.waiters.get(id);
    if (waiter) {
      this.waiters.delete(id);
      clearTimeout(waiter.timer);
      // Any answer, result or error, proves that the peer is alive.
      waiter.resolve();
    }
    return true;
  }

  stop(): void {
    if (this.interval !== undefined) clearInterval(this.interval);
    this.interval = undefined;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stop();
    for (const [id] of this.waiters) {
      this.settle(id, new MqttAgentsError('CLOSED', 'transport closed during a health ping'));
    }
  }

  private settle(id: string, error: unknown): void {
    const waiter = this.waiters.get(id);
    if (!waiter) return;
    this.waiters.delete(id);
    clearTimeout(waiter.timer);
    waiter.reject(error);
  }
}
