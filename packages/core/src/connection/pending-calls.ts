// The MQTT.js calls of one connection that wait for an acknowledgement: each honours its abort signal, and
// all of them reject when the connection closes.
import { MqttAgentsError, abortError } from '../errors.js';

interface Settler {
  reject(error: MqttAgentsError): void;
}

export class PendingCalls {
  readonly #pending = new Set<Settler>();

  /** Run one MQTT.js call with its callback, honouring the signal; a synchronous throw rejects with `code`. */
  track<T>(
    what: string,
    code: 'PUBLISH_FAILED' | 'SUBSCRIBE_FAILED',
    signal: AbortSignal | undefined,
    start: (resolve: (value: T) => void, reject: (error: MqttAgentsError) => void) => void,
  ): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError(signal, what));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settler: Settler = {
        reject: (error) => finish(() => reject(error)),
      };
      const onAbort = (): void => finish(() => reject(abortError(signal as AbortSignal, what)));
      const finish = (action: () => void): void => {
        if (settled) return;
        settled = true;
        this.#pending.delete(settler);
        signal?.removeEventListener('abort', onAbort);
        action();
      };
      this.#pending.add(settler);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        start(
          (value) => finish(() => resolve(value)),
          (error) => finish(() => reject(error)),
        );
      } catch (error) {
        finish(() => reject(new MqttAgentsError(code, `${what} failed`, { cause: error })));
      }
    });
  }

  rejectAll(error: MqttAgentsError): void {
    for (const settler of [...this.#pending]) settler.reject(error);
  }
}
