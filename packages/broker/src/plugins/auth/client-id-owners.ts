// Who holds each client id: the credential whose client connected with it. While that client is connected,
// or the broker keeps its session, only the same credential may connect with the id again (session takeover
// by another credential is refused), even when the other credential's patterns allow the id too.
// Entries go when the session goes: checked on every lookup, and swept when the table outgrows the sessions.

/** The key of a principal in the table: method and name (`password:planner`, `jwt:svc-1`, `mtls:CN`). */
export type OwnerKey = string;

export interface ClientIdOwnersOptions {
  /** True while the broker holds a session for the client id (`broker.hasSession`). */
  holds(clientId: string): boolean;
  /** How many sessions the broker holds now (for the sweep threshold). */
  sessionCount(): number;
  /** Milliseconds a claim made at CONNECT waits for the client to be accepted; default 10000. */
  claimTimeout?: number;
  now?: () => number;
}

interface Owner {
  key: OwnerKey;
  /** Set while the CONNECT that claimed the id has not been accepted yet: until when the claim holds. */
  pendingUntil: number | undefined;
}

/** The table of client-id owners (bounded: stale entries are swept once it outgrows the live sessions). */
export class ClientIdOwners {
  private readonly owners = new Map<string, Owner>();
  private readonly options: ClientIdOwnersOptions;
  private readonly claimTimeout: number;
  private readonly now: () => number;

  constructor(options: ClientIdOwnersOptions) {
    this.options = options;
    this.claimTimeout = options.claimTimeout ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.owners.size;
  }

  private isStale(clientId: string, owner: Owner): boolean {
    if (this.options.holds(clientId)) return false;
    return owner.pendingUntil === undefined || owner.pendingUntil <= this.now();
  }

  /** The credential holding a client id, if its client is connected, its session is kept or its claim is fresh. */
  ownerOf(clientId: string): OwnerKey | undefined {
    const owner = this.owners.get(clientId);
    if (!owner) return undefined;
    if (this.isStale(clientId, owner)) {
      this.owners.delete(clientId);
      return undefined;
    }
    return owner.key;
  }

  /**
   * Claim a client id for a CONNECT being authenticated: true when it is free or already held by `key`
   * (then it stays claimed until the client is accepted or the claim times out); false when another holds it.
   */
  claim(clientId: string, key: OwnerKey): boolean {
    const current = this.ownerOf(clientId);
    if (current !== undefined && current !== key) return false;
    const existing = this.owners.get(clientId);
    if (existing) {
      if (existing.pendingUntil !== undefined) existing.pendingUntil = this.now() + this.claimTimeout;
    } else {
      this.owners.set(clientId, { key, pendingUntil: this.now() + this.claimTimeout });
      this.sweepIfLarge();
    }
    return true;
  }

  /** A client was accepted with this id: its credential holds the id while the session lives. */
  confirm(clientId: string, key: OwnerKey): void {
    this.owners.set(clientId, { key, pendingUntil: undefined });
  }

  /** A connection ended: forget the owner when the broker keeps no session for the id. */
  release(clientId: string): void {
    const owner = this.owners.get(clientId);
    if (owner && this.isStale(clientId, owner)) this.owners.delete(clientId);
  }

  clear(): void {
    this.owners.clear();
  }

  /** Drop stale entries once the table holds many more than the broker's sessions (amortized O(1)). */
  private sweepIfLarge(): void {
    if (this.owners.size <= Math.max(1024, 2 * this.options.sessionCount())) return;
    for (const [clientId, owner] of this.owners) {
      if (this.isStale(clientId, owner)) this.owners.delete(clientId);
    }
  }
}
