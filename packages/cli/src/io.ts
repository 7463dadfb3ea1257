import type { Readable, Writable } from 'node:stream';

/** Where a command writes, and the signal that stops a foreground command. Tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Aborted when the user asks the command to stop (SIGINT/SIGTERM in a real process). */
  signal: AbortSignal;
  env: Record<string, string | undefined>;
  /** True when stdout is a terminal: `watch` redraws a screen instead of printing changes line by line. */
  isTTY?: boolean;
  /** The raw streams, for commands that speak a protocol on stdio (`mcp connect`). */
  stdin?: Readable;
  stdoutStream?: Writable;
}

/** A command failure the user caused (bad flag, unreachable broker): one line, no stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure that is not the user's fault but needs no stack trace (a server went away, a task failed). */
export class CommandError extends Error {
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CommandError';
    this.exitCode = options.exitCode ?? 1;
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
    isTTY: process.stdout.isTTY === true,
    stdin: process.stdin,
    stdoutStream: process.stdout,
  };
}
