// OAuth 2.0 / OIDC bearer tokens over MQTT: requesters attach `a2a-authorization: Bearer <token>` when the
// card asks for it; agents validate the token (signature, exp, iss, aud, scopes) before any executor runs.
import type { AgentCard } from '@a2a-js/sdk';
import type { User } from '@a2a-js/sdk/server';
import { errors as joseErrors, jwtVerify } from 'jose';
import type { CryptoKey, JWK, JWTPayload, JWTVerifyGetKey, KeyObject } from 'jose';
import type { MqttConnection } from '@mqtt-agents/core';
import type { AgentAddress } from './agent-address.js';
import { authErrorObject } from './auth-errors.js';
import type { JsonRpcErrorObject } from './binding-errors.js';
import type { PoolAddress } from './task-routes.js';

// --- what a card asks for ---

function isBearerScheme(card: AgentCard, name: string): boolean {
  const scheme = card.securitySchemes?.[name]?.scheme;
  if (!scheme) return false;
  if (scheme.$case === 'oauth2SecurityScheme' || scheme.$case === 'openIdConnectSecurityScheme') return true;
  return scheme.$case === 'httpAuthSecurityScheme' && scheme.value.scheme.toLowerCase() === 'bearer';
}

/**
 * The alternatives of a card's `securityRequirements` that a bearer token can satisfy, each as the scopes it
 * needs (a requirement lists schemes that must all hold; requirements are alternatives). Empty when the card
 * asks for no bearer token.
 */
export function bearerRequirements(card: AgentCard | undefined): string[][] {
  const alternatives: string[][] = [];
  for (const requirement of card?.securityRequirements ?? []) {
    const names = Object.keys(requirement.schemes ?? {});
    if (names.length === 0 || !names.every((name) => isBearerScheme(card as AgentCard, name))) continue;
    const scopes = new Set<string>();
    for (const name of names) for (const scope of requirement.schemes[name]?.list ?? []) scopes.add(scope);
    alternatives.push([...scopes]);
  }
  return alternatives;
}

// --- requester side ---

/** What a token provider is asked for. */
export interface TokenRequest {
  /** The agent (or pool) the request goes to. */
  readonly agent: AgentAddress | PoolAddress;
  /** The scopes the agent's card asks for (the first alternative a bearer token can satisfy). */
  readonly scopes: readonly string[];
  /** 1 for the first attempt of an operation. */
  readonly attempt: number;
  /**
   * True on retries and after the agent refused the previous token (expired, revoked): return a fresh token
   * rather than a cached one.
   */
  readonly refresh: boolean;
  readonly signal?: AbortSignal;
}

/** OAuth 2.0 / OIDC on the requester side (`mqttTransportFactory({ auth })`). */
export interface RequesterAuthOptions {
  /**
   * Returns an access token (without the `Bearer ` prefix). Token acquisition (client credentials, a user's
   * login, MFA) is yours: this is called before every attempt of a protected request, so cache the token and
   * fetch a new one when `refresh` is true or it is about to expire.
   */
  getToken?: (request: TokenRequest) => string | Promise<string>;
  /**
   * `'when-required'` (default): only to agents whose card's `securityRequirements` ask for a bearer scheme
   * (OAuth 2.0, OpenID Connect or HTTP Bearer). `'always'`: on every request.
   */
  send?: 'when-required' | 'always';
  /**
   * Bearer tokens are refused on connections without TLS (`mqtt://`, `ws://`): the broker and anyone on the
   * path would read them. Set true only for local development.
   */
  allowInsecureTransport?: boolean;
}

const TLS_PROTOCOLS = new Set(['mqtts', 'wss', 'ssl', 'tls', 'wxs', 'alis']);

/** True when the connection runs over TLS (`mqtts://`, `wss://`). */
export function isTlsConnection(connection: MqttConnection): boolean {
  const options = connection.client.options as { protocol?: string; href?: string };
  const protocol = options.protocol ?? options.href?.split(':')[0];
  return protocol !== undefined && TLS_PROTOCOLS.has(protocol.replace(/:$/, '').toLowerCase());
}

/** Seconds left before a JWT's `exp` (undefined for opaque tokens or tokens without `exp`). */
export function secondsToExpiry(token: string, now = Date.now()): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const json = atob((parts[1] as string).replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp - now / 1000 : undefined;
  } catch {
    return undefined;
  }
}

// --- responder side ---

/** OAuth 2.0 / OIDC on the agent side (`serveA2AOverMqtt({ auth })`): validated before any executor runs. */
export interface BearerAuthOptions {
  /**
   * The authorization server's keys: a JWKS from `jose` (`createRemoteJWKSet(new URL(jwksUri))`, or
   * `createLocalJWKSet(jwks)`), or one key.
   */
  keys: JWTVerifyGetKey | CryptoKey | KeyObject | JWK | Uint8Array;
  /** Accepted `iss` value(s). */
  issuer: string | string[];
  /** Accepted `aud` value(s): this agent's identifier at the authorization server. */
  audience: string | string[];
  /**
   * Scopes every request needs. The card's `securityRequirements` add theirs: the token must satisfy one
   * of the alternatives that a bearer token can satisfy.
   */
  requiredScopes?: readonly string[];
  /** Accepted JWS algorithms. Default: what the key allows (`jose`'s default). */
  algorithms?: string[];
  /** Leeway for `exp` and `nbf`, in seconds. Default 5. */
  clockToleranceSeconds?: number;
  /** Methods served without a token (for example none, or `GetTask` for a public agent). Default none. */
  publicMethods?: readonly string[];
  /** Further checks on the verified claims (tenant, roles ...): return false, or throw, to deny the request. */
  authorize?: (claims: JWTPayload, request: { method: string }) => boolean | Promise<boolean>;
}

/** The caller of a request with a valid bearer token, as `requestContext.context.user` shows it. */
export class BearerTokenUser implements User {
  readonly claims: Readonly<JWTPayload>;
  readonly scopes: readonly string[];
  constructor(claims: JWTPayload, scopes: readonly string[]) {
    this.claims = claims;
    this.scopes = scopes;
  }
  get isAuthenticated(): boolean {
    return true;
  }
  /** The token's `sub`. */
  get userName(): string {
    return typeof this.claims.sub === 'string' ? this.claims.sub : '';
  }
}

/** The scopes a token grants: `scope` (space separated, RFC 8693) or `scp` (string or list). */
export function scopesOf(claims: JWTPayload): string[] {
  const raw = claims.scope ?? claims.scp;
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  if (Array.isArray(raw)) return raw.filter((entry): entry is string => typeof entry === 'string');
  return [];
}

export type BearerCheck = { ok: true; user: BearerTokenUser } | { ok: false; error: JsonRpcErrorObject };

/** Why jose refused a token, in words that reveal nothing about the token itself. */
function describeRejection(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the bearer token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `the bearer token's "${error.claim}" claim is not accepted`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return 'the bearer token signature is invalid';
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the issuer matches the bearer token';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the bearer token algorithm is not accepted';
  return 'the bearer token is not valid';
}

/** Validates `a2a-authorization` for one agent. */
export class BearerVerifier {
  readonly #options: BearerAuthOptions;

  constructor(options: BearerAuthOptions) {
    this.#options = options;
  }

  isPublic(method: string): boolean {
    return this.#options.publicMethods?.includes(method) ?? false;
  }

  /**
   * Check the `a2a-authorization` value of a request: a signed JWT from the issuer, for this audience, not
   * expired, with the scopes the card and the options ask for.
   */
  async check(header: string | undefined, method: string, card: AgentCard): Promise<BearerCheck> {
    const alternatives = bearerRequirements(card);
    const challenge = { scopes: [...(this.#options.requiredScopes ?? []), ...(alternatives[0] ?? [])] };
    if (header === undefined || header === '') {
      return {
        ok: false,
        error: authErrorObject(
          'unauthenticated',
          'this agent needs a bearer token in a2a-authorization',
          challenge,
        ),
      };
    }
    const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header);
    if (!match) {
      return {
        ok: false,
        error: authErrorObject('unauthenticated', "a2a-authorization must be 'Bearer <token>'", challenge),
      };
    }
    let claims: JWTPayload;
    try {
      const options = {
        issuer: this.#options.issuer,
        audience: this.#options.audience,
        requiredClaims: ['exp'],
        clockTolerance: this.#options.clockToleranceSeconds ?? 5,
        ...(this.#options.algorithms ? { algorithms: this.#options.algorithms } : {}),
      };
      const keys = this.#options.keys;
      const verified =
        typeof keys === 'function'
          ? await jwtVerify(match[1] as string, keys, options)
          : await jwtVerify(match[1] as string, keys as CryptoKey, options);
      claims = verified.payload;
    } catch (error) {
      return { ok: false, error: authErrorObject('unauthenticated', describeRejection(error), challenge) };
    }
    const granted = scopesOf(claims);
    const has = (scopes: readonly string[]): boolean => scopes.every((scope) => granted.includes(scope));
    const required = this.#options.requiredScopes ?? [];
    const missingRequired = required.filter((scope) => !granted.includes(scope));
    if (missingRequired.length > 0 || (alternatives.length > 0 && !alternatives.some(has))) {
      const wanted = [...required, ...(alternatives.some(has) ? [] : (alternatives[0] ?? []))];
      return {
        ok: false,
        error: authErrorObject('permission_denied', `the bearer token lacks a required scope`, {
          scopes: [...new Set(wanted)],
        }),
      };
    }
    if (this.#options.authorize) {
      let allowed = false;
      try {
        allowed = await this.#options.authorize(claims, { method });
      } catch {
        allowed = false;
      }
      if (!allowed) {
        return { ok: false, error: authErrorObject('permission_denied', `the caller may not use ${method}`) };
      }
    }
    return { ok: true, user: new BearerTokenUser(claims, granted) };
  }
}
