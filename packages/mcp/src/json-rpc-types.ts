/**
 * Our own structural JSON-RPC / transport types. Both MCP SDK majors' types are assignable to these, so the
 * package's declarations reference neither `@modelcontextprotocol/sdk` (1.x) nor the 2.x packages.
 */

/** A JSON-RPC request id. */
export type RequestId = string | number;

/** A JSON-RPC request (has `id` and `method`). */
export interface JSONRPCRequest {
  jsonrpc: '2.0';
  id: RequestId;
  method: string;
  params?: { [key: string]: unknown } | undefined;
  [key: string]: unknown;
}

/** A JSON-RPC notification (has `method`, no `id`). */
export interface JSONRPCNotification {
  jsonrpc: '2.0';
  method: string;
  params?: { [key: string]: unknown } | undefined;
  [key: string]: unknown;
}

/** A JSON-RPC result response. */
export interface JSONRPCResultResponse {
  jsonrpc: '2.0';
  id: RequestId;
  result: { [key: string]: unknown };
  [key: string]: unknown;
}

/** A JSON-RPC error response. */
export interface JSONRPCErrorResponse {
  jsonrpc: '2.0';
  id?: RequestId | undefined;
  error: { code: number; message: string; data?: unknown };
  [key: string]: unknown;
}

/** Any JSON-RPC message a transport carries. */
export type JSONRPCMessage =
  JSONRPCRequest | JSONRPCNotification | JSONRPCResultResponse | JSONRPCErrorResponse;

/** Authentication information handed to handlers as `extra.authInfo`. */
export interface AuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number | undefined;
  resource?: URL | undefined;
  extra?: Record<string, unknown> | undefined;
}

/** What a transport passes with an inbound message. */
export interface MessageExtraInfo {
  authInfo?: AuthInfo | undefined;
  requestInfo?: { headers: Record<string, string | string[] | undefined> } | undefined;
}

/** Options of `Transport.send`. */
export interface TransportSendOptions {
  /** The inbound request this message belongs to (a response, or a notification or request made while handling it). */
  relatedRequestId?: RequestId | undefined;
  /** A token to resume an interrupted stream from (HTTP transports; not used over MQTT). */
  resumptionToken?: string | undefined;
  /** Called with new resumption tokens as they arrive (HTTP transports; not used over MQTT). */
  onresumptiontoken?: ((token: string) => void) | undefined;
}

/** The shape of an MCP SDK `Transport` (either major). */
export interface Transport {
  /** Begin receiving messages; the SDK calls it once, from `connect()`. */
  start(): Promise<void>;
  /** Deliver one JSON-RPC message to the peer. */
  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void>;
  /** End the connection; `onclose` fires. */
  close(): Promise<void>;
  /** Called once when the connection ends, whichever side ended it. */
  onclose?: (() => void) | undefined;
  /** Called with problems that do not end the connection. */
  onerror?: ((error: Error) => void) | undefined;
  /** Called with every JSON-RPC message received. */
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
  /** The session id, when the transport has sessions. */
  sessionId?: string | undefined;
  /** Called by the SDK with the protocol version negotiated in `initialize`. */
  setProtocolVersion?: ((version: string) => void) | undefined;
}
