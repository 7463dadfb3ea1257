/**
 * What both hosts share of closing: `closed`, an idempotent `close()` that is also
 * `[Symbol.asyncDispose]`, and the removers of the routes and listeners a host registered, run before its
 * own `shutdown` (once, however often `close()` is called).
 */
export abstract class ClosableHost {
  /** Removers of the routes and listeners the host registered; run first when it closes. */
  protected readonly removers: Array<() => void> = [];
  private closing: Promise<void> | undefined;

  /** True once closing began. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  close(): Promise<void> {
    this.closing ??= this.removeAndShutdown();
    return this.closing;
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The host's own part of closing, after its routes and listeners are removed. */
  protected abstract shutdown(): Promise<void>;

  private removeAndShutdown(): Promise<void> {
    for (const remove of this.removers.splice(0)) remove();
    return this.shutdown();
  }
}
