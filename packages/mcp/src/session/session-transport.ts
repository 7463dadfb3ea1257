import type { McpRpcAddress } from '@mqtt-agents/core';
import type { JSONRPCMessage, MessageExtraInfo } from '../json-rpc-types.js';
import type { SessionCore, SessionSink } from './session-core.js';

/**
 * What both SDK `Transport` facades share over a session core: the SDK callbacks, the state getters,
 * protocol version, health checks and disposal. A facade for another SDK major (the 2.x
 * `@modelcontextprotocol/client` / `server` packages) extends this too and maps only `start` and `send`.
 */
export abstract class SessionTransport implements SessionSink {
  /** Set by the SDK: called once when the session ends, whichever side ended it. */
  onclose?: (() => void) | undefined;
  /** Set by the SDK: called with problems of the session that do not end it (bad inbound messages). */
  onerror?: ((error: Error) => void) | undefined;
  /** Set by the SDK: called with every JSON-RPC message that arrives for the session. */
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;

  /** The mcp-client-id of the session's client. */
  readonly mcpClientId: string;
  /** The server instance of the session. */
  readonly serverId: string;
  readonly serverName: string;

  /** Set once in the subclass constructor (its hooks reach the subclass's own fields). */
  protected abstract readonly core: SessionCore;

  protected constructor(session: McpRpcAddress) {
    this.mcpClientId = session.mcpClientId;
    this.serverId = session.serverId;
    this.serverName = session.serverName;
  }

  get isClosed(): boolean {
    return this.core.state.is('closed');
  }

  /** The protocol version negotiated in `initialize`, once known. */
  get negotiatedProtocolVersion(): string | undefined {
    return this.core.negotiatedProtocolVersion;
  }

  /** Record the protocol version negotiated in `initialize` (the SDK calls it). */
  setProtocolVersion(version: string): void {
    this.core.setProtocolVersion(version);
  }

  /** Ping the peer now (a private id, never seen by the SDK) and wait for its answer. */
  checkHealth(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    return this.core.checkHealth(options);
  }

  abstract close(): Promise<void>;

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal Report a problem with this session's inbound traffic. */
  report(error: Error): void {
    this.onerror?.(error);
  }
}
