/**
 * Will messages: taken from CONNECT, published when the connection ends without DISCONNECT 0x00, after
 * the Will Delay Interval or when the session ends, whichever comes first. A reconnect to the session
 * within the delay cancels it.
 */
import { isThenable, rewrittenMessage } from './hook-calls.js';
import { Message } from './message.js';
import type { BrokerHooks, BrokerLogger, ClientInfo, HookResult, PublishProperties, QoS } from './types.js';

export interface Will {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
  /** Properties forwarded with the message (the will delay is not one of them). */
  readonly properties: PublishProperties;
  /** Seconds to wait before publishing. */
  readonly delay: number;
  readonly client: ClientInfo;
}

interface PendingWill {
  readonly will: Will;
  readonly timer: NodeJS.Timeout;
}

/** Wills waiting for their delay, by client id. */
export class WillScheduler {
  private readonly pending = new Map<string, PendingWill>();
  private readonly publish: (will: Will) => void;

  constructor(publish: (will: Will) => void) {
    this.publish = publish;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Publish now (delay 0) or after `delaySeconds`. */
  schedule(clientId: string, will: Will, delaySeconds: number): void {
    this.cancel(clientId);
    if (delaySeconds <= 0) {
      this.publish(will);
      return;
    }
    const timer = setTimeout(() => this.flush(clientId), Math.min(delaySeconds * 1000, 0x7fffffff));
    timer.unref();
    this.pending.set(clientId, { will, timer });
  }

  /** The client reconnected to its session in time: the will is not sent. */
  cancel(clientId: string): boolean {
    const pending = this.pending.get(clientId);
    if (!pending) return false;
    clearTimeout(pending.timer);
    this.pending.delete(clientId);
    return true;
  }

  /** Publish a pending will now (its delay passed or its session ended). */
  flush(clientId: string): void {
    const pending = this.pending.get(clientId);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending.delete(clientId);
    this.publish(pending.will);
  }

  /** Drop every pending will without publishing (broker shutdown). */
  clear(): void {
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    this.pending.clear();
  }
}

/** What publishing a will needs of the broker. */
export interface WillPublisherOptions {
  readonly hooks: Pick<BrokerHooks, 'authorizePublish' | 'rewritePublish'>;
  readonly logger: BrokerLogger;
  /** True once the broker closes: wills are no longer published. */
  closing(): boolean;
  /** Accept a message for delivery (retained update, routing, events). */
  publish(message: Message, client: ClientInfo): void;
}

/** Publish a will (after the authorizePublish hook, which sees the will's client). */
export function createWillPublisher(options: WillPublisherOptions): (will: Will) => void {
  const { hooks, logger } = options;
  return (will) => {
    if (options.closing()) return;
    const message = Message.received(
      will.topic,
      will.payload,
      will.qos,
      will.retain,
      will.properties,
      will.client.id,
      Date.now(),
    );
    // A will is routed with the properties `rewritePublish` gives it, like any publish (identity stamping).
    const route = (): void => {
      const routed = rewrittenMessage(hooks, logger, will.client, message);
      if (routed !== undefined) options.publish(routed, will.client);
    };
    const authorize = hooks.authorizePublish;
    if (!authorize) {
      route();
      return;
    }
    const finish = (verdict: HookResult): void => {
      if (verdict === true && !options.closing()) route();
    };
    const failed = (error: unknown): void =>
      logger.error('mqtt-agents:broker: authorizePublish hook failed for a will', error);
    try {
      const verdict = authorize(will.client, message);
      if (isThenable(verdict)) verdict.then(finish, failed);
      else finish(verdict);
    } catch (error) {
      failed(error);
    }
  };
}
