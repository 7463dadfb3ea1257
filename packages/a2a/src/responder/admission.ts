// Stage: admission. At most `maxConcurrent` requests run at once, `maxQueued` wait for a slot, the rest (and
// everything once the agent shuts down) are refused.

/** A request's place among those running: released once, at its final reply (or when it ends). */
export interface Slot {
  release(): void;
}

/** The slot of a request that takes none (a retry served from its first attempt's state). */
export const NO_SLOT: Slot = Object.freeze({ release: () => {} });

export type AdmissionOutcome = { ok: true; slot: Slot } | { ok: false; reason: 'overloaded' | 'closing' };

export class Admission {
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  readonly #waiting: Array<(admitted: boolean) => void> = [];
  #active = 0;
  #closing = false;

  constructor(options: { maxConcurrent: number; maxQueued: number }) {
    this.#maxConcurrent = options.maxConcurrent;
    this.#maxQueued = options.maxQueued;
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** A slot now, or once a running request hands its own over; refused when the queue is full or closing. */
  async acquire(): Promise<AdmissionOutcome> {
    if (this.#closing) return { ok: false, reason: 'closing' };
    if (this.#active < this.#maxConcurrent) {
      this.#active++;
    } else {
      if (this.#waiting.length >= this.#maxQueued) return { ok: false, reason: 'overloaded' };
      // Resolves true when a finishing request hands its slot over, false when the agent shuts down.
      const admitted = await new Promise<boolean>((resolve) => this.#waiting.push(resolve));
      if (!admitted) return { ok: false, reason: 'closing' };
    }
    let released = false;
    return {
      ok: true,
      slot: {
        release: () => {
          if (released) return;
          released = true;
          const next = this.#waiting.shift();
          if (next) next(true);
          else this.#active--;
        },
      },
    };
  }

  /** Refuse everything from now on, those waiting included. */
  close(): void {
    this.#closing = true;
    for (const wake of this.#waiting.splice(0)) wake(false);
  }
}
