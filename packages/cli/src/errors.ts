import { MqttAgentsError, printable } from '@mqtt-agents/core';

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is a broker running there? `mqtt-agents broker` starts one)',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset by the broker',
  EHOSTUNREACH: 'host unreachable',
  ETIMEDOUT: 'connection timed out',
};

/**
 * One line that says what went wrong, in the user's terms. Error messages can carry values from the wire
 * (an agent's error text, a topic): they are escaped, so the line stays one line without terminal escapes.
 */
export function describeError(error: unknown): string {
  return printable(describe(error), 2000);
}

function describe(error: unknown): string {
  if (MqttAgentsError.isInstance(error) && error.code === 'CONNECT_FAILED') {
    const details = (error.details ?? {}) as { url?: string; networkCode?: string; timeoutMs?: number };
    const where = details.url ? ` at ${details.url}` : '';
    const reason = details.networkCode ? NETWORK_REASONS[details.networkCode] : undefined;
    if (reason) return `cannot reach the broker${where}: ${reason}`;
    if (details.timeoutMs !== undefined) {
      return `cannot reach the broker${where}: no answer within ${details.timeoutMs} ms`;
    }
    return error.message.replace(/^connect( to \S+)? failed: /, `cannot connect to the broker${where}: `);
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
