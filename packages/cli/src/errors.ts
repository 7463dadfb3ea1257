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

const WEBSOCKET_SCHEMES = ['ws:', 'wss:'];
const SOCKET_SCHEMES = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:'];

/**
 * What the URL most likely got wrong, when the failure has the signature of a wrong scheme or path: a
 * WebSocket url without a path (brokers serve MQTT over WebSocket at one, most often /mqtt, and close
 * anything else), an mqtt:// url to a WebSocket (or other non-MQTT) port, whose HTTP answer the MQTT parser
 * reads as a broken packet, and a ws:// url to a plain MQTT port, which hangs up on the HTTP upgrade.
 */
function urlHint(
  url: string,
  details: { reasonCode?: number; networkCode?: string },
  cause: unknown,
): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '';
  }
  if (details.reasonCode !== undefined) return '';
  const networkCode = details.networkCode;
  if (WEBSOCKET_SCHEMES.includes(parsed.protocol)) {
    if (networkCode === undefined && (parsed.pathname === '' || parsed.pathname === '/')) {
      return `; the url has no WebSocket path: brokers serve MQTT over WebSocket at a path, most often /mqtt (try ${parsed.protocol}//${parsed.host}/mqtt)`;
    }
    if (networkCode === 'ECONNRESET') {
      const scheme = parsed.protocol === 'wss:' ? 'mqtts' : 'mqtt';
      return `; the server did not accept a WebSocket: if ${parsed.host} is a plain MQTT port, use ${scheme}://${parsed.host}`;
    }
    return '';
  }
  if (SOCKET_SCHEMES.includes(parsed.protocol) && networkCode === undefined && cause instanceof Error) {
    const scheme = parsed.protocol === 'mqtts:' || parsed.protocol === 'ssl:' ? 'wss' : 'ws';
    return `; the server at ${parsed.host} does not speak MQTT over TCP: if it is a WebSocket port, use ${scheme}://${parsed.host}/mqtt`;
  }
  return '';
}

function describe(error: unknown): string {
  if (MqttAgentsError.isInstance(error) && error.code === 'CONNECT_FAILED') {
    const details = (error.details ?? {}) as {
      url?: string;
      networkCode?: string;
      reasonCode?: number;
      timeoutMs?: number;
    };
    const where = details.url ? ` at ${details.url}` : '';
    const hint = details.url ? urlHint(details.url, details, error.cause) : '';
    const reason = details.networkCode ? NETWORK_REASONS[details.networkCode] : undefined;
    if (reason) return `cannot reach the broker${where}: ${reason}${hint}`;
    if (details.timeoutMs !== undefined) {
      return `cannot reach the broker${where}: no answer within ${details.timeoutMs} ms`;
    }
    return `${error.message.replace(/^connect( to \S+)? failed: /, `cannot connect to the broker${where}: `)}${hint}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
