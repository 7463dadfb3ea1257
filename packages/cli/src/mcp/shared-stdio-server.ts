import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerLike } from '@mqtt-agents/mcp';

type Message = JSONRPCMessage & Record<string, unknown>;

interface SessionState {
  readonly key: string;
  readonly transport: Transport;
  /** Child request ids of this session's requests in flight. */
  readonly inFlight: Set<number>;
  lastActivity: number;
}

interface PendingRequest {
  session: SessionState;
  id: RequestId;
  method: string;
  progressToken: string | number | undefined;
}

function isRequest(message: Message): message is Message & { id: RequestId; method: string } {
  return typeof message.method === 'string' && 'id' in message;
}

function isNotification(message: Message): message is Message & { method: string } {
  return typeof message.method === 'string' && !('id' in message);
}

function paramsOf(message: Message): Record<string, unknown> | undefined {
  const params = message.params;
  return typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : undefined;
}

/**
 * One stdio MCP server process shared by every MCP session (`mcp serve --shared`). Requests of all
 * sessions go to the one child with ids of its own (and progress tokens of its own), and each answer goes
 * back to the session that asked, with the id it used. The first `initialize` reaches the child; later
 * sessions get the same result. Notifications from the child go to every session (list changes end up as
 * one publish on the capability topic); progress goes to the session whose request it belongs to; requests
 * from the child (roots, sampling, elicitation) go to the session that was active last.
 */
export class SharedStdioServer {
  readonly #child: Transport;
  readonly #sessions = new Map<string, SessionState>();
  readonly #pending = new Map<number, PendingRequest>();
  readonly #progress = new Map<string, { session: SessionState; token: string | number }>();
  readonly #childRequests = new Map<string, { session: SessionState; id: RequestId }>();
  readonly #onerror: (error: Error) => void;
  #nextId = 1;
  #initialize:
    | { state: 'none' }
    | { state: 'pending'; waiting: Array<{ session: SessionState; id: RequestId }> }
    | { state: 'done'; answer: Message } = { state: 'none' };
  #initializedSent = false;

  constructor(child: Transport, onerror: (error: Error) => void) {
    this.#child = child;
    this.#onerror = onerror;
    child.onmessage = (message) => this.#fromChild(message as Message);
  }

  /** What `serveMcpOverMqtt` calls `createServer` for: a session that speaks to the shared child. */
  sessionServer(key: string): McpServerLike {
    return {
      connect: async (transport) => {
        const session: SessionState = { key, transport, inFlight: new Set(), lastActivity: Date.now() };
        transport.onmessage = (message) => this.#fromSession(session, message as Message);
        transport.onclose = () => this.#forget(session);
        transport.onerror = (error) => this.#onerror(error);
        this.#sessions.set(key, session);
        await transport.start();
      },
      close: async () => {
        const session = this.#sessions.get(key);
        if (session) await session.transport.close();
      },
    };
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  #send(session: SessionState, message: JSONRPCMessage): void {
    session.transport.send(message).catch((error: unknown) => this.#onerror(error as Error));
  }

  #toChild(message: JSONRPCMessage): Promise<void> {
    return this.#child.send(message);
  }

  #fromSession(session: SessionState, message: Message): void {
    session.lastActivity = Date.now();
    if (isRequest(message)) {
      if (message.method === 'initialize') {
        this.#sessionInitialize(session, message);
        return;
      }
      const childId = this.#nextId++;
      const params = paramsOf(message);
      const meta = params?._meta as Record<string, unknown> | undefined;
      const token = meta?.progressToken;
      const progressToken = typeof token === 'string' || typeof token === 'number' ? token : undefined;
      let forwarded: Message = { ...message, id: childId };
      if (progressToken !== undefined) {
        const childToken = `p${childId}`;
        this.#progress.set(childToken, { session, token: progressToken });
        forwarded = { ...forwarded, params: { ...params, _meta: { ...meta, progressToken: childToken } } };
      }
      this.#pending.set(childId, { session, id: message.id, method: message.method, progressToken });
      session.inFlight.add(childId);
      this.#toChild(forwarded).catch((error: unknown) => {
        this.#settle(childId);
        this.#send(session, {
          jsonrpc: '2.0',
          id: message.id,
          error: { code: -32603, message: `the shared server process is gone: ${(error as Error).message}` },
        });
      });
      return;
    }
    if (isNotification(message)) {
      if (message.method === 'notifications/initialized') {
        if (this.#initializedSent) return;
        this.#initializedSent = true;
      }
      if (message.method === 'notifications/cancelled') {
        const params = paramsOf(message);
        const childId = [...session.inFlight].find(
          (id) => this.#pending.get(id)?.id === (params?.requestId as RequestId),
        );
        if (childId === undefined) return;
        this.#settle(childId);
        void this.#toChild({ ...message, params: { ...params, requestId: childId } } as JSONRPCMessage).catch(
          () => {},
        );
        return;
      }
      void this.#toChild(message).catch((error: unknown) => this.#onerror(error as Error));
      return;
    }
    // A response to a request the child sent to this session.
    this.#childRequests.delete(String(message.id));
    void this.#toChild(message).catch((error: unknown) => this.#onerror(error as Error));
  }

  #sessionInitialize(session: SessionState, message: Message & { id: RequestId }): void {
    const state = this.#initialize;
    if (state.state === 'done') {
      this.#send(session, { ...state.answer, id: message.id } as JSONRPCMessage);
      return;
    }
    if (state.state === 'pending') {
      state.waiting.push({ session, id: message.id });
      return;
    }
    this.#initialize = { state: 'pending', waiting: [{ session, id: message.id }] };
    const childId = this.#nextId++;
    this.#pending.set(childId, { session, id: message.id, method: 'initialize', progressToken: undefined });
    this.#toChild({ ...message, id: childId } as JSONRPCMessage).catch((error: unknown) =>
      this.#onerror(error as Error),
    );
  }

  #fromChild(message: Message): void {
    if (isRequest(message)) {
      if (message.method === 'ping') {
        void this.#toChild({ jsonrpc: '2.0', id: message.id, result: {} }).catch(() => {});
        return;
      }
      const target = this.#requestTarget();
      if (!target) {
        void this.#toChild({
          jsonrpc: '2.0',
          id: message.id,
          error: { code: -32603, message: `no MCP client session to ask for ${message.method}` },
        }).catch(() => {});
        return;
      }
      this.#childRequests.set(String(message.id), { session: target, id: message.id });
      this.#send(target, message);
      return;
    }
    if (isNotification(message)) {
      if (message.method === 'notifications/progress') {
        const params = paramsOf(message);
        const entry = this.#progress.get(String(params?.progressToken));
        if (entry)
          this.#send(entry.session, { ...message, params: { ...params, progressToken: entry.token } });
        return;
      }
      for (const session of this.#sessions.values()) this.#send(session, message);
      return;
    }
    const childId = typeof message.id === 'number' ? message.id : Number.NaN;
    const pending = this.#pending.get(childId);
    if (!pending) return;
    this.#settle(childId);
    if (pending.method === 'initialize' && this.#initialize.state === 'pending') {
      const waiting = this.#initialize.waiting;
      this.#initialize = 'result' in message ? { state: 'done', answer: message } : { state: 'none' };
      for (const waiter of waiting) {
        if (this.#sessions.has(waiter.session.key))
          this.#send(waiter.session, { ...message, id: waiter.id } as JSONRPCMessage);
      }
      return;
    }
    if (this.#sessions.get(pending.session.key) === pending.session) {
      this.#send(pending.session, { ...message, id: pending.id } as JSONRPCMessage);
    }
  }

  /** The session a request from the child goes to: one with a request in flight, else the last active. */
  #requestTarget(): SessionState | undefined {
    let best: SessionState | undefined;
    for (const session of this.#sessions.values()) {
      if (!best) best = session;
      else if (session.inFlight.size > 0 !== best.inFlight.size > 0) {
        if (session.inFlight.size > 0) best = session;
      } else if (session.lastActivity > best.lastActivity) best = session;
    }
    return best;
  }

  #settle(childId: number): void {
    const pending = this.#pending.get(childId);
    if (!pending) return;
    this.#pending.delete(childId);
    pending.session.inFlight.delete(childId);
    this.#progress.delete(`p${childId}`);
  }

  #forget(session: SessionState): void {
    if (this.#sessions.get(session.key) !== session) return;
    this.#sessions.delete(session.key);
    for (const childId of [...session.inFlight]) {
      this.#settle(childId);
      void this.#toChild({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: childId, reason: 'the MCP client session ended' },
      }).catch(() => {});
    }
    for (const [key, request] of [...this.#childRequests]) {
      if (request.session !== session) continue;
      this.#childRequests.delete(key);
      void this.#toChild({
        jsonrpc: '2.0',
        id: request.id,
        error: { code: -32603, message: 'the MCP client session ended' },
      } as JSONRPCMessage).catch(() => {});
    }
  }
}
