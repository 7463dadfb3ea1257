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

/** An idempotent close: the first call runs `shutdown`, every call returns its promise. */
export class CloseOnce {
  private closing: Promise<void> | undefined;
  private readonly shutdown: () => Promise<void>;

  constructor(shutdown: () => Promise<void>) {
    this.shutdown = shutdown;
  }

  /** True once closing began. */
  get started(): boolean {
    return this.closing !== undefined;
  }

  run(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }
}
