// The untrusted-broker security profile `ubsp-v1`: request, reply and stream payloads are JWE-encrypted end
// to end, to keys resolved from the peer's (signed) Agent Card, with replay protection (`jti`, `exp`).
import type { AgentCard } from '@a2a-js/sdk';
import {
  CompactEncrypt,
  FlattenedEncrypt,
  base64url,
  compactDecrypt,
  exportJWK,
  flattenedDecrypt,
} from 'jose';
import type {
  CompactJWEHeaderParameters,
  CryptoKey,
  FlattenedJWE,
  JWEHeaderParameters,
  JWK,
  KeyObject,
} from 'jose';
import { decodeJson } from '@mqtt-agents/core';
import type { AgentAddress } from './agent-address.js';
import type { CardVerificationOptions } from './card-signatures.js';
import { RecentMap } from './recent-map.js';
import { publicJwk } from './security-metadata.js';

/** The `a2a-security-profile` value of the untrusted-broker profile. */
export const UBSP_V1 = 'ubsp-v1';
/** Content type of a JWE payload in compact serialisation. */
export const JOSE_COMPACT = 'application/jose';
/** Content type of a JWE payload in JSON (flattened) serialisation. */
export const JOSE_JSON = 'application/jose+json';

/** A key jose can encrypt or decrypt with. */
export type UbspKey = CryptoKey | KeyObject | JWK;

/** `ubsp-v1` for a requester (`mqttTransportFactory({ ubsp })`) or an agent (`serveA2AOverMqtt({ ubsp })`). */
export interface UbspOptions {
  /** This party's private key (EC P-256/P-384, X25519 or RSA), to decrypt what peers send it. */
  privateKey: UbspKey;
  /** Its key id (`kid`), published in the card and sent as `a2a-recipient-kid`. */
  kid: string;
  /** The public key to publish in the card; derived from `privateKey` when that is an exportable key. */
  publicKey?: JWK;
  /** `compact` (`application/jose`, default) or `json` (`application/jose+json`). Replies use the request's. */
  serialization?: 'compact' | 'json';
  /**
   * A peer's public encryption key. Default: the inline `jwks` of the peer's card (the card given to
   * `ClientFactory`, or the peer's retained card on its discovery topic).
   */
  resolveKey?: (
    peer: AgentAddress,
    card: AgentCard | undefined,
  ) => UbspKey | undefined | Promise<UbspKey | undefined>;
  /**
   * Only take keys from cards whose signature verifies with these keys (and trusted-JKU policy). Strongly
   * advised: without it, an untrusted broker can hand out a card with its own key.
   */
  verifyCards?: CardVerificationOptions;
  /** Lifetime of a protected payload (`exp - iat`), in seconds. Default 60. */
  maxAgeSeconds?: number;
  /** Leeway for `iat` and `exp`, in seconds. Default 30. */
  clockToleranceSeconds?: number;
}

/** `ubsp-v1` on the agent side. */
export interface ServeUbspOptions extends UbspOptions {
  /** Refuse plaintext requests (`transport_protocol_error`). Default false: both are served. */
  required?: boolean;
}

/** Protected header parameters that bind a payload to its exchange. */
export const UbspHeader = {
  Requester: 'a2a-requester-agent-id',
  Recipient: 'a2a-recipient-agent-id',
  Responder: 'a2a-responder-agent-id',
  ResponseTopic: 'a2a-response-topic',
  CorrelationData: 'a2a-correlation-data',
} as const;

/** The `a2a-correlation-data` header value for a request's Correlation Data: base64url, no padding. */
export function ubspCorrelationHeader(correlationData: Uint8Array): string {
  return base64url.encode(correlationData);
}

function keyManagementAlgorithm(key: UbspKey): string {
  const jwk = key as JWK;
  if (typeof jwk.kty === 'string') {
    if (typeof jwk.alg === 'string' && /^(ECDH-ES|RSA-OAEP)/.test(jwk.alg)) return jwk.alg;
    return jwk.kty === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW';
  }
  const name = (key as { algorithm?: { name?: string } }).algorithm?.name ?? '';
  if (name.startsWith('RSA')) return 'RSA-OAEP-256';
  const type = (key as { asymmetricKeyType?: string }).asymmetricKeyType ?? '';
  return type === 'rsa' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW';
}

/** The public JWK to publish for `options` (with `kid`, `use: enc`, `alg`). */
export async function ubspPublicJwk(options: UbspOptions): Promise<JWK> {
  let jwk = options.publicKey;
  if (!jwk) {
    const key = options.privateKey as JWK;
    const exported = typeof key.kty === 'string' ? key : await exportJWK(options.privateKey as CryptoKey);
    jwk = publicJwk(exported);
  }
  return { ...publicJwk(jwk), kid: options.kid, use: 'enc', alg: keyManagementAlgorithm(jwk) };
}

/** The encryption key of a JWKS: the first key for `enc` (or a key-agreement algorithm). */
export function pickEncryptionKey(keys: readonly JWK[]): JWK | undefined {
  return (
    keys.find((key) => key.use === 'enc') ??
    keys.find((key) => typeof key.alg === 'string' && /^(ECDH-ES|RSA-OAEP)/.test(key.alg)) ??
    keys.find((key) => key.use !== 'sig' && (key.kty === 'EC' || key.kty === 'OKP' || key.kty === 'RSA'))
  );
}

const utf8 = new TextEncoder();

/** Encrypt one payload to `recipient`, binding `claims` into the protected header with `jti`, `iat`, `exp`. */
export async function encryptPayload(
  plaintext: string | Uint8Array,
  recipient: { key: UbspKey; kid: string | undefined },
  claims: Record<string, string>,
  options: { serialization: 'compact' | 'json'; maxAgeSeconds: number },
): Promise<{ payload: string; contentType: string }> {
  const now = Math.floor(Date.now() / 1000);
  const header: CompactJWEHeaderParameters = {
    alg: keyManagementAlgorithm(recipient.key),
    enc: 'A256GCM',
    cty: 'application/json',
    ...(recipient.kid === undefined ? {} : { kid: recipient.kid }),
    jti: globalThis.crypto.randomUUID(),
    iat: now,
    exp: now + options.maxAgeSeconds,
    ...claims,
  };
  const bytes = typeof plaintext === 'string' ? utf8.encode(plaintext) : plaintext;
  if (options.serialization === 'json') {
    const jwe = await new FlattenedEncrypt(bytes)
      .setProtectedHeader(header)
      .encrypt(recipient.key as CryptoKey);
    return { payload: JSON.stringify(jwe), contentType: JOSE_JSON };
  }
  const jwe = await new CompactEncrypt(bytes).setProtectedHeader(header).encrypt(recipient.key as CryptoKey);
  return { payload: jwe, contentType: JOSE_COMPACT };
}

/** A decrypted payload and its protected header. */
export interface Decrypted {
  readonly plaintext: Uint8Array;
  readonly header: JWEHeaderParameters & Record<string, unknown>;
  readonly serialization: 'compact' | 'json';
}

/** Decrypt a JWE payload (compact or JSON serialisation, by content type). Throws on any failure. */
export async function decryptPayload(
  payload: Uint8Array,
  contentType: string | undefined,
  privateKey: UbspKey,
): Promise<Decrypted> {
  if (contentType === JOSE_JSON) {
    const decoded = decodeJson(payload);
    if (!decoded.ok || typeof decoded.value !== 'object' || decoded.value === null) {
      throw new Error('the payload is not a JWE in JSON serialisation');
    }
    const result = await flattenedDecrypt(decoded.value as FlattenedJWE, privateKey as CryptoKey);
    return {
      plaintext: result.plaintext,
      header: (result.protectedHeader ?? {}) as Decrypted['header'],
      serialization: 'json',
    };
  }
  if (contentType !== JOSE_COMPACT) throw new Error(`content type '${contentType ?? '(none)'}' is not a JWE`);
  const result = await compactDecrypt(new TextDecoder().decode(payload), privateKey as CryptoKey);
  return {
    plaintext: result.plaintext,
    header: result.protectedHeader as Decrypted['header'],
    serialization: 'compact',
  };
}

/** Replay protection: every `jti` once, within `exp` (and `iat` not in the future). */
export class ReplayGuard {
  readonly #seen: RecentMap<string, true>;
  readonly #toleranceSeconds: number;
  readonly #maxAgeSeconds: number;

  constructor(options: { maxAgeSeconds: number; clockToleranceSeconds: number }) {
    this.#toleranceSeconds = options.clockToleranceSeconds;
    this.#maxAgeSeconds = options.maxAgeSeconds;
    this.#seen = new RecentMap({
      ttlMs: (options.maxAgeSeconds + 2 * options.clockToleranceSeconds) * 1000,
      maxEntries: 100_000,
    });
  }

  /** Undefined when the header is fresh and new (and remembers it), else why not. */
  check(header: Decrypted['header']): string | undefined {
    const now = Date.now() / 1000;
    const { jti, iat, exp } = header as { jti?: unknown; iat?: unknown; exp?: unknown };
    if (typeof jti !== 'string' || jti === '') return 'the protected header has no jti';
    if (typeof exp !== 'number' || typeof iat !== 'number') return 'the protected header lacks iat or exp';
    if (exp + this.#toleranceSeconds < now) return 'the protected payload has expired';
    if (iat - this.#toleranceSeconds > now) return 'the protected payload was issued in the future';
    if (exp - iat > this.#maxAgeSeconds + this.#toleranceSeconds)
      return 'the protected payload lives too long';
    if (this.#seen.has(jti)) return `replayed protected payload (jti ${jti.slice(0, 40)})`;
    this.#seen.set(jti, true);
    return undefined;
  }
}
