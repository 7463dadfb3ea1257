import type { Logger } from '@mqtt-agents/core';
import type { CliIo } from './io.js';

function format(detail: unknown): string {
  if (detail instanceof Error) return detail.message;
  if (typeof detail === 'string') return detail;
  try {
    return JSON.stringify(detail);
  } catch {
    return String(detail);
  }
}

/**
 * The logger the SDK packages get from a command: warnings and errors go to stderr as one line each,
 * info and debug only with `--debug`. Never stdout (it may carry a protocol, as in `mcp connect`).
 */
export function cliLogger(io: CliIo, prefix: string, debug: boolean): Logger {
  const write =
    (level: string) =>
    (message: string, ...details: unknown[]): void => {
      const suffix = details.length > 0 ? ` (${details.map(format).join(', ')})` : '';
      io.stderr(`${prefix}: ${level}${message}${suffix}\n`);
    };
  return {
    debug: debug ? write('debug: ') : () => {},
    info: debug ? write('') : () => {},
    warn: write('warning: '),
    error: write('error: '),
  };
}
