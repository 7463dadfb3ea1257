// mTLS authentication: a client certificate that verified against the TLS listener's `ca` proves the
// subject CN (or, listed by fingerprint, that exact certificate). A mapping binds it to client ids and roles.
import type { PeerCertificate } from '../../types.js';
import { isValidRole, parseClientIdPattern, type ClientIdPattern } from './client-id-pattern.js';
import { NOT_AUTHORIZED, proven, refused, type Verification } from './credential.js';

/** What one certificate (by subject CN or SHA-256 fingerprint) may use. */
export interface MtlsClient {
  /** Client-id patterns (see `parseClientIdPattern`). */
  readonly clientIds: readonly string[];
  readonly roles?: readonly string[];
}

/** Which client ids and roles a verified TLS client certificate gets, by subject CN or fingerprint. */
export interface MtlsAuthOptions {
  /**
   * Certificates by subject CN, or by SHA-256 fingerprint (`AB:CD:...`, as `openssl x509 -fingerprint
   * -sha256` prints it). A fingerprint entry wins over a CN entry.
   */
  clients?: Readonly<Record<string, MtlsClient>>;
  /**
   * Client ids of a verified certificate that `clients` does not list; default `['{name}']` (the CN is the
   * client id). An empty list refuses unlisted certificates.
   */
  defaultClientIds?: readonly string[];
}

/** Check a verified client certificate. */
export type MtlsAuthenticator = (certificate: PeerCertificate) => Verification;

const FINGERPRINT = /^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/;

interface CompiledClient {
  readonly patterns: readonly ClientIdPattern[];
  readonly roles: readonly string[];
}

function compile(key: string, client: MtlsClient): CompiledClient {
  if (!Array.isArray(client?.clientIds)) {
    throw new TypeError(`invalid mtls client ${JSON.stringify(key)}: clientIds must be an array`);
  }
  const roles = client.roles ?? [];
  const badRole = roles.find((role) => !isValidRole(role));
  if (badRole !== undefined) {
    throw new TypeError(
      `invalid mtls client ${JSON.stringify(key)}: invalid role ${JSON.stringify(badRole)}`,
    );
  }
  return Object.freeze({
    patterns: Object.freeze(client.clientIds.map((pattern) => parseClientIdPattern(pattern))),
    roles: Object.freeze([...roles]),
  });
}

/** Make an authenticator from the options; throws a TypeError for an invalid mapping. */
export function createMtlsAuthenticator(options: MtlsAuthOptions = {}): MtlsAuthenticator {
  const byFingerprint = new Map<string, CompiledClient>();
  const byCommonName = new Map<string, CompiledClient>();
  for (const [key, client] of Object.entries(options.clients ?? {})) {
    const compiled = compile(key, client);
    if (FINGERPRINT.test(key.toUpperCase())) byFingerprint.set(key.toUpperCase(), compiled);
    else byCommonName.set(key, compiled);
  }
  const defaults: CompiledClient = Object.freeze({
    patterns: Object.freeze(
      (options.defaultClientIds ?? ['{name}']).map((pattern) => parseClientIdPattern(pattern)),
    ),
    roles: Object.freeze([]),
  });
  return (certificate) => {
    if (!certificate.authorized) return refused(NOT_AUTHORIZED, 'the client certificate did not verify');
    const commonName = certificate.subject.CN;
    if (Array.isArray(commonName)) return refused(NOT_AUTHORIZED, 'the client certificate has several CNs');
    const fingerprint = certificate.fingerprint256.toUpperCase();
    const listed =
      byFingerprint.get(fingerprint) ?? (commonName === undefined ? undefined : byCommonName.get(commonName));
    const name = commonName ?? (byFingerprint.has(fingerprint) ? fingerprint : undefined);
    if (name === undefined || name === '') {
      return refused(NOT_AUTHORIZED, 'the client certificate has no subject CN');
    }
    const client = listed ?? defaults;
    if (client.patterns.length === 0) return refused(NOT_AUTHORIZED, 'the client certificate is not listed');
    return proven({ name, method: 'mtls', roles: client.roles }, client.patterns);
  };
}
