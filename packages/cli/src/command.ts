import type { CliIo } from './io.js';

/** What a command runs with: the io of the process, and whether `--debug` was given. */
export interface CommandContext extends CliIo {
  debug: boolean;
}

export interface Command {
  /** The full `--help` text. */
  help: string;
  /** Run with the arguments after the command name; resolves with the exit code. */
  run(argv: string[], context: CommandContext): Promise<number>;
}

/** Wait until the signal aborts (the user pressed Ctrl-C or the process got SIGTERM). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
