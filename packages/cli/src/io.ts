import type { Readable, Writable } from 'node:stream';

/** Where a command writes, and the signal that stops a foreground command. Tests pass their own. */
export interface CliIo {
  /** Write `text` to standard output as it is (the command adds its own newlines). */
  stdout(text: string): void;
  /** Write `text` to standard error as it is: diagnostics and progress, never a command's answer. */
  stderr(text: string): void;
  /**
   * Aborted when the user asks the command to stop (the first SIGINT/SIGTERM in a real process; a second
   * one exits at once).
   */
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

/**
 * What the process does on SIGINT or SIGTERM: the first one asks the command to stop (`stop`, which
 * aborts the command's signal: it closes, or drains, what it opened), a second one exits at once with
 * 128 + the signal's number, for a user who does not want to wait.
 */
export function stopSignalHandler(actions: {
  stop(): void;
  exit(code: number): void;
}): (signal: NodeJS.Signals) => void {
  let stopping = false;
  return (signal) => {
    if (!stopping) {
      stopping = true;
      actions.stop();
      return;
    }
    actions.exit(signal === 'SIGINT' ? 130 : 143);
  };
}

export function processIo(): CliIo {
  const controller = new AbortController();
  const onSignal = stopSignalHandler({
    stop: () => controller.abort(),
    exit: (code) => process.exit(code),
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
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
