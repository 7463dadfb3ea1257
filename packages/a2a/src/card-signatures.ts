// Agent Card signatures (A2A v1.0 §8.4): a JWS over the card's canonical JSON (RFC 8785, default values
// and `signatures` removed), with the trusted-JKU policy of the profile and EIP-0033.
import { AgentCard, canonicalizeAgentCard } from '@a2a-js/sdk';
import type { AgentCardSignature } from '@a2a-js/sdk';
import { FlattenedSign, base64url, createRemoteJWKSet, decodeProtectedHeader, flattenedVerify } from 'jose';
import type { CryptoKey, FlattenedJWSInput, JWK, JWSHeaderParameters, KeyObject } from 'jose';
import { cardSecurityMetadata } from './security-metadata.js';

/** A key jose can sign or verify with. */
export type JoseKey = CryptoKey | KeyObject | JWK | Uint8Array;

/** How an agent signs its card (`serveA2AOverMqtt({ signCard })`, `signAgentCard`). */
export interface CardSigningOptions {
  /** The private key. */
  privateKey: JoseKey;
  /** JWS algorithm, for example `ES256`, `EdDSA` or `RS256`. */
  alg: string;
  /** Key id, written into the protected header; verifiers look the public key up by it. */
  kid: string;
  /** URL of the JWKS holding the public key (protected header `jku`); HTTPS. */
  jku?: string;
}

/**
 * Where verifiers find public keys: a jose key getter (`createLocalJWKSet(jwks)`, `createRemoteJWKSet(url)`)
 * or any function of the JWS protected header (`kid`, `jku`, `alg`).
 */
export type CardKeyResolver = (protectedHeader: JWSHeaderParameters) => JoseKey | Promise<JoseKey>;

/** Which keys and key URLs (`jku`) a card signature check trusts. */
export interface CardVerificationOptions {
  /**
   * Public keys. Default: the JWKS at the signature's `jku`, fetched over HTTPS (only from a trusted JKU
   * when `trustedJkus` is set).
   */
  keys?: CardKeyResolver;
  /**
   * Trusted-JKU policy: when non-empty, only signatures whose `jku` is on the list count (an entry ending in
   * `/` trusts every URL under it), and a card's `jwksUri` security metadata must be on it too. Empty or
   * absent: permissive.
   */
  trustedJkus?: readonly string[];
}

/** The outcome of checking a card's signatures. */
export type CardVerification =
  | { status: 'valid'; kid: string; jku: string | undefined }
  | { status: 'unsigned' }
  | { status: 'invalid'; reason: string };

const utf8 = new TextEncoder();

/** The card's canonical JSON (A2A §8.4.1), from its JSON (ProtoJSON) form. */
export function canonicalCardPayload(cardJson: Record<string, unknown>): string {
  // The SDK's canonicalisation parses ProtoJSON: feed it JSON, never a typed card, whose oneof fields
  // (securitySchemes) it would silently drop from what is signed.
  return canonicalizeAgentCard(cardJson as unknown as AgentCard);
}

/** True when `jku` is on the trusted list: an exact entry, or under an entry that ends with `/`. */
export function isTrustedJku(jku: string, trustedJkus: readonly string[]): boolean {
  return trustedJkus.some((entry) => (entry.endsWith('/') ? jku.startsWith(entry) : jku === entry));
}

/**
 * Sign a card (JWS, A2A v1.0 §8.4.2): the protected header carries `alg`, `typ: JOSE`, `kid` and `jku`;
 * existing signatures are replaced.
 */
export async function signAgentCard(card: AgentCard, options: CardSigningOptions): Promise<AgentCard> {
  const json = AgentCard.toJSON({ ...card, signatures: [] }) as Record<string, unknown>;
  const jws = await new FlattenedSign(utf8.encode(canonicalCardPayload(json)))
    .setProtectedHeader({
      alg: options.alg,
      typ: 'JOSE',
      kid: options.kid,
      ...(options.jku === undefined ? {} : { jku: options.jku }),
    })
    .sign(options.privateKey as CryptoKey);
  const signature: AgentCardSignature = {
    protected: jws.protected ?? '',
    signature: jws.signature,
    header: undefined,
  };
  return { ...card, signatures: [signature] };
}

const remoteSets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function defaultResolver(trustedJkus: readonly string[]): CardKeyResolver {
  return async (header) => {
    const jku = header.jku;
    if (jku === undefined) throw new Error('the signature names no jku and no keys were given');
    if (!jku.startsWith('https://')) throw new Error(`jku '${jku}' is not an https URL`);
    if (trustedJkus.length > 0 && !isTrustedJku(jku, trustedJkus))
      throw new Error(`jku '${jku}' is not trusted`);
    let set = remoteSets.get(jku);
    if (!set) {
      set = createRemoteJWKSet(new URL(jku));
      remoteSets.set(jku, set);
    }
    return (await set(header as never, undefined as never)) as JoseKey;
  };
}

/** Verify the signatures of a card (the SDK's `AgentCard`). See `verifyAgentCardJson`. */
export function verifyAgentCard(
  card: AgentCard,
  options: CardVerificationOptions = {},
): Promise<CardVerification> {
  return verifyAgentCardJson(AgentCard.toJSON(card) as Record<string, unknown>, options);
}

/**
 * Verify a card's signatures (A2A v1.0 §8.4.3) against the canonical form of the card as received (its
 * JSON): valid when at least one signature verifies with a key from `keys` and, under a trusted-JKU policy,
 * names a trusted `jku`. Never throws.
 */
export async function verifyAgentCardJson(
  json: Record<string, unknown>,
  options: CardVerificationOptions = {},
): Promise<CardVerification> {
  const signatures = Array.isArray(json.signatures) ? (json.signatures as AgentCardSignature[]) : [];
  if (signatures.length === 0) return { status: 'unsigned' };
  const trusted = options.trustedJkus ?? [];
  const metadata = cardSecurityMetadata(json);
  if (trusted.length > 0 && metadata.jwksUri !== undefined && !isTrustedJku(metadata.jwksUri, trusted)) {
    return { status: 'invalid', reason: `the card's jwksUri '${metadata.jwksUri}' is not trusted` };
  }
  let payload: string;
  try {
    payload = base64url.encode(utf8.encode(canonicalCardPayload(json)));
  } catch (error) {
    return { status: 'invalid', reason: `cannot canonicalise the card: ${(error as Error).message}` };
  }
  const resolve = options.keys ?? defaultResolver(trusted);
  const reasons: string[] = [];
  for (const entry of signatures) {
    try {
      if (typeof entry?.protected !== 'string' || typeof entry.signature !== 'string') {
        throw new Error('malformed signature entry');
      }
      const header = decodeProtectedHeader({ protected: entry.protected, signature: entry.signature });
      if (!header.alg || !header.kid) throw new Error('the protected header lacks alg or kid');
      if (trusted.length > 0 && (header.jku === undefined || !isTrustedJku(header.jku, trusted))) {
        throw new Error(`jku '${header.jku ?? '(none)'}' is not trusted`);
      }
      const jws: FlattenedJWSInput = {
        payload,
        protected: entry.protected,
        signature: entry.signature,
        ...(entry.header ? { header: entry.header as JWSHeaderParameters } : {}),
      };
      await flattenedVerify(
        jws,
        async (protectedHeader) => (await resolve(protectedHeader ?? {})) as CryptoKey,
      );
      return { status: 'valid', kid: header.kid, jku: header.jku };
    } catch (error) {
      reasons.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { status: 'invalid', reason: `no valid signature: ${reasons.join('; ')}` };
}
