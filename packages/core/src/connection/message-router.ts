// One message dispatcher per connection: every received PUBLISH goes to each handler whose filter matches.
import type { IPublishPacket } from 'mqtt';
import type { Logger } from '../logger.js';
import { matchTopicFilter } from '../topic-filter.js';
import type { MqttMessage, MqttMessageHandler } from './types.js';
import { toMessage } from './wire.js';

interface Route {
  readonly filter: string;
  readonly handler: MqttMessageHandler;
}

/** Routes messages to handlers by topic filter (a shared subscription matches what its inner filter does). */
export class MessageRouter {
  readonly #logger: Logger;
  readonly #routes = new Set<Route>();
  /** `[...#routes]`, rebuilt only after a handler was added or removed. */
  #snapshot: readonly Route[] | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Returns the function that removes the handler. */
  add(filter: string, handler: MqttMessageHandler): () => void {
    const route = { filter, handler };
    this.#routes.add(route);
    this.#snapshot = undefined;
    return () => {
      if (this.#routes.delete(route)) this.#snapshot = undefined;
    };
  }

  clear(): void {
    this.#routes.clear();
    this.#snapshot = undefined;
  }

  /** Hand one PUBLISH to every matching handler. Handler errors are logged, never rethrown. */
  dispatch(topic: string, payload: Uint8Array, packet: IPublishPacket): void {
    let message: MqttMessage | undefined;
    let matched = false;
    // A snapshot, so a handler added while dispatching does not get this message; removed ones are skipped.
    const routes = (this.#snapshot ??= [...this.#routes]);
    for (const route of routes) {
      if (!this.#routes.has(route)) continue;
      let matches: boolean;
      try {
        matches = matchTopicFilter(route.filter, topic);
      } catch {
        matches = false;
      }
      if (!matches) continue;
      matched = true;
      message ??= toMessage(packet, topic, payload);
      this.#call(route, message);
    }
    if (!matched) this.#logger.debug(`no handler for message on '${topic}'`);
  }

  #call(route: Route, message: MqttMessage): void {
    try {
      const result = route.handler(message);
      if (result && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).catch((error: unknown) =>
          this.#logger.error(`message handler for '${route.filter}' failed`, error),
        );
      }
    } catch (error) {
      this.#logger.error(`message handler for '${route.filter}' failed`, error);
    }
  }
}
