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

/** Something a command opened and closes when it stops. */
export interface Closable {
  close(): Promise<unknown>;
}

/** Close what a command opened, in order: each one after the previous one finished closing. */
export async function closeInOrder(resources: readonly Closable[]): Promise<void> {
  for (const resource of resources) await resource.close();
}

/**
 * Serve until the user stops the command: wait for the abort, say so, close `resources` in order, let
 * `watch` (the loop that prints discovery changes) finish, and exit 0.
 */
export async function serveUntilAborted(
  context: CommandContext,
  name: string,
  resources: readonly Closable[],
  watch: Promise<unknown>,
): Promise<number> {
  await untilAborted(context.signal);
  context.stdout(`mqtt-agents ${name}: shutting down\n`);
  await closeInOrder(resources);
  await watch.catch(() => {});
  return 0;
}
