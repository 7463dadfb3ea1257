/**
 * Why a server instance refused a new session, as `data.reason` of the JSON-RPC error that answers the
 * `initialize` (code -32000): `'draining'` (the instance is being drained: try another one) or
 * `'session-limit'` (it holds as many sessions as it may, in total or for this sender).
 */
export type McpSessionRefusalReason = 'draining' | 'session-limit';

/** The JSON-RPC error code of a refused `initialize`. */
export const SESSION_REFUSAL_CODE = -32000;

/** @internal The JSON-RPC error object that refuses an `initialize`. */
export function sessionRefusalError(
  reason: McpSessionRefusalReason,
  message: string,
  data: Record<string, unknown> = {},
): { code: number; message: string; data: Record<string, unknown> } {
  return { code: SESSION_REFUSAL_CODE, message, data: { ...data, reason } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** How deep `sessionRefusalReason` follows `cause` (an error wrapped by a transport or host). */
const MAX_CAUSE_DEPTH = 4;

/**
 * The reason a server refused a session, read from what a failed connect rejected with: an SDK
 * `McpError` (code -32000, `data.reason`), a JSON-RPC error object of the same shape, or an error that
 * wraps one as its `cause`. Undefined for any other error. Known reasons are `McpSessionRefusalReason`;
 * a newer server may send others.
 *
 * ```ts
 * try {
 *   await host.connect(client, 'factory/press');
 * } catch (error) {
 *   if (sessionRefusalReason(error) === 'draining') {
 *     // that instance is going away: pick another one
 *   }
 * }
 * ```
 */
export function sessionRefusalReason(error: unknown): string | undefined {
  let current = error;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && isRecord(current); depth++) {
    if (current.code === SESSION_REFUSAL_CODE && isRecord(current.data)) {
      const reason = current.data.reason;
      if (typeof reason === 'string') return reason;
    }
    current = current.cause;
  }
  return undefined;
}
