import type { JSONRPCMessage, Transport, TransportSendOptions } from '../json-rpc-types.js';
import { isRequest } from '../inbound/inbound-messages.js';

/** JSON-RPC "method not found". */
const METHOD_NOT_FOUND = -32601;

/** The version-negotiation probe of protocol revision 2026-07-28 (MCP SDK 2.x, `versionNegotiation`). */
const DISCOVER_METHOD = 'server/discover';

/**
 * A client session transport that keeps the session on the 2025 `initialize` handshake, the only one the
 * MCP-over-MQTT binding defines: a `server/discover` probe sent before `initialize` (an SDK 2.x `Client` with
 * `versionNegotiation: { mode: 'auto' }`) is answered at once, locally, with "method not found", which the
 * SDK reads as a 2025 server and falls back to `initialize`. Unanswered, the probe would go to the session's
 * RPC topic, where no server listens before `initialize`, and `connect()` would fail after the probe timeout.
 * Everything else goes to the wrapped transport unchanged.
 */
export class Handshake2025Transport implements Transport {
  /** The wrapped client session transport (an `McpMqttClientTransport`). */
  readonly transport: Transport;

  constructor(transport: Transport) {
    this.transport = transport;
  }

  get onclose(): (() => void) | undefined {
    return this.transport.onclose;
  }
  set onclose(handler: (() => void) | undefined) {
    this.transport.onclose = handler;
  }

  get onerror(): ((error: Error) => void) | undefined {
    return this.transport.onerror;
  }
  set onerror(handler: ((error: Error) => void) | undefined) {
    this.transport.onerror = handler;
  }

  get onmessage(): Transport['onmessage'] {
    return this.transport.onmessage;
  }
  set onmessage(handler: Transport['onmessage']) {
    this.transport.onmessage = handler;
  }

  get sessionId(): string | undefined {
    return this.transport.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.transport.setProtocolVersion?.(version);
  }

  start(): Promise<void> {
    return this.transport.start();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.transport.sessionId === undefined && isRequest(message) && message.method === DISCOVER_METHOD) {
      const answer: JSONRPCMessage = {
        jsonrpc: '2.0',
        id: message.id,
        error: {
          code: METHOD_NOT_FOUND,
          message: `${DISCOVER_METHOD} is not part of MCP over MQTT: the session uses the 2025 initialize handshake`,
        },
      };
      // Answered asynchronously, never from inside send(), as a response from the wire would be.
      queueMicrotask(() => this.onmessage?.(answer));
      return;
    }
    await this.transport.send(message, options);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
