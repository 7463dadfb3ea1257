// JWT authentication with jose: the CONNECT password carries the token. Verified against a local JWKS, a
// public key or an HMAC secret, with an explicit algorithm list derived from the key (so an RS key never
// accepts an HS token, and `alg: none` never verifies), and required `iss`, `aud`, `exp` and `sub`.
import { createSecretKey, type KeyObject, createPublicKey } from 'node:crypto';
import type * as Jose from 'jose';
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose';
import { isValidRole, parseClientIdPattern, type ClientIdPattern } from './client-id-pattern.js';
import { BAD_USER_NAME_OR_PASSWORD, proven, refused, type Verification } from './credential.js';

/** Where JWT signatures are checked: a JWKS (no fetching), a public key, or an HMAC secret. */
export type JwtKey =
  | { readonly jwks: JSONWebKeySet }
  | { readonly publicKey: KeyObject | string }
  | { readonly secret: Uint8Array | string };

/**
 * How JWTs in the CONNECT password are verified (key, issuer, audience, algorithms, clock skew) and which
 * claims give the client ids and roles they allow.
 */
export interface JwtAuthOptions {
  /** The key that signatures are checked with. */
  key: JwtKey;
  /** Accepted `iss` values (required claim). */
  issuer: string | readonly string[];
  /** Accepted `aud` values (required claim). */
  audience: string | readonly string[];
  /** Accepted algorithms; default: those of the key's type (HS* for a secret, RS/PS/ES/EdDSA for public keys). */
  algorithms?: readonly string[];
  /** The claim with the client-id patterns the token allows (a string or an array); default `client_ids`. */
  clientIdsClaim?: string;
  /** Patterns when the token has no `clientIdsClaim`; default `['{name}']` (the `sub` is the client id). */
  defaultClientIds?: readonly string[];
  /** The claim with the roles (an array or a space-separated string); default `roles`. */
  rolesClaim?: string;
  /** Seconds of clock skew allowed on `exp` and `nbf`; default 5. */
  clockTolerance?: number;
  /** Longest token accepted, in bytes; default 8192. */
  maxTokenBytes?: number;
}

/** Check a token (the CONNECT password) and the user name that came with it. */
export type JwtVerifier = (token: string, username: string | undefined) => Promise<Verification>;

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGORITHMS = ['ES256', 'ES384', 'ES512'];
const OKP_ALGORITHMS = ['EdDSA', 'Ed25519'];
const ASYMMETRIC_ALGORITHMS = [...RSA_ALGORITHMS, ...EC_ALGORITHMS, ...OKP_ALGORITHMS];
const MIN_SECRET_BYTES = 32;
const MAX_CLAIM_ENTRIES = 32;
const TOKEN_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** True when a CONNECT password has the shape of a compact JWS (`eyJ....`). */
export function looksLikeJwt(password: string): boolean {
  return TOKEN_SHAPE.test(password);
}

type VerifyKey = KeyObject | { readonly jwks: JSONWebKeySet };

// jose 6 is ESM-only: it is loaded on the first verification with `import()`, which the CJS build keeps as is,
// so that `require('@mqtt-agents/broker')` loads no ES module (Node.js 20.10 to 20.18 cannot require one).
let jose: Promise<typeof Jose> | undefined;
function loadJose(): Promise<typeof Jose> {
  jose ??= import('jose');
  return jose;
}

function keyAlgorithms(key: KeyObject): string[] {
  if (key.type === 'secret') return HMAC_ALGORITHMS;
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA_ALGORITHMS;
    case 'rsa-pss':
      return RSA_ALGORITHMS.filter((alg) => alg.startsWith('PS'));
    case 'ec':
      return EC_ALGORITHMS;
    case 'ed25519':
      return OKP_ALGORITHMS;
    default:
      throw new TypeError(`invalid jwt key: unsupported key type '${String(key.asymmetricKeyType)}'`);
  }
}

function resolveKey(key: JwtKey): { verifyKey: VerifyKey; algorithms: string[] } {
  if ('jwks' in key) {
    if (!Array.isArray(key.jwks?.keys) || key.jwks.keys.length === 0) {
      throw new TypeError('invalid jwt key: the JWKS has no keys');
    }
    if (key.jwks.keys.some((jwk) => jwk.kty === 'oct' || 'd' in jwk)) {
      throw new TypeError('invalid jwt key: a JWKS for verification holds public keys only');
    }
    return { verifyKey: { jwks: key.jwks }, algorithms: ASYMMETRIC_ALGORITHMS };
  }
  if ('publicKey' in key) {
    const publicKey = typeof key.publicKey === 'string' ? createPublicKey(key.publicKey) : key.publicKey;
    if (publicKey.type !== 'public') throw new TypeError('invalid jwt key: publicKey is not a public key');
    return { verifyKey: publicKey, algorithms: keyAlgorithms(publicKey) };
  }
  const bytes = typeof key.secret === 'string' ? Buffer.from(key.secret, 'utf8') : Buffer.from(key.secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new TypeError(`invalid jwt key: an HMAC secret needs at least ${MIN_SECRET_BYTES} bytes`);
  }
  return { verifyKey: createSecretKey(bytes), algorithms: HMAC_ALGORITHMS };
}

function stringList(value: unknown, what: string): string[] {
  if (typeof value === 'string') return value.split(' ').filter((item) => item !== '');
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  throw new TypeError(`claim ${what} must be a string or an array of strings`);
}

function claimsOf(
  payload: JWTPayload,
  settings: { clientIdsClaim: string; rolesClaim: string; defaultPatterns: readonly ClientIdPattern[] },
): { patterns: readonly ClientIdPattern[]; roles: string[] } {
  const rawPatterns = payload[settings.clientIdsClaim];
  let patterns = settings.defaultPatterns;
  if (rawPatterns !== undefined) {
    const list = Array.isArray(rawPatterns)
      ? stringList(rawPatterns, settings.clientIdsClaim)
      : [rawPatterns];
    if (list.length > MAX_CLAIM_ENTRIES || list.some((item) => typeof item !== 'string')) {
      throw new TypeError(`claim ${settings.clientIdsClaim} must hold at most ${MAX_CLAIM_ENTRIES} strings`);
    }
    patterns = (list as string[]).map((pattern) => parseClientIdPattern(pattern));
  }
  const rawRoles = payload[settings.rolesClaim];
  const roles = rawRoles === undefined ? [] : stringList(rawRoles, settings.rolesClaim);
  if (roles.length > MAX_CLAIM_ENTRIES || !roles.every(isValidRole)) {
    throw new TypeError(`claim ${settings.rolesClaim} holds an invalid role`);
  }
  return { patterns, roles };
}

/** Make a verifier from the options; throws a TypeError for an unusable key or algorithm list. */
export function createJwtVerifier(options: JwtAuthOptions): JwtVerifier {
  const { verifyKey, algorithms: keyAlgs } = resolveKey(options.key);
  const algorithms = options.algorithms ? [...options.algorithms] : keyAlgs;
  const foreign = algorithms.find((alg) => !keyAlgs.includes(alg));
  if (algorithms.length === 0 || foreign !== undefined) {
    throw new TypeError(
      `invalid jwt algorithms: ${foreign ?? '(none)'} does not fit the key (allowed: ${keyAlgs.join(', ')})`,
    );
  }
  const issuers = typeof options.issuer === 'string' ? [options.issuer] : [...options.issuer];
  const audiences = typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  if (issuers.length === 0 || issuers.some((issuer) => typeof issuer !== 'string' || issuer === '')) {
    throw new TypeError('invalid jwt options: an issuer is required');
  }
  if (
    audiences.length === 0 ||
    audiences.some((audience) => typeof audience !== 'string' || audience === '')
  ) {
    throw new TypeError('invalid jwt options: an audience is required');
  }
  const settings = {
    clientIdsClaim: options.clientIdsClaim ?? 'client_ids',
    rolesClaim: options.rolesClaim ?? 'roles',
    defaultPatterns: (options.defaultClientIds ?? ['{name}']).map((pattern) => parseClientIdPattern(pattern)),
  };
  const maxTokenBytes = options.maxTokenBytes ?? 8192;
  const verifyOptions = {
    issuer: issuers,
    audience: audiences,
    algorithms,
    requiredClaims: ['exp', 'iss', 'aud', 'sub'],
    clockTolerance: options.clockTolerance ?? 5,
  };
  let jwksResolver: JWTVerifyGetKey | undefined;
  return async (token, username) => {
    if (Buffer.byteLength(token) > maxTokenBytes) {
      return refused(BAD_USER_NAME_OR_PASSWORD, `token longer than ${maxTokenBytes} bytes`);
    }
    let payload: JWTPayload;
    try {
      const { createLocalJWKSet, jwtVerify } = await loadJose();
      if ('jwks' in verifyKey) {
        jwksResolver ??= createLocalJWKSet(verifyKey.jwks);
        ({ payload } = await jwtVerify(token, jwksResolver, verifyOptions));
      } else {
        ({ payload } = await jwtVerify(token, verifyKey, verifyOptions));
      }
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const detail = error instanceof Error ? error.message : String(error);
      return refused(BAD_USER_NAME_OR_PASSWORD, `token refused (${String(code ?? 'invalid')}: ${detail})`);
    }
    const subject = payload.sub;
    if (typeof subject !== 'string' || subject === '') {
      return refused(BAD_USER_NAME_OR_PASSWORD, 'token has no sub');
    }
    if (username !== undefined && username !== '' && username !== subject) {
      return refused(BAD_USER_NAME_OR_PASSWORD, "the user name is not the token's sub");
    }
    try {
      const { patterns, roles } = claimsOf(payload, settings);
      return proven({ name: subject, method: 'jwt', roles }, patterns);
    } catch (error) {
      return refused(BAD_USER_NAME_OR_PASSWORD, `token refused (${(error as Error).message})`);
    }
  };
}
