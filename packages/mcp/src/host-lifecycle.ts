/** What both hosts are, as far as starting and closing go. */
interface StartableHost {
  start(options: { signal?: AbortSignal | undefined }): Promise<void>;
  close(): Promise<void>;
}

/** Start a freshly built host; when starting fails it is closed again and the error rethrown. */
export async function startOrClose<H extends StartableHost>(
  host: H,
  signal: AbortSignal | undefined,
): Promise<H> {
  try {
    await host.start({ signal });
  } catch (error) {
    await host.close();
    throw error;
  }
  return host;
}

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
