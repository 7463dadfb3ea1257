// Waiting for the first CONNACK of a client: the first attempt fails fast (refusal, closed socket, timeout,
// abort) instead of letting MQTT.js reconnect forever.
import type { MqttClient } from 'mqtt';
import { MqttAgentsError, abortError } from '../errors.js';
import { describeReasonCode, reasonCodeOf } from './reason-codes.js';

export interface FirstConnectOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** The broker URL, for messages and `details.url`, when known. */
  url?: string | undefined;
}

function connectFailed(cause: Error | undefined, url: string | undefined): MqttAgentsError {
  const reasonCode = reasonCodeOf(cause);
  const networkCode = (cause as { code?: unknown } | undefined)?.code;
  const target = url ? ` to ${url}` : '';
  const why =
    reasonCode !== undefined
      ? `broker refused with ${describeReasonCode(reasonCode)}`
      : (cause?.message ?? 'connection closed before CONNACK');
  return new MqttAgentsError('CONNECT_FAILED', `connect${target} failed: ${why}`, {
    cause,
    details: {
      ...(url ? { url } : {}),
      ...(reasonCode !== undefined ? { reasonCode } : {}),
      ...(typeof networkCode === 'string' ? { networkCode } : {}),
    },
  });
}

/** Resolve on the client's first successful connect; reject with `CONNECT_FAILED` or `ABORTED`. */
export function waitForFirstConnect(client: MqttClient, options: FirstConnectOptions): Promise<void> {
  const { timeoutMs, signal, url } = options;
  if (client.connected) return Promise.resolve();
  if (client.disconnecting || client.disconnected) {
    return Promise.reject(
      new MqttAgentsError('CONNECT_FAILED', 'cannot connect: the mqtt client has been ended'),
    );
  }
  return new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      client.removeListener('connect', onConnect);
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      client.removeListener('end', onClose);
    };
    const fail = (error: MqttAgentsError): void => {
      cleanup();
      reject(error);
    };
    const onConnect = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      lastError = error;
      // A CONNACK refusal carries its reason code; nothing good follows it on this attempt.
      if (reasonCodeOf(error) !== undefined) fail(connectFailed(error, url));
    };
    const onClose = (): void => fail(connectFailed(lastError, url));
    const onAbort = (): void => fail(abortError(signal as AbortSignal, 'connect'));
    const timer = setTimeout(() => {
      fail(
        new MqttAgentsError(
          'CONNECT_FAILED',
          `connect${url ? ` to ${url}` : ''} timed out after ${timeoutMs} ms`,
          {
            cause: lastError,
            details: { ...(url ? { url } : {}), timeoutMs },
          },
        ),
      );
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
    client.on('end', onClose);
  });
}
