import { MqttAgentsError } from '@mqtt-agents/core';

/** Default most sessions one server host holds (initializing ones included). */
export const DEFAULT_MAX_SESSIONS = 1000;
/** Default most sessions of one broker-verified sender (`trustBrokerIdentity: true` only). */
export const DEFAULT_MAX_SESSIONS_PER_SENDER = 16;

/** A session's place in the host's limits; give it back with `release()` (idempotent). */
export interface SessionSlot {
  /** The verified sender it counts against, when the host trusts the broker's stamps. */
  readonly senderKey: string | undefined;
  release(): void;
}

/** Why a session was refused. */
export interface SessionRefusal {
  readonly limit: 'max-sessions' | 'max-sessions-per-sender';
  readonly max: number;
}

/**
 * Counts the sessions of a server host, in total and per verified sender, and refuses a new one beyond
 * the limits. A slot is taken synchronously before any I/O, so a flood of concurrent initializes cannot
 * slip past the limit while the first ones are still subscribing.
 */
export class SessionAdmission {
  private readonly maxSessions: number;
  private readonly maxPerSender: number;
  private readonly perSender = new Map<string, number>();
  private total = 0;

  constructor(options: { maxSessions: number; maxSessionsPerSender: number }) {
    this.maxSessions = options.maxSessions;
    this.maxPerSender = options.maxSessionsPerSender;
  }

  /** Sessions holding a slot. */
  get size(): number {
    return this.total;
  }

  /** Sessions counted against one sender. */
  countOf(senderKey: string): number {
    return this.perSender.get(senderKey) ?? 0;
  }

  admit(senderKey: string | undefined): SessionSlot | SessionRefusal {
    if (this.total >= this.maxSessions) return { limit: 'max-sessions', max: this.maxSessions };
    if (senderKey !== undefined && this.countOf(senderKey) >= this.maxPerSender) {
      return { limit: 'max-sessions-per-sender', max: this.maxPerSender };
    }
    this.total += 1;
    if (senderKey !== undefined) this.perSender.set(senderKey, this.countOf(senderKey) + 1);
    let released = false;
    return {
      senderKey,
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        if (senderKey === undefined) return;
        const left = this.countOf(senderKey) - 1;
        if (left > 0) this.perSender.set(senderKey, left);
        else this.perSender.delete(senderKey);
      },
    };
  }
}

export function isRefusal(value: SessionSlot | SessionRefusal): value is SessionRefusal {
  return 'limit' in value;
}

/** Check a limit option: a positive integer, or `Infinity` for no limit. */
export function sessionLimit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (value === Infinity || (Number.isInteger(value) && value >= 1)) return value;
  throw new MqttAgentsError(
    'INVALID_PAYLOAD',
    `serveMcpOverMqtt: ${name} must be a positive integer or Infinity, got ${String(value)}`,
  );
}

/** Check a timeout option in ms: a finite number >= 0, where 0 turns the timeout off. */
export function sessionTimeout(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (Number.isFinite(value) && value >= 0) return value;
  throw new MqttAgentsError(
    'INVALID_PAYLOAD',
    `serveMcpOverMqtt: ${name} must be a number of milliseconds >= 0 (0 turns it off), got ${String(value)}`,
  );
}
