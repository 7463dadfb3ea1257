// Socket tuning for one MQTT.js client: TCP_NODELAY on every (re)connected socket, and corking the socket
// for the rest of an event-loop turn so the packets of one turn leave in one write.
import type { MqttClient } from 'mqtt';
import type { Logger } from '../logger.js';

/**
 * Turn Nagle's algorithm off on a TCP (or TLS) stream. Duck-typed so the root entry stays runtime-neutral:
 * WebSocket streams have no `setNoDelay` and are left alone (the `ws` package sets TCP_NODELAY itself).
 * Returns whether it was set.
 */
export function setTcpNoDelay(stream: unknown): boolean {
  if (typeof stream !== 'object' || stream === null) return false;
  const candidate = stream as { setNoDelay?: unknown };
  if (typeof candidate.setNoDelay !== 'function') return false;
  (candidate.setNoDelay as (noDelay: boolean) => unknown).call(stream, true);
  return true;
}

interface Corkable {
  cork(): void;
  uncork(): void;
}

/** Runs a callback after the I/O callbacks of the current event-loop turn; `undefined` where there is none. */
const scheduleAfterIo = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;

/** The socket tuning of one client; stateless towards the client apart from the flags it sets. */
export class SocketTuning {
  readonly #client: MqttClient;
  readonly #logger: Logger;
  readonly #streamsWithNoDelay = new WeakSet<object>();
  /** The stream corked until the end of this event-loop turn, if any (see `batchWrites`). */
  #corked: Corkable | undefined;

  constructor(client: MqttClient, logger: Logger) {
    this.#client = client;
    this.#logger = logger;
  }

  /** Set TCP_NODELAY on the client's current stream, once per stream. */
  applyNoDelay(): void {
    const stream = (this.#client as { stream?: unknown }).stream;
    if (typeof stream !== 'object' || stream === null || this.#streamsWithNoDelay.has(stream)) return;
    try {
      if (setTcpNoDelay(stream)) this.#streamsWithNoDelay.add(stream);
    } catch (error) {
      this.#logger.debug('could not set TCP_NODELAY', error);
    }
  }

  /**
   * Keep the socket corked until the end of the current event-loop turn, so that every packet this turn
   * produces (the PUBACKs and replies for a whole network read, a burst of requests) leaves in one `writev`
   * instead of one system call per packet (mqtt-packet uncorks after each packet on the next tick). With
   * TCP_NODELAY set, this is the only batching there is. Skipped where the stream cannot cork or there is
   * no `setImmediate` (browsers): a timer would add latency instead of removing system calls.
   */
  batchWrites(): void {
    if (this.#corked || scheduleAfterIo === undefined) return;
    const stream = (this.#client as { stream?: unknown }).stream as Partial<Corkable> | null | undefined;
    if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return;
    const corked = stream as Corkable;
    this.#corked = corked;
    corked.cork();
    scheduleAfterIo(() => {
      this.#corked = undefined;
      corked.uncork();
    });
  }
}
