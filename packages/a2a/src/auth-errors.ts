import { A2AError, ERROR_INFO_TYPE } from '@a2a-js/sdk/errors';
import type { JsonRpcErrorObject } from './binding-errors.js';

/**
 * The two authorization failures an agent answers when it validates OAuth 2.0 / OIDC bearer tokens. A2A
 * leaves their JSON-RPC codes to implementations ("JSON-RPC custom error"); these sit outside the range
 * JSON-RPC reserves (-32768 to -32000), so they collide with nothing, and echo HTTP 401 and 403. Readers
 * classify them by the ErrorInfo `reason` in `error.data`, as they do binding errors.
 */
export const AUTH_ERRORS = {
  unauthenticated: { code: -31401, reason: 'UNAUTHENTICATED' },
  permission_denied: { code: -31403, reason: 'PERMISSION_DENIED' },
} as const;

/** `unauthenticated` (no, invalid or expired token) or `permission_denied` (valid token, missing scope). */
export type AuthErrorKind = keyof typeof AUTH_ERRORS;

const AUTH_ERROR_DOMAIN = 'a2a-over-mqtt';

/**
 * The JSON-RPC error object for an authorization failure: ErrorInfo in `data` with a challenge the requester
 * can act on (the scheme, and the scopes it needs). Never carries the token.
 */
export function authErrorObject(
  kind: AuthErrorKind,
  message: string,
  challenge: { scopes?: readonly string[] } = {},
): JsonRpcErrorObject {
  const { code, reason } = AUTH_ERRORS[kind];
  const metadata: Record<string, string> = { scheme: 'Bearer' };
  if (challenge.scopes && challenge.scopes.length > 0) metadata.scope = challenge.scopes.join(' ');
  return { code, message, data: [{ '@type': ERROR_INFO_TYPE, reason, domain: AUTH_ERROR_DOMAIN, metadata }] };
}

/** The authorization failure a JSON-RPC error object carries, read from its ErrorInfo `reason`. */
export function readAuthErrorKind(error: unknown): AuthErrorKind | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const data = (error as { data?: unknown }).data;
  for (const entry of Array.isArray(data) ? data : [data]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { reason, domain } = entry as { reason?: unknown; domain?: unknown };
    if (domain !== AUTH_ERROR_DOMAIN) continue;
    if (reason === AUTH_ERRORS.unauthenticated.reason) return 'unauthenticated';
    if (reason === AUTH_ERRORS.permission_denied.reason) return 'permission_denied';
  }
  return undefined;
}

/**
 * An agent refused a request's bearer token: `unauthenticated` (missing, invalid or expired) or
 * `permission_denied` (valid, but without the scopes the agent needs, listed in `requiredScopes`).
 */
export class MqttAuthError extends A2AError {
  readonly kind: AuthErrorKind;
  readonly code: number;
  /** The scopes the agent asked for, from the error's challenge. */
  readonly requiredScopes: readonly string[];
  override readonly reason: string;

  constructor(kind: AuthErrorKind, error: JsonRpcErrorObject) {
    super({ message: error.message });
    this.name = 'MqttAuthError';
    this.kind = kind;
    this.code = error.code;
    this.reason = AUTH_ERRORS[kind].reason;
    let scopes: string[] = [];
    for (const entry of Array.isArray(error.data) ? error.data : []) {
      const scope = (entry as { metadata?: { scope?: unknown } } | null)?.metadata?.scope;
      if (typeof scope === 'string') scopes = scope.split(' ').filter(Boolean);
    }
    this.requiredScopes = scopes;
  }
}
