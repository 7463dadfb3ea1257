// The requests of one engine still waiting for replies, keyed by Correlation Data, and the keys of recently
// ended ones (so a late reply is told apart from an unknown one).
import type { Exchange } from './exchange.js';
import type { UnmatchedReplyReason } from './types.js';

const RECENTLY_SETTLED_LIMIT = 1024;

export class InflightTable {
  readonly #inflight = new Map<string, Exchange>();
  readonly #settled = new Set<string>();

  get size(): number {
    return this.#inflight.size;
  }

  add(exchange: Exchange): void {
    this.#inflight.set(exchange.key, exchange);
  }

  get(key: string): Exchange | undefined {
    return this.#inflight.get(key);
  }

  /** The exchange stopped accepting replies: forget it, remember its key as recently settled. */
  end(exchange: Exchange): void {
    if (this.#inflight.get(exchange.key) === exchange) this.#inflight.delete(exchange.key);
    this.#settled.add(exchange.key);
    if (this.#settled.size > RECENTLY_SETTLED_LIMIT) {
      const oldest = this.#settled.values().next().value;
      if (oldest !== undefined) this.#settled.delete(oldest);
    }
  }

  /** Why a reply with this correlation key matched no request. */
  unmatchedReason(key: string): UnmatchedReplyReason {
    return this.#settled.has(key) ? 'late-reply' : 'unknown-correlation';
  }

  failAll(fail: (exchange: Exchange) => void): void {
    for (const exchange of [...this.#inflight.values()]) fail(exchange);
  }
}
