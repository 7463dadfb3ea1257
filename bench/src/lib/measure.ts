/**
 * Closed-loop load: `concurrency` workers each call `call()` back to back for a warm-up and then a measured
 * window; every call that starts inside the window counts and is timed. Benchmarks are not tests: the
 * numbers only mean something next to a baseline measured in the same run.
 */

export interface LoadOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

export interface LoadResult {
  /** Calls that completed in the measured window, per second. */
  rate: number;
  /** Median latency of the measured calls, ms. */
  p50: number;
  /** 99th percentile latency of the measured calls, ms. */
  p99: number;
  calls: number;
  errors: number;
  firstError: string | undefined;
}

/** Default measurement window: bounded so that the whole `pnpm bench` fits in minutes on 2 cores. */
export const DEFAULT_LOAD = {
  warmupMs: Number(process.env.BENCH_WARMUP_MS ?? 700),
  durationMs: Number(process.env.BENCH_DURATION_MS ?? 3_000),
};

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

export async function runLoad(call: () => Promise<unknown>, options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const startedAt = performance.now();
  const measureFrom = startedAt + options.warmupMs;
  const measureUntil = measureFrom + options.durationMs;

  const worker = async (): Promise<void> => {
    for (;;) {
      const start = performance.now();
      if (start >= measureUntil) return;
      try {
        await call();
        const end = performance.now();
        if (start >= measureFrom) latencies.push(end - start);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
        // A failing call must not turn the loop into a busy spin.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsed = performance.now() - measureFrom;
  latencies.sort((a, b) => a - b);
  return {
    rate: (latencies.length * 1000) / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    calls: latencies.length,
    errors,
    firstError,
  };
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Run a full GC (when started with --expose-gc), several passes so weak references and finalizers settle. */
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  for (let pass = 0; pass < 3; pass++) {
    gc();
    await delay(20);
  }
}
