/** Where a command writes, and the signal that stops a foreground command. Tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Aborted when the user asks the command to stop (SIGINT/SIGTERM in a real process). */
  signal: AbortSignal;
  env: Record<string, string | undefined>;
}

/** A command failure the user caused (bad flag, unreachable broker): one line, no stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function processIo(): CliIo {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    signal: controller.signal,
    env: process.env,
  };
}
