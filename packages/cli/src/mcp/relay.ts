import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

export type RelaySide = 'client' | 'server';
/** Who ended the relay: one of its sides, or `close()`. */
export type RelayEnd = RelaySide | 'relay';

export interface RelayOptions {
  /** Called once, when either side closed (the relay then closes the other side). */
  onclose?: (end: RelayEnd) => void;
  /** Problems of either transport, and messages the relay could not pass on. */
  onerror?: (error: Error, side: RelaySide) => void;
  /**
   * When the server side closes with requests of the client still waiting, they are answered with a
   * JSON-RPC error (`-32603`) with this message, instead of being left to time out. Default: "the server
   * closed before it answered".
   */
  serverClosedMessage?: () => string;
}

/** A running relay between two transports; `close()` closes both. */
export interface Relay {
  start(): Promise<void>;
  /** Resolves once every request from the client side has its answer, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
  /**
   * Answer every request of the client side still waiting with a JSON-RPC error (`-32603`, `message`), then
   * close both sides: for a server that cannot go on (its process printed garbage, or could not start).
   */
  fail(message: string): Promise<void>;
  /** True once the server answered `initialize`. */
  readonly initialized: boolean;
  close(): Promise<void>;
  /** Resolves when the relay closed, from either side. */
  readonly closed: Promise<RelayEnd>;
}

function isRequest(message: JSONRPCMessage): message is JSONRPCMessage & { id: RequestId; method: string } {
  return 'method' in message && 'id' in message;
}

function isResponse(message: JSONRPCMessage): message is JSONRPCMessage & { id: RequestId } {
  return !('method' in message) && 'id' in message;
}

function progressTokenOf(message: JSONRPCMessage): string | number | undefined {
  const token = (message as { params?: { _meta?: { progressToken?: unknown } } }).params?._meta
    ?.progressToken;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

/**
 * Pass JSON-RPC messages both ways between the transport an MCP client talks to (`client`: stdio server,
 * Streamable HTTP server, MQTT session) and the one that reaches the real server (`server`: MQTT client,
 * stdio child). Ids are never rewritten. Progress notifications carry the request they belong to, so a
 * Streamable HTTP transport sends them on that request's stream. A request that cannot be passed on is
 * answered with a JSON-RPC error instead of being left to time out.
 */
export function relayTransports(client: Transport, server: Transport, options: RelayOptions = {}): Relay {
  const progress = new Map<string | number, RequestId>();
  // Requests of the client side waiting for their answer: by the id as a string, with the id itself.
  const pending = new Map<string, RequestId>();
  let initialized = false;
  let drained: (() => void) | undefined;
  const requestTokens = new Map<string, string | number>();
  let closing: Promise<void> | undefined;
  let resolveClosed: (end: RelayEnd) => void = () => {};
  const closed = new Promise<RelayEnd>((resolve) => {
    resolveClosed = resolve;
  });

  const report = (error: Error, side: RelaySide): void => options.onerror?.(error, side);

  /** Answer the requests still waiting (they would wait for their timeout otherwise). */
  const answerPending = async (message: string): Promise<void> => {
    const waiting = [...pending.values(), ...held.filter(isRequest).map((request) => request.id)];
    pending.clear();
    held = [];
    await Promise.all(
      waiting.map((id) =>
        client
          .send({ jsonrpc: '2.0', id, error: { code: -32603, message } })
          .catch((error: unknown) => report(error as Error, 'client')),
      ),
    );
  };

  const closeBoth = (end: RelayEnd, failure?: string): Promise<void> => {
    closing ??= (async () => {
      const reason =
        failure ??
        (end === 'server'
          ? (options.serverClosedMessage?.() ?? 'the server closed before it answered')
          : undefined);
      if (reason !== undefined && (end !== 'client' || failure !== undefined)) await answerPending(reason);
      options.onclose?.(end);
      resolveClosed(end);
      // The side that closed is closed already; closing it again is harmless (every close is idempotent).
      await Promise.all(
        (['server', 'client'] as const)
          .filter((side) => side !== end)
          .map((side) =>
            (side === 'server' ? server : client)
              .close()
              .catch((error: unknown) => report(error as Error, side)),
          ),
      );
    })();
    return closing;
  };

  const failRequest = (message: JSONRPCMessage, error: unknown): void => {
    report(error as Error, 'server');
    if (!isRequest(message)) return;
    client
      .send({
        jsonrpc: '2.0',
        id: message.id,
        error: { code: -32603, message: `relay could not reach the server: ${(error as Error).message}` },
      })
      .catch((sendError: unknown) => report(sendError as Error, 'client'));
  };

  // Nothing may overtake `initialize`: over MQTT it travels on the server's control topic and the rest on
  // the session's topic, so a client that does not wait for its answer (a pipe, a script) would otherwise
  // reach the server before the session exists. Messages after it wait for its response.
  let initializing: string | undefined;
  let held: JSONRPCMessage[] = [];
  const forward = (message: JSONRPCMessage): void => {
    server.send(message).catch((error: unknown) => failRequest(message, error));
  };

  const fromClient = (message: JSONRPCMessage): void => {
    if (initializing !== undefined) {
      held.push(message);
      return;
    }
    if (isRequest(message)) {
      if (message.method === 'initialize') initializing = String(message.id);
      pending.set(String(message.id), message.id);
      const token = progressTokenOf(message);
      if (token !== undefined) {
        progress.set(token, message.id);
        requestTokens.set(String(message.id), token);
      }
    }
    forward(message);
  };
  server.onmessage = (message) => {
    let sendOptions: TransportSendOptions | undefined;
    if (isResponse(message)) {
      pending.delete(String(message.id));
      const token = requestTokens.get(String(message.id));
      if (token !== undefined) {
        requestTokens.delete(String(message.id));
        progress.delete(token);
      }
    } else if ('method' in message && message.method === 'notifications/progress') {
      const token = (message.params as { progressToken?: string | number } | undefined)?.progressToken;
      const related = token === undefined ? undefined : progress.get(token);
      if (related !== undefined) sendOptions = { relatedRequestId: related };
    }
    client.send(message, sendOptions).catch((error: unknown) => report(error as Error, 'client'));
    if (initializing !== undefined && isResponse(message) && String(message.id) === initializing) {
      initializing = undefined;
      initialized = true;
      const waiting = held;
      held = [];
      for (const next of waiting) fromClient(next);
    }
    if (pending.size === 0 && initializing === undefined) drained?.();
  };
  client.onmessage = fromClient;
  client.onerror = (error) => report(error, 'client');
  server.onerror = (error) => report(error, 'server');
  client.onclose = () => void closeBoth('client');
  server.onclose = () => void closeBoth('server');

  return {
    async start() {
      // The server side first: nothing from the client may arrive before there is somewhere to send it.
      await server.start();
      await client.start();
    },
    drain(timeoutMs) {
      if ((pending.size === 0 && initializing === undefined) || closing) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(finish, timeoutMs);
        function finish(): void {
          clearTimeout(timer);
          drained = undefined;
          resolve();
        }
        drained = finish;
        void closed.then(finish);
      });
    },
    close: () => closeBoth('relay'),
    fail: (message) => closeBoth('relay', message),
    get initialized() {
      return initialized;
    },
    closed,
  };
}

/**
 * The relays a command runs: each one leaves the group when it closes, and `close()` closes the rest.
 * `start` closes a relay that could not start before it rethrows.
 */
export class RelayGroup {
  readonly #relays = new Set<Relay>();

  async start(relay: Relay): Promise<void> {
    this.#relays.add(relay);
    void relay.closed.then(() => relay.close()).then(() => this.#relays.delete(relay));
    try {
      await relay.start();
    } catch (error) {
      await relay.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#relays].map((relay) => relay.close()));
  }
}
