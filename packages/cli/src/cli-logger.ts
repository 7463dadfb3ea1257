import { printable, type Logger } from '@mqtt-agents/core';
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

export interface CliLogger extends Logger {
  /** The command is connected: from now on, MQTT client errors (a broker going away) are warnings. */
  ready(): void;
  /** Progress the user asked for by stopping the command (a drain): always on stderr, one line. */
  notice(message: string): void;
}

/**
 * The logger the SDK packages get from a command: warnings and errors go to stderr as one line each,
 * info and debug only with `--debug`. Never stdout (it may carry a protocol, as in `mcp connect`).
 * Until `ready()`, MQTT client errors are debug output: a failed first connect is reported by the
 * command itself, in one line.
 */
export function cliLogger(io: CliIo, prefix: string, debug: boolean): CliLogger {
  let connected = false;
  let lastWarning = '';
  const write =
    (level: string) =>
    (message: string, ...details: unknown[]): void => {
      const suffix = details.length > 0 ? ` (${details.map(format).join(', ')})` : '';
      // Log messages and their details carry values from the wire: one escaped line each.
      io.stderr(`${prefix}: ${level}${printable(`${message}${suffix}`, 2000)}\n`);
    };
  const debugWrite = debug ? write('debug: ') : () => {};
  const warn = write('warning: ');
  const infoWrite = write('');
  return {
    debug: debugWrite,
    warn: (message, ...details) => {
      if (!connected && message.startsWith('mqtt client error')) {
        debugWrite(message, ...details);
      } else if (message !== lastWarning) {
        // A broker that is down makes every reconnect attempt fail the same way: say it once.
        lastWarning = message;
        warn(message, ...details);
      }
    },
    error: write('error: '),
    info: (message, ...details) => {
      lastWarning = ''; // something happened (a reconnect): the next warning is news again
      if (debug) infoWrite(message, ...details);
    },
    ready() {
      connected = true;
    },
    notice: (message) => infoWrite(message),
  };
}
