/**
 * The agent's memory of recent requests for duplicate detection, bounded by time first: an entry lives
 * until its request is answered and then `windowMs` longer, whatever the traffic. Memory is bounded per
 * requester (entries and estimated bytes) and in total: an `add()` over a limit is refused, never made room
 * for by forgetting someone else's entry, so a flooder runs into its own limit (and the caller answers it
 * `responder_unavailable`) while other requesters are served.
 */
export interface DuplicateWindowOptions {
  /** How long an answered request is remembered, in ms. */
  windowMs: number;
  /** Entries one requester may hold (in flight and answered within the window). */
  maxEntriesPerRequester: number;
  /** Estimated bytes one requester may hold. */
  maxBytesPerRequester: number;
  /** Entries of all requesters together. */
  maxEntries: number;
  /** Estimated bytes of all requesters together. */
  maxBytes: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/** Why an `add()` was refused. */
export type WindowRefusal = 'requester-entries' | 'requester-bytes' | 'entries' | 'bytes';

interface Entry<V> {
  readonly value: V;
  readonly requester: string;
  bytes: number;
  /** `Infinity` while the request is in flight. */
  expiresAt: number;
}

interface Usage {
  entries: number;
  bytes: number;
}

/** Fixed cost of one entry (map slots, entry object, the record it holds), added to the key's length. */
export const WINDOW_ENTRY_OVERHEAD_BYTES = 512;

export class DuplicateWindow<V> {
  private readonly options: DuplicateWindowOptions;
  private readonly now: () => number;
  /** Requests in flight: they never expire. */
  private readonly pending = new Map<string, Entry<V>>();
  /** Answered requests, in the order they expire. */
  private readonly settled = new Map<string, Entry<V>>();
  private readonly usage = new Map<string, Usage>();
  private totalBytes = 0;

  constructor(options: DuplicateWindowOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Entries held, in flight and answered. */
  get size(): number {
    return this.pending.size + this.settled.size;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Entries and estimated bytes `requester` holds. */
  usageOf(requester: string): { entries: number; bytes: number } {
    const usage = this.usage.get(requester);
    return { entries: usage?.entries ?? 0, bytes: usage?.bytes ?? 0 };
  }

  get(key: string): { value: V; requester: string } | undefined {
    this.prune();
    return this.pending.get(key) ?? this.settled.get(key);
  }

  /**
   * Remember `key` (in flight) for `requester`. Refused, with the limit that was hit, when the requester or
   * the whole window is full; an existing key is left as it is (callers `get()` first).
   */
  add(key: string, requester: string, value: V): { ok: true } | { ok: false; refusal: WindowRefusal } {
    this.prune();
    if (this.pending.has(key) || this.settled.has(key)) return { ok: true };
    const bytes = WINDOW_ENTRY_OVERHEAD_BYTES + 2 * (key.length + requester.length);
    const usage = this.usage.get(requester) ?? { entries: 0, bytes: 0 };
    const refusal: WindowRefusal | undefined =
      usage.entries + 1 > this.options.maxEntriesPerRequester
        ? 'requester-entries'
        : usage.bytes + bytes > this.options.maxBytesPerRequester
          ? 'requester-bytes'
          : this.size + 1 > this.options.maxEntries
            ? 'entries'
            : this.totalBytes + bytes > this.options.maxBytes
              ? 'bytes'
              : undefined;
    if (refusal) return { ok: false, refusal };
    usage.entries++;
    usage.bytes += bytes;
    this.usage.set(requester, usage);
    this.totalBytes += bytes;
    this.pending.set(key, { value, requester, bytes, expiresAt: Infinity });
    return { ok: true };
  }

  /**
   * The request of `key` is answered: it is remembered `windowMs` from now, and `extraBytes` (the answer it
   * keeps for duplicates) are added to its size. An answer that would take its requester or the window over
   * the byte limit is counted all the same: the request ran, so it must be remembered; later `add()`s wait.
   */
  settle(key: string, extraBytes = 0): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    this.pending.delete(key);
    this.resize(entry, entry.bytes + Math.max(0, extraBytes));
    entry.expiresAt = this.now() + this.options.windowMs;
    this.settled.set(key, entry);
  }

  /** Forget `key` at once (its request never ran, so a retry may run it). */
  delete(key: string): void {
    const entry = this.pending.get(key) ?? this.settled.get(key);
    if (!entry) return;
    this.pending.delete(key);
    this.settled.delete(key);
    this.release(entry);
  }

  private resize(entry: Entry<V>, bytes: number): void {
    const usage = this.usage.get(entry.requester);
    if (usage) usage.bytes += bytes - entry.bytes;
    this.totalBytes += bytes - entry.bytes;
    entry.bytes = bytes;
  }

  private release(entry: Entry<V>): void {
    this.totalBytes -= entry.bytes;
    const usage = this.usage.get(entry.requester);
    if (!usage) return;
    usage.entries--;
    usage.bytes -= entry.bytes;
    if (usage.entries <= 0) this.usage.delete(entry.requester);
  }

  /** Drop answered entries whose window has passed (they are in expiry order). */
  private prune(): void {
    const now = this.now();
    for (const [key, entry] of this.settled) {
      if (entry.expiresAt > now) break;
      this.settled.delete(key);
      this.release(entry);
    }
  }
}
