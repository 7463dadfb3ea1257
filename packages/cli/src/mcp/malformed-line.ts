import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * The JSON-RPC answer to a line of stdin the SDK's stdio transport could not read (it drops the line and
 * reports the error): `-32700 Parse error` for a line that is not JSON, `-32600 Invalid Request` for JSON
 * that is not a JSON-RPC message. The id of such a line is unknown, so the answer has `id: null`, as
 * JSON-RPC 2.0 says. `undefined` for any other error.
 */
export function malformedLineAnswer(error: Error): JSONRPCMessage | undefined {
  let code: number;
  let message: string;
  if (error instanceof SyntaxError) {
    code = -32700;
    message = `Parse error: ${error.message}`;
  } else if (error.name === 'ZodError') {
    code = -32600;
    message = 'Invalid Request: not a JSON-RPC 2.0 message';
  } else {
    return undefined;
  }
  // JSON-RPC 2.0 answers an unreadable request with `id: null`, which the SDK's message type does not allow.
  return { jsonrpc: '2.0', id: null, error: { code, message } } as unknown as JSONRPCMessage;
}
