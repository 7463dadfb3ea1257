// The reply topic subscription of one engine: in place before the first request, restored after a reconnect
// on a fresh session, and a gate that holds new requests while it is not known to be in place.
import type {
  ConnackInfo,
  ConnectionDropInfo,
  MqttConnection,
  MqttMessage,
  MqttQoS,
} from '../connection/types.js';
import { MqttAgentsError } from '../errors.js';
import type { Logger } from '../logger.js';

const UNSUBSCRIBE_ON_CLOSE_TIMEOUT_MS = 2_000;

interface Gate {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
  settled: boolean;
}

function openGate(): Gate {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  promise.catch(() => {});
  const gate: Gate = {
    promise,
    settled: false,
    resolve: () => {
      gate.settled = true;
      resolve();
    },
    reject: (error) => {
      gate.settled = true;
      reject(error);
    },
  };
  return gate;
}

function closedGate(): Gate {
  const gate = openGate();
  gate.resolve();
  return gate;
}

export interface ReplySubscriptionOptions {
  connection: MqttConnection;
  replyTopic: string;
  qos: MqttQoS;
  logger: Logger;
  rejectOnDisconnect: boolean;
  onReply(reply: MqttMessage): void;
  /** The link dropped and pending requests must fail now (no reconnect, or `rejectOnDisconnect`). */
  onLost(error: MqttAgentsError): void;
  /** The connection closed for good. */
  onConnectionClosed(): void;
}

export class ReplySubscription {
  readonly #options: ReplySubscriptionOptions;
  readonly #cleanups: Array<() => void> = [];
  /** Requests wait here while the reply subscription is not known to be in place (after a drop). */
  #gate: Gate = closedGate();
  #generation = 0;
  #closed = false;

  constructor(options: ReplySubscriptionOptions) {
    this.#options = options;
  }

  /** Route replies, follow the connection's events, subscribe and wait for SUBACK. */
  async start(signal: AbortSignal | undefined): Promise<void> {
    const { connection, replyTopic, qos } = this.#options;
    this.#cleanups.push(connection.addMessageHandler(replyTopic, (reply) => this.#options.onReply(reply)));
    this.#cleanups.push(connection.on('connection-drop', (info) => this.#onDrop(info)));
    this.#cleanups.push(connection.on('connection-open', (connack) => this.#onOpen(connack)));
    this.#cleanups.push(connection.on('connection-close', () => this.#options.onConnectionClosed()));
    await connection.subscribe(replyTopic, { qos, ...(signal ? { signal } : {}) });
  }

  /** Resolves when new requests may be published; rejects when the subscription could not be restored. */
  ready(): Promise<void> {
    return this.#gate.promise;
  }

  #onDrop(info: ConnectionDropInfo): void {
    this.#generation++;
    if (this.#gate.settled) this.#gate = openGate();
    if (this.#options.rejectOnDisconnect || !info.willReconnect) {
      this.#options.onLost(
        new MqttAgentsError('CONNECTION_CLOSED', 'the connection to the broker was lost', {
          cause: info.error,
          details: { willReconnect: info.willReconnect },
        }),
      );
    }
  }

  #onOpen(connack: ConnackInfo): void {
    const gate = this.#gate.settled ? (this.#gate = openGate()) : this.#gate;
    if (connack.sessionPresent) {
      gate.resolve();
      return;
    }
    // A fresh session has no subscriptions: subscribe again and hold new requests until SUBACK.
    const { connection, replyTopic, qos, logger } = this.#options;
    const generation = this.#generation;
    connection.subscribe(replyTopic, { qos }).then(
      () => {
        if (generation === this.#generation) gate.resolve();
      },
      (error: unknown) => {
        if (generation !== this.#generation || this.#closed) return;
        logger.error(`could not subscribe to the reply topic '${replyTopic}' again`, error);
        gate.reject(error);
      },
    );
  }

  /** Stop following the connection, fail waiting requests with `error`, and optionally unsubscribe. */
  async close(error: MqttAgentsError, unsubscribe: boolean): Promise<void> {
    this.#closed = true;
    this.#generation++;
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    if (!this.#gate.settled) this.#gate.reject(error);
    const { connection, replyTopic, logger } = this.#options;
    if (!unsubscribe || connection.closed) return;
    try {
      await connection.unsubscribe(replyTopic, {
        signal: AbortSignal.timeout(UNSUBSCRIBE_ON_CLOSE_TIMEOUT_MS),
      });
    } catch (cause) {
      logger.debug(`could not unsubscribe from '${replyTopic}'`, cause);
    }
  }
}
