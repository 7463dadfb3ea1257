import type { McpServerLike, McpServerSession } from './options.js';
import type { SessionSlot } from './session-admission.js';

/** One session of a server host. */
export interface SessionRecord {
  session: McpServerSession;
  server: McpServerLike | undefined;
  open: boolean;
  /** Its place in the session limits; moved to the new record when the client initializes again. */
  slot: SessionSlot | undefined;
}

/** How many ended sessions a host remembers, so late messages from them are not reported. */
const RECENTLY_ENDED_LIMIT = 1024;

/** @internal The sessions of one server host by mcp-client-id, and the clients whose sessions ended lately. */
export class SessionRegistry {
  private readonly records = new Map<string, SessionRecord>();
  private readonly ended = new Set<string>();

  get(mcpClientId: string): SessionRecord | undefined {
    return this.records.get(mcpClientId);
  }

  has(mcpClientId: string): boolean {
    return this.records.has(mcpClientId);
  }

  all(): SessionRecord[] {
    return [...this.records.values()];
  }

  /** Sessions by mcp-client-id, including those still initializing. */
  snapshot(): ReadonlyMap<string, McpServerSession> {
    return new Map([...this.records].map(([id, record]) => [id, record.session]));
  }

  add(record: SessionRecord): void {
    this.records.set(record.session.mcpClientId, record);
    this.ended.delete(record.session.mcpClientId);
  }

  /** Forget a session; remembered as ended lately (the oldest such id is forgotten first). */
  remove(mcpClientId: string): void {
    this.records.delete(mcpClientId);
    this.ended.add(mcpClientId);
    if (this.ended.size > RECENTLY_ENDED_LIMIT) this.ended.delete(this.ended.values().next().value as string);
  }

  /** A session of this client ended lately: late messages from it are expected, not suspicious. */
  endedLately(mcpClientId: string): boolean {
    return this.ended.has(mcpClientId);
  }
}
