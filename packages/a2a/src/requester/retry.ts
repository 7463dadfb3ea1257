// Stage: retry. The profile's retry rules for one operation: a new correlation per attempt with the same
// payload, no retry once a reply arrived, retryable binding errors retried (with backoff), one immediate
// retry with a fresh token after a refused one, and `mayHaveRun` once an attempt went unanswered.
import { MqttAgentsError } from '@mqtt-agents/core';
import { MqttAuthError } from '../auth-errors.js';
import { MqttBindingError } from '../binding-errors.js';
import type { JsonRpcErrorObject } from '../binding-errors.js';
import { backoffDelay } from '../retry-policy.js';
import type { RetryPolicy } from '../retry-policy.js';

function isRetryableLocalError(error: unknown): boolean {
  return (
    MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT') || MqttAgentsError.hasCode(error, 'PUBLISH_FAILED')
  );
}

/** What to do after an attempt: try again (after `waitMs`), or fail with `error`. */
export type RetryDecision =
  { retry: true; because: unknown; backoff: boolean } | { retry: false; error: unknown };

export class RetryState {
  readonly #policy: RetryPolicy;
  /** Requests carry a provider's token: a refused one is retried once with a fresh one. */
  readonly #sendsTokens: boolean;
  #budget: number;
  #refusedToken = false;
  /** An earlier attempt was published and went unanswered: the agent may have run it. */
  #mayHaveRun = false;

  constructor(policy: RetryPolicy, sendsTokens: boolean) {
    this.#policy = policy;
    this.#sendsTokens = sendsTokens;
    this.#budget = policy.maxAttempts;
  }

  get budget(): number {
    return this.#budget;
  }

  get mayHaveRun(): boolean {
    return this.#mayHaveRun;
  }

  /** An error reply to attempt `attempt`, after `received` other replies. */
  onErrorReply(error: Error, wire: JsonRpcErrorObject, received: number, attempt: number): RetryDecision {
    const retryable =
      error instanceof MqttBindingError && error.retryable && this.#policy.retryRetryableErrors;
    if (received === 0 && retryable && attempt < this.#budget) {
      return { retry: true, because: error, backoff: true };
    }
    if (this.#mayHaveRun && error instanceof MqttBindingError && !error.mayHaveRun) {
      // This attempt was refused, but an earlier one went unanswered: it may have run.
      return { retry: false, error: new MqttBindingError(error.kind, wire, { mayHaveRun: true }) };
    }
    // A refused token (expired, revoked) gets one immediate retry with a fresh one.
    if (
      error instanceof MqttAuthError &&
      error.kind === 'unauthenticated' &&
      this.#sendsTokens &&
      !this.#refusedToken &&
      received === 0 &&
      attempt < this.#budget
    ) {
      this.#refusedToken = true;
      return { retry: true, because: error, backoff: false };
    }
    return { retry: false, error };
  }

  /**
   * A local failure of attempt `attempt` (timeout, publish failure) before any reply: `retry`, `exhausted`
   * (the budget is spent: fall back or give up), or rethrow it.
   */
  onFailure(
    error: unknown,
    received: number,
    attempt: number,
    signal: AbortSignal | undefined,
  ): 'retry' | 'exhausted' {
    if (received > 0 || !isRetryableLocalError(error) || signal?.aborted) throw error;
    // A published attempt that timed out may have reached the agent and run.
    if (MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT')) this.#mayHaveRun = true;
    return attempt >= this.#budget ? 'exhausted' : 'retry';
  }

  /** One more attempt after `attempt` (the fallback to the card's agent). */
  extend(attempt: number): void {
    this.#budget = attempt + 1;
  }

  /** The error of an operation whose every attempt failed. */
  exhausted(error: unknown, method: string, name: string, topic: string, attempt: number): MqttAgentsError {
    const timeout = MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT');
    return new MqttAgentsError(
      timeout ? 'REQUEST_TIMEOUT' : 'PUBLISH_FAILED',
      `${method} to ${name} failed after ${attempt} attempts: ${(error as Error).message}`,
      { cause: error, details: { method, topic, attempts: attempt, mayHaveRun: this.#mayHaveRun } },
    );
  }

  /** How long to wait before attempt `attempt + 1`. */
  delayMs(attempt: number, backoff: boolean): number {
    return backoff ? backoffDelay(this.#policy, attempt) : 0;
  }
}
