/** Log lines the broker writes: wire values and messages escaped and cut, so a line stays one line. */
import { printable } from '@mqtt-agents/core/grammar';
import type { BrokerLogger } from './types.js';

/** Longest wire value (client id, topic) quoted in a log line. */
const LOGGED_VALUE_LENGTH = 120;
/** Longest log message the broker hands to its logger. */
export const LOGGED_MESSAGE_LENGTH = 2000;

/** A wire value made safe for a log line: control characters escaped, cut to a sane length. */
export function shown(value: string): string {
  return printable(value, LOGGED_VALUE_LENGTH);
}

/**
 * The logger, with every message escaped once more on the way out: whatever a hook or a future call site
 * puts in a message, a log line stays one line without terminal escapes. Details pass unchanged.
 */
export function escapingLogger(logger: BrokerLogger): BrokerLogger {
  return {
    debug: (message, ...details) => logger.debug(printable(message, LOGGED_MESSAGE_LENGTH), ...details),
    info: (message, ...details) => logger.info(printable(message, LOGGED_MESSAGE_LENGTH), ...details),
    warn: (message, ...details) => logger.warn(printable(message, LOGGED_MESSAGE_LENGTH), ...details),
    error: (message, ...details) => logger.error(printable(message, LOGGED_MESSAGE_LENGTH), ...details),
  };
}

export const SILENT_LOGGER: BrokerLogger = { debug() {}, info() {}, warn() {}, error() {} };
