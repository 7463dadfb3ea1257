/** The sessions of a broker, by client id, with their expiry timers. */
import { Session } from './session.js';
import type { SessionLimits } from './outbound-message.js';

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  get size(): number {
    return this.sessions.size;
  }

  get(clientId: string): Session | undefined {
    return this.sessions.get(clientId);
  }

  create(clientId: string, limits: SessionLimits): Session {
    const session = new Session(clientId, limits);
    this.sessions.set(clientId, session);
    return session;
  }

  /** Remove a session (its subscriptions must have been removed by the caller). */
  delete(session: Session): void {
    this.cancelExpiry(session);
    session.ended = true;
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
  }

  /** Start the expiry timer of a session whose client went away. 0xFFFFFFFF never expires. */
  scheduleExpiry(session: Session, onExpire: (session: Session) => void): void {
    this.cancelExpiry(session);
    if (session.expiryInterval >= 0xffffffff) return;
    // setTimeout overflows above 2^31-1 ms (about 24.8 days): re-arm in steps.
    const schedule = (remainingMs: number): void => {
      const step = Math.min(remainingMs, 0x7fffffff);
      session.expiryTimer = setTimeout(() => {
        if (remainingMs > step) schedule(remainingMs - step);
        else {
          session.expiryTimer = undefined;
          onExpire(session);
        }
      }, step);
      session.expiryTimer.unref();
    };
    schedule(session.expiryInterval * 1000);
  }

  cancelExpiry(session: Session): void {
    if (session.expiryTimer) {
      clearTimeout(session.expiryTimer);
      session.expiryTimer = undefined;
    }
  }

  values(): IterableIterator<Session> {
    return this.sessions.values();
  }

  clear(): void {
    for (const session of this.sessions.values()) this.cancelExpiry(session);
    this.sessions.clear();
  }
}
