import { MqttAgentsError } from '@mqtt-agents/core';

/** Default time a drain waits for the clients to move their sessions away: 30 s. */
export const DEFAULT_DRAIN_GRACE_MS = 30_000;

/** setTimeout fires at once for delays beyond 2^31 - 1 ms: longer waits are re-armed in steps. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** How long `drain()` lets clients finish before it closes their sessions, and how to cut the wait short. */
export interface McpDrainOptions {
  /**
   * How long to wait for the clients to end their sessions, in ms, before the remaining ones are closed.
   * Default 30 s (`DEFAULT_DRAIN_GRACE_MS`); `Infinity` waits until the last client leaves (or `signal`).
   */
  graceMs?: number;
  /** Aborting it ends the wait at once, as if the grace period ran out. */
  signal?: AbortSignal;
}

/** What a drain did, once the host is closed. */
export interface McpDrainResult {
  /** Sessions open (or opening) when the drain began. */
  sessionsAtStart: number;
  /** Sessions that ended before the deadline: closed by their clients (or reaped as usual). */
  sessionsLeftByClients: number;
  /** Sessions still open when the grace period ran out (or the signal aborted, or `close()` was called). */
  sessionsClosedAtDeadline: number;
  /** Requests of those sessions the server had not answered yet: cut short. */
  requestsInFlightAtDeadline: number;
}

/** @internal What `drain()` resolves with on a host that was closed already: nothing to drain. */
export function nothingDrained(): McpDrainResult {
  return {
    sessionsAtStart: 0,
    sessionsLeftByClients: 0,
    sessionsClosedAtDeadline: 0,
    requestsInFlightAtDeadline: 0,
  };
}

/** @internal What a drain needs of its server host. */
export interface DrainTarget {
  /** Sessions the host holds now, initializing ones included. */
  sessionCount(): number;
  /** Unanswered client requests over every session. */
  requestsInFlight(): number;
  /** Publish the retained presence, which now says `draining: true`. */
  publishPresence(): Promise<void>;
  report(error: Error): void;
  close(): Promise<void>;
}

/** Check `graceMs`: a number of ms >= 0 (`Infinity` allowed). */
export function drainGrace(value: number | undefined): number {
  if (value === undefined) return DEFAULT_DRAIN_GRACE_MS;
  if (value === Infinity || (Number.isFinite(value) && value >= 0)) return value;
  throw new MqttAgentsError(
    'INVALID_PAYLOAD',
    `drain: graceMs must be a number of milliseconds >= 0 (or Infinity), got ${String(value)}`,
  );
}

/**
 * One drain of a server host: the host already refuses new sessions; this publishes the draining
 * presence, waits until every session ended or the deadline came (grace period, signal, `close()`), takes
 * the counts at that moment and closes the host, which ends the sessions still open.
 */
export class HostDrain {
  /** Resolves once the host is closed. */
  readonly done: Promise<McpDrainResult>;
  private readonly target: DrainTarget;
  private readonly sessionsAtStart: number;
  private readonly signal: AbortSignal | undefined;
  private left = 0;
  private deadline: { sessions: number; requests: number } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wake: () => void = () => {};
  private readonly onAbort = (): void => this.settle();

  constructor(target: DrainTarget, options: { graceMs: number; signal?: AbortSignal | undefined }) {
    this.target = target;
    this.sessionsAtStart = target.sessionCount();
    this.signal = options.signal;
    const settled = new Promise<void>((resolve) => (this.wake = resolve));
    this.done = this.run(settled);
    if (Number.isFinite(options.graceMs)) this.arm(performance.now() + options.graceMs);
    if (this.signal?.aborted) this.settle();
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** A session of the host ended: counted as left by its client until the deadline. */
  sessionEnded(): void {
    if (this.deadline !== undefined) return;
    this.left += 1;
    if (this.target.sessionCount() === 0) this.settle();
  }

  /**
   * Stop waiting now: the sessions still open are counted as closed at the deadline (and closed by the host
   * right after). Idempotent.
   */
  settle(): void {
    if (this.deadline !== undefined) return;
    this.deadline = { sessions: this.target.sessionCount(), requests: this.target.requestsInFlight() };
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.wake();
  }

  private async run(settled: Promise<void>): Promise<McpDrainResult> {
    try {
      await this.target.publishPresence();
    } catch (error) {
      this.target.report(
        new MqttAgentsError('PUBLISH_FAILED', 'could not publish the draining presence', { cause: error }),
      );
    }
    if (this.target.sessionCount() === 0) this.settle();
    await settled;
    await this.target.close();
    const deadline = this.deadline ?? { sessions: 0, requests: 0 };
    return {
      sessionsAtStart: this.sessionsAtStart,
      sessionsLeftByClients: this.left,
      sessionsClosedAtDeadline: deadline.sessions,
      requestsInFlightAtDeadline: deadline.requests,
    };
  }

  private arm(at: number): void {
    const left = at - performance.now();
    if (left <= 0) {
      this.timer = undefined;
      this.settle();
      return;
    }
    this.timer = setTimeout(() => this.arm(at), Math.min(left, MAX_TIMER_DELAY_MS));
  }
}
