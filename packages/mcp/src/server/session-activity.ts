import type { JSONRPCMessage, RequestId } from '../json-rpc-types.js';
import { isRequest, isResponse, methodOf } from '../inbound/inbound-messages.js';
import { requestIdKey } from '../session/request-deadlines.js';

/** Default time a session may go without a message from its client before it is closed: 30 minutes. */
export const DEFAULT_SESSION_IDLE_TIMEOUT_MS = 30 * 60_000;
/** Default time a client has to send `notifications/initialized` after the initialize response: 30 s. */
export const DEFAULT_INITIALIZATION_TIMEOUT_MS = 30_000;

/** Why a session was reaped. */
export type SessionExpiry = 'initialization' | 'idle';

export interface SessionActivityOptions {
  /** Milliseconds without a message from the client (and no request of it in progress); 0 never. */
  idleTimeoutMs: number;
  /** Milliseconds from the initialize response to `notifications/initialized`; 0 never. */
  initializationTimeoutMs: number;
  /** The session ran out of time: the transport ends it. Called at most once. */
  onExpired(expiry: SessionExpiry, milliseconds: number): void;
}

const now = (): number => performance.now();
/** setTimeout fires at once for delays beyond 2^31 - 1 ms: longer waits are re-armed in steps. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Reaping clocks of one server session. A client must finish initialization (send
 * `notifications/initialized`) within `initializationTimeoutMs` of the initialize response, and after
 * that may stay silent for at most `idleTimeoutMs`; a request of the client that the server is still
 * working on keeps the session alive. One timer per session, re-armed only when it fires (no timer churn
 * per message).
 */
export class SessionActivity {
  private readonly options: SessionActivityOptions;
  /** Requests from the client the server has not answered yet (keys of their ids). */
  private readonly inProgress = new Set<string>();
  private lastHeard = now();
  private initialized = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(options: SessionActivityOptions) {
    this.options = options;
    // Until initialize is answered, the in-progress initialize request holds the session; the idle clock
    // still catches a session whose server never answers and whose client went quiet.
    this.armIdle();
  }

  /** Requests of the client the server has not answered yet. */
  get requestsInProgress(): number {
    return this.inProgress.size;
  }

  /** A message arrived from the client. */
  heard(message: JSONRPCMessage): void {
    this.lastHeard = now();
    if (isRequest(message)) this.inProgress.add(requestIdKey(message.id));
    else if (methodOf(message) === 'notifications/cancelled') {
      // The SDK answers nothing to a request its client cancelled: it is no longer in progress.
      const requestId = (message as { params?: { requestId?: RequestId } }).params?.requestId;
      if (requestId !== undefined) this.inProgress.delete(requestIdKey(requestId));
    }
    if (!this.initialized && methodOf(message) === 'notifications/initialized') {
      this.initialized = true;
      this.clear();
      this.armIdle();
    }
  }

  /** The server sent a message to the client: a response finishes a request of the client. */
  sent(message: JSONRPCMessage): void {
    if (isResponse(message)) {
      const key = requestIdKey((message as { id: RequestId }).id);
      if (this.inProgress.delete(key)) this.lastHeard = now();
    }
  }

  /** The initialize response went out: the client now has `initializationTimeoutMs` to confirm. */
  answeredInitialize(): void {
    if (this.disposed || this.initialized || !(this.options.initializationTimeoutMs > 0)) return;
    this.clear();
    const limit = this.options.initializationTimeoutMs;
    const deadline = now() + limit;
    const check = (): void => {
      this.timer = undefined;
      if (this.initialized) return;
      const left = deadline - now();
      if (left > 0) this.timer = setTimeout(check, Math.min(left, MAX_TIMER_DELAY_MS));
      else this.expire('initialization', limit);
    };
    this.timer = setTimeout(check, Math.min(limit, MAX_TIMER_DELAY_MS));
  }

  dispose(): void {
    this.disposed = true;
    this.clear();
    this.inProgress.clear();
  }

  private armIdle(delay = this.options.idleTimeoutMs): void {
    if (this.disposed || !(this.options.idleTimeoutMs > 0)) return;
    this.timer = setTimeout(() => this.checkIdle(), Math.min(Math.max(1, delay), MAX_TIMER_DELAY_MS));
  }

  private checkIdle(): void {
    this.timer = undefined;
    const limit = this.options.idleTimeoutMs;
    const silent = now() - this.lastHeard;
    if (this.inProgress.size > 0) {
      this.armIdle(limit);
    } else if (silent >= limit) {
      this.expire('idle', limit);
    } else {
      this.armIdle(limit - silent);
    }
  }

  private expire(expiry: SessionExpiry, milliseconds: number): void {
    if (this.disposed) return;
    this.dispose();
    this.options.onExpired(expiry, milliseconds);
  }

  private clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
