import type { Logger } from '@mqtt-agents/core';

type Listener = (...args: never[]) => void;

/** A minimal typed event emitter: `on()` returns the function that removes the listener. */
export class TypedEvents<Events extends { [E in keyof Events]: (...args: never[]) => void }> {
  private readonly listeners = new Map<keyof Events, Set<Listener>>();
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      this.listeners.get(event)?.delete(listener);
    };
  }

  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as unknown as (...values: unknown[]) => void)(...args);
      } catch (error) {
        this.logger.error(`'${String(event)}' listener failed`, error);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
