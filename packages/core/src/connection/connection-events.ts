// The typed `connection-open` / `connection-drop` / `connection-close` emitter of one connection.
import type { Logger } from '../logger.js';
import type { MqttConnectionEvents } from './types.js';

type Listener = (...args: never[]) => void;

/** Listener errors are logged, never rethrown; `emit` iterates a copy, so listeners may unsubscribe. */
export class ConnectionEvents {
  readonly #logger: Logger;
  readonly #listeners = new Map<keyof MqttConnectionEvents, Set<Listener>>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  on<E extends keyof MqttConnectionEvents>(event: E, listener: MqttConnectionEvents[E]): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    const entry = listener as unknown as Listener;
    set.add(entry);
    return () => {
      this.#listeners.get(event)?.delete(entry);
    };
  }

  emit<E extends keyof MqttConnectionEvents>(event: E, ...args: Parameters<MqttConnectionEvents[E]>): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (listener as (...values: unknown[]) => void)(...args);
      } catch (error) {
        this.#logger.error(`'${event}' listener failed`, error);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
