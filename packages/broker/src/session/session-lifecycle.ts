/**
 * Sessions across connections: opening or resuming one on CONNECT (taking over the client id), ending it
 * or letting it expire when its connection goes, and the wills that go with both.
 */
import { randomBytes } from 'node:crypto';
import { shown } from '../logging.js';
import type { BrokerLogger } from '../types.js';
import { WillScheduler, type Will } from '../will.js';
import type {
  OutboundMessage,
  OverflowReason,
  SessionConnection,
  SessionLimits,
} from './outbound-message.js';
import type { Session } from './session.js';
import { SessionStore } from './session-store.js';

const OVERFLOW_REASONS: Record<OverflowReason, string> = {
  messages: 'its queue holds maximumQueuedMessages',
  bytes: 'it holds maximumQueuedBytes',
  'total-bytes': 'all sessions together hold maximumTotalQueuedBytes',
  'write-buffer': 'its client has not read maximumQueuedBytes already sent',
};
const NO_RELEASED: readonly OutboundMessage[] = [];

/** What the session lifecycle needs of a client's connection. */
export interface SessionClient extends SessionConnection {
  readonly clientId: string;
  readonly session: Session | undefined;
  /** Bind the connection to the session it opened. */
  attach(session: Session): void;
  /** Take the connection's will (it is published, scheduled or dropped by the caller). */
  takeWill(): Will | undefined;
  /**
   * Another connection took this client id: detach from the session, send DISCONNECT 0x8E and close.
   * Returns the will to publish, if it must be.
   */
  takeOver(sessionEnds: boolean): Will | undefined;
}

/** What the session lifecycle needs of the router. */
export interface SessionRouting {
  unsubscribeAll(session: Session): void;
  redeliver(entries: readonly OutboundMessage[], from: Session): OutboundMessage[];
}

export interface SessionLifecycleOptions {
  readonly limits: Pick<
    SessionLimits,
    'maximumQueuedMessages' | 'maximumQueuedBytes' | 'maximumTotalQueuedBytes'
  >;
  readonly maximumSessions: number;
  readonly logger: BrokerLogger;
  readonly router: SessionRouting;
  /** Publish a will (the broker applies its hooks). */
  publishWill(will: Will): void;
  /** True once the broker closes: nothing is re-dispatched and no will is published any more. */
  closing(): boolean;
}

export class SessionLifecycle {
  readonly #sessions = new SessionStore();
  /** Connected clients by client id. */
  readonly #clients = new Map<string, SessionClient>();
  readonly #wills: WillScheduler;
  readonly #limits: SessionLimits;
  readonly #options: SessionLifecycleOptions;

  constructor(options: SessionLifecycleOptions) {
    this.#options = options;
    this.#wills = new WillScheduler((will) => options.publishWill(will));
    const logger = options.logger;
    this.#limits = {
      maximumQueuedMessages: options.limits.maximumQueuedMessages,
      maximumQueuedBytes: options.limits.maximumQueuedBytes,
      maximumTotalQueuedBytes: options.limits.maximumTotalQueuedBytes,
      totalQueuedBytes: 0,
      onOverflow: (session, message, reason) =>
        logger.warn(
          `mqtt-agents:broker: dropping messages for '${shown(session.clientId)}' (first on '${shown(message.topic)}'): ${OVERFLOW_REASONS[reason]}; the newest messages are dropped until it has room again`,
        ),
      onRecovered: (session, dropped) =>
        logger.info(
          `mqtt-agents:broker: '${shown(session.clientId)}' has room again after ${dropped} dropped message(s)`,
        ),
    };
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  get clientIds(): readonly string[] {
    return [...this.#clients.keys()];
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  /** Bytes of QoS 1/2 messages all sessions hold, queued or in flight. */
  get queuedBytes(): number {
    return this.#limits.totalQueuedBytes;
  }

  get(clientId: string): Session | undefined {
    return this.#sessions.get(clientId);
  }

  /** True when a CONNECT for this client id would open a session beyond `maximumSessions`. */
  quotaReached(clientId: string): boolean {
    return this.#sessions.size >= this.#options.maximumSessions && this.#sessions.get(clientId) === undefined;
  }

  /** A client id for a client that sent none, used by no session and no connected client. */
  assignClientId(): string {
    for (;;) {
      const id = `mqtt-agents-${randomBytes(9).toString('base64url')}`;
      if (!this.#sessions.get(id) && !this.#clients.has(id)) return id;
    }
  }

  /**
   * Attach an accepted connection to its session: take over a connection with the same client id
   * (DISCONNECT 0x8E), end the old session on Clean Start (or when it would have ended with its
   * connection), else resume it and cancel its expiry and any pending will.
   */
  open(
    client: SessionClient,
    cleanStart: boolean,
    expiryInterval: number,
  ): { session: Session; sessionPresent: boolean } {
    const clientId = client.clientId;
    let session = this.#sessions.get(clientId);
    const sessionEnds = cleanStart || (session !== undefined && session.expiryInterval === 0);
    const previous = this.#clients.get(clientId);
    let takenOverWill: Will | undefined;
    if (previous && previous !== client) takenOverWill = previous.takeOver(sessionEnds);
    if (session && sessionEnds) {
      this.end(session);
      session = undefined;
    } else if (session) {
      this.#wills.cancel(clientId);
      this.#sessions.cancelExpiry(session);
    }
    if (takenOverWill) this.#options.publishWill(takenOverWill);
    const sessionPresent = session !== undefined;
    session ??= this.#sessions.create(clientId, this.#limits);
    session.expiryInterval = expiryInterval;
    session.connection = client;
    client.attach(session);
    this.#clients.set(clientId, client);
    return { session, sessionPresent };
  }

  /** A connected client's connection ended (any cause): its will, session expiry, shared re-dispatch. */
  connectionEnded(client: SessionClient): void {
    const clientId = client.clientId;
    if (this.#clients.get(clientId) === client) this.#clients.delete(clientId);
    const session = client.session;
    if (!session || session.connection !== client) return;
    session.connection = undefined;
    const will = client.takeWill();
    const shuttingDown = this.#options.closing();
    const ends = session.expiryInterval === 0 || shuttingDown;
    const released = shuttingDown ? NO_RELEASED : session.releaseShared();
    if (ends) this.end(session);
    else this.#sessions.scheduleExpiry(session, this.#expire);
    if (released.length > 0) {
      const orphans = this.#options.router.redeliver(released, session);
      if (!ends) for (const orphan of orphans) session.enqueue(orphan);
    }
    if (will && !shuttingDown) {
      if (ends) this.#options.publishWill(will);
      else this.#wills.schedule(clientId, will, Math.min(will.delay, session.expiryInterval));
    }
  }

  readonly #expire = (session: Session): void => {
    if (!session.connection && !session.ended) this.end(session);
  };

  /** End a session: drop its subscriptions and messages (shared ones go to other members), publish its pending will. */
  end(session: Session): void {
    if (session.ended) return;
    this.#options.router.unsubscribeAll(session);
    const released = this.#options.closing() ? NO_RELEASED : session.releaseShared();
    session.clear();
    this.#sessions.delete(session);
    if (released.length > 0) this.#options.router.redeliver(released, session);
    this.#wills.flush(session.clientId);
  }

  /** Drop pending wills without publishing them (the broker closes). */
  dropWills(): void {
    this.#wills.clear();
  }

  clear(): void {
    this.#wills.clear();
    this.#sessions.clear();
    this.#clients.clear();
  }
}
