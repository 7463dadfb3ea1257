import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { StdioServerParameters } from '@modelcontextprotocol/sdk/client/stdio.js';

/** How long a child gets to exit by itself once its stdin closed, before it is sent SIGTERM. */
const EXIT_GRACE_MS = 500;

/**
 * The SDK's stdio client transport (spawns the server, speaks newline-delimited JSON-RPC on its stdio),
 * with a shorter shutdown: the child gets half a second after its stdin closed, then SIGTERM.
 */
export class ChildProcessTransport extends StdioClientTransport {
  /** The command, without its arguments. */
  readonly command: string;
  readonly commandLine: string;
  #closing: Promise<void> | undefined;
  #starting: Promise<void> | undefined;

  constructor(parameters: StdioServerParameters) {
    super(parameters);
    this.command = parameters.command;
    this.commandLine = [parameters.command, ...(parameters.args ?? [])].join(' ');
  }

  /** Idempotent: a caller may start the child to see whether it starts, then hand it to a relay. */
  override start(): Promise<void> {
    this.#starting ??= super.start();
    return this.#starting;
  }

  override close(): Promise<void> {
    this.#closing ??= (async () => {
      const pid = this.pid;
      const timer = setTimeout(() => {
        if (pid === null) return;
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }, EXIT_GRACE_MS);
      try {
        await super.close();
      } finally {
        clearTimeout(timer);
      }
    })();
    return this.#closing;
  }
}

/** The spawn error as one line: `cannot start 'foo': command not found`. */
export function describeSpawnError(command: string, error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ENOENT') return `cannot start '${command}': command not found`;
  if (code === 'EACCES') return `cannot start '${command}': permission denied`;
  return `cannot start '${command}': ${(error as Error | undefined)?.message ?? String(error)}`;
}
