// How a component reaches the broker. The `mqtt:` option type and `openConnection` are core's (the one
// connection seam of the SDK); this module keeps the names a2a's modules import, and the retry backoff wait.
import { abortError } from '@mqtt-agents/core';

export { openConnection } from '@mqtt-agents/core';
export type { MqttConnectionOptions, OpenedConnection } from '@mqtt-agents/core';

/** Wait `ms`, or reject with `ABORTED` when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal, 'retry backoff'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal, 'retry backoff'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
