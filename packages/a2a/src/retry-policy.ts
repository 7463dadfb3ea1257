import { abortError } from '@mqtt-agents/core';

/**
 * The requester retry and timeout profile of A2A over MQTT. The defaults are the profile's; deployments
 * may change any of them.
 */
export interface RetryPolicy {
  /** How long to wait for the first correlated reply of an attempt, in ms (`reply_first_timeout_ms`). */
  replyFirstTimeoutMs: number;
  /** Longest silence between two stream items once one arrived, in ms (`stream_idle_timeout_ms`). */
  streamIdleTimeoutMs: number;
  /** Total attempts, the first included (`max_attempts`). */
  maxAttempts: number;
  /** Wait before the first retry, in ms; doubled for each further retry (`retry_backoff_ms`: 1000, 2000, 4000). */
  initialBackoffMs: number;
  /** Factor between two successive waits. */
  backoffMultiplier: number;
  /** Relative jitter applied to every wait: 0.2 means +/-20%. */
  backoffJitter: number;
  /**
   * Also retry, within `maxAttempts`, when the responder answers `request_expired` (-32003) or
   * `responder_unavailable` (-32004) marked with `a2a_error` (retry-eligible at application level).
   */
  retryRetryableErrors: boolean;
}

/** The profile's defaults: 15 s first reply, 30 s stream idle, 3 attempts, 1 s/2 s/4 s backoff with +/-20% jitter. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  replyFirstTimeoutMs: 15_000,
  streamIdleTimeoutMs: 30_000,
  maxAttempts: 3,
  initialBackoffMs: 1_000,
  backoffMultiplier: 2,
  backoffJitter: 0.2,
  retryRetryableErrors: true,
});

/** The wait before retry number `retry` (1 for the first retry), jitter included. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const base = policy.initialBackoffMs * policy.backoffMultiplier ** Math.max(0, retry - 1);
  const jitter = 1 + policy.backoffJitter * (2 * random() - 1);
  return Math.max(0, Math.round(base * jitter));
}

/** Wait `ms`, or reject with `ABORTED` when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal, 'retry backoff'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal, 'retry backoff'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
