// Bounded concurrency for password checks: each scrypt check takes tens of MiB and a thread-pool thread, so
// a flood of CONNECTs with passwords may run at most `concurrency` checks at once and queue at most
// `maxQueued` more; beyond that a CONNECT is refused at once (0x89 Server busy) instead of piling up.

export interface HashGateOptions {
  /** Checks running at once; default 2. */
  concurrency?: number;
  /** Checks waiting for a turn; default 64. */
  maxQueued?: number;
}

export class HashGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly concurrency: number;
  private readonly maxQueued: number;

  constructor(options: HashGateOptions = {}) {
    this.concurrency = positive('concurrency', options.concurrency ?? 2);
    this.maxQueued = positive('maxQueued', options.maxQueued ?? 64, 0);
  }

  /** Checks running and waiting now. */
  get load(): number {
    return this.running + this.waiting.length;
  }

  /** Run `task` when a slot is free; undefined (without running it) when the queue is full. */
  run<T>(task: () => Promise<T>): Promise<T> | undefined {
    if (this.running >= this.concurrency && this.waiting.length >= this.maxQueued) return undefined;
    const start = async (): Promise<T> => {
      try {
        return await task();
      } finally {
        this.running--;
        const next = this.waiting.shift();
        if (next) {
          this.running++;
          next();
        }
      }
    };
    if (this.running < this.concurrency) {
      this.running++;
      return start();
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(start);
  }
}

function positive(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min || value > 1_000_000) {
    throw new RangeError(`invalid brokerAuth option ${name}: ${value} (expected an integer from ${min})`);
  }
  return value;
}
