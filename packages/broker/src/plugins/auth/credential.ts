// What every authentication method yields: the principal a client proved, and the client ids it may use.
import type { Principal } from '../../types.js';
import type { ClientIdPattern } from './client-id-pattern.js';

/** A proven credential: who the client is, and the client-id patterns the credential allows. */
export interface Credential {
  readonly principal: Principal;
  readonly patterns: readonly ClientIdPattern[];
}

/** The outcome of checking a credential: the credential, or a CONNACK reason code and a reason for the log. */
export type Verification =
  | { readonly ok: true; readonly credential: Credential }
  | { readonly ok: false; readonly reasonCode: number; readonly reason: string };

/** 0x86 Bad User Name or Password. */
export const BAD_USER_NAME_OR_PASSWORD = 0x86;
/** 0x87 Not authorized. */
export const NOT_AUTHORIZED = 0x87;
/** 0x85 Client Identifier not valid. */
export const CLIENT_IDENTIFIER_NOT_VALID = 0x85;
/** 0x88 Server unavailable. */
export const SERVER_UNAVAILABLE = 0x88;
/** 0x89 Server busy. */
export const SERVER_BUSY = 0x89;

export function refused(reasonCode: number, reason: string): Verification {
  return { ok: false, reasonCode, reason };
}

export function proven(principal: Principal, patterns: readonly ClientIdPattern[]): Verification {
  return {
    ok: true,
    credential: Object.freeze({
      principal: Object.freeze({ ...principal, roles: Object.freeze([...principal.roles]) }),
      patterns,
    }),
  };
}
