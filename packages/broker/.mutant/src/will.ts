/**
 * Will messages: taken from CONNECT, published when the connection ends without DISCONNECT 0x00, after
 * the Will Delay Interval or when the session ends, whichever comes first. A reconnect to the session
 * within the delay cancels it.
 */
import type { ClientInfo, PublishProperties, QoS } from './types.js';

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
