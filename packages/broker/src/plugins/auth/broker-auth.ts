// `brokerAuth(options)`: authentication for the embedded broker. A client proves a credential (a password
// from the password file, a JWT, a verified TLS client certificate); the credential names the client ids it
// may connect with and its roles; the client gets a `Principal` that every later hook decides on. A client
// id held by one credential (connected, or its session kept) cannot be taken over by another.
import { printable } from '@mqtt-agents/core/grammar';
import type {
  AuthenticateContext,
  AuthenticateResult,
  Broker,
  BrokerLogger,
  Principal,
} from '../../types.js';
import type { BrokerPlugin } from '../plugin.js';
import { matchesAnyClientIdPattern } from './client-id-pattern.js';
import { ClientIdOwners } from './client-id-owners.js';
import {
  BAD_USER_NAME_OR_PASSWORD,
  CLIENT_IDENTIFIER_NOT_VALID,
  NOT_AUTHORIZED,
  SERVER_BUSY,
  SERVER_UNAVAILABLE,
  proven,
  refused,
  type Verification,
} from './credential.js';
import { HashGate } from './hash-gate.js';
import { createJwtVerifier, looksLikeJwt, type JwtAuthOptions, type JwtVerifier } from './jwt-auth.js';
import { createMtlsAuthenticator, type MtlsAuthenticator, type MtlsAuthOptions } from './mtls-auth.js';
import { parsePasswordEntry, type ParsedPasswordEntry, type PasswordEntry } from './password-file.js';
import { verifyPassword, type ScryptHash } from './password-hash.js';

/**
 * The credentials `brokerAuth` accepts (password-file entries, JWTs, TLS client certificates), whether
 * anonymous clients may connect, and the bounds on concurrent password checks.
 */
export interface BrokerAuthOptions {
  /** Password-file entries (`readPasswordFile(path)`, `parsePasswordFile(text)`). */
  passwords?: readonly (PasswordEntry | ParsedPasswordEntry)[];
  /** JWT in the CONNECT password; the user name must be empty or the token's `sub`. */
  jwt?: JwtAuthOptions;
  /** Verified TLS client certificates (a TLS listener with `requestCert` and `ca`). `true`: the defaults. */
  mtls?: MtlsAuthOptions | true;
  /**
   * Let clients without any credential connect, with no principal (they still cannot take over a client id
   * another credential holds). Default false: with any method configured, anonymous clients get 0x87.
   */
  allowAnonymous?: boolean;
  /** Password checks (scrypt) running at once; default 2. */
  hashConcurrency?: number;
  /** Password checks waiting for a turn; default 64 (then CONNECTs get 0x89 Server busy). */
  maxQueuedHashes?: number;
  /** Milliseconds a client id stays claimed between a successful check and the CONNACK; default 10000. */
  claimTimeout?: number;
  /** Where refusals are reported (info level, wire values escaped); default silent. */
  logger?: BrokerLogger;
}

const SILENT_LOGGER: BrokerLogger = { debug() {}, info() {}, warn() {}, error() {} };
const ANONYMOUS = 'anonymous';

function ownerKey(principal: Principal | undefined): string {
  return principal === undefined ? ANONYMOUS : `${principal.method}:${principal.name}`;
}

/**
 * The authentication plugin. Spread `plugin.hooks` into `startBroker` (or compose it first with
 * `composePlugins`, before the policy plugins) and call `plugin.attach(broker)`; until then it refuses every
 * client with 0x88 Server unavailable, since it cannot tell which credential holds a client id.
 */
export function brokerAuth(options: BrokerAuthOptions): BrokerPlugin {
  const entries = (options.passwords ?? []).map((entry) =>
    'scrypt' in entry ? (entry as ParsedPasswordEntry) : parsePasswordEntry(entry),
  );
  const passwords = new Map<string, ParsedPasswordEntry>();
  for (const entry of entries) {
    if (passwords.has(entry.user))
      throw new TypeError(`invalid brokerAuth passwords: user '${entry.user}' appears twice`);
    passwords.set(entry.user, entry);
  }
  const jwt: JwtVerifier | undefined = options.jwt ? createJwtVerifier(options.jwt) : undefined;
  const mtls: MtlsAuthenticator | undefined =
    options.mtls === undefined
      ? undefined
      : createMtlsAuthenticator(options.mtls === true ? {} : options.mtls);
  const allowAnonymous = options.allowAnonymous === true;
  if (passwords.size === 0 && !jwt && !mtls && !allowAnonymous && options.passwords === undefined) {
    throw new TypeError('invalid brokerAuth options: give passwords, jwt or mtls (or allowAnonymous)');
  }
  const gate = new HashGate({ concurrency: options.hashConcurrency, maxQueued: options.maxQueuedHashes });
  const logger = options.logger ?? SILENT_LOGGER;
  // An unknown user costs as much as a known one: the check runs against a hash with the file's parameters.
  const decoy: ScryptHash | undefined = entries[0]
    ? { ...entries[0].scrypt, key: Buffer.alloc(entries[0].scrypt.key.length) }
    : undefined;

  let attached: Broker | undefined;
  let owners: ClientIdOwners | undefined;

  async function checkPassword(username: string, password: Buffer): Promise<Verification> {
    const entry = passwords.get(username);
    const hash = entry?.scrypt ?? decoy;
    if (!hash) return refused(BAD_USER_NAME_OR_PASSWORD, 'no password file');
    const check = gate.run(() => verifyPassword(hash, password));
    if (!check) return refused(SERVER_BUSY, 'too many password checks at once');
    const matches = await check;
    if (!entry) return refused(BAD_USER_NAME_OR_PASSWORD, 'unknown user');
    if (!matches) return refused(BAD_USER_NAME_OR_PASSWORD, 'wrong password');
    return proven({ name: entry.user, method: 'password', roles: entry.roles }, entry.patterns);
  }

  async function verify(context: AuthenticateContext): Promise<Verification | undefined> {
    const { username, password } = context;
    if (password !== undefined) {
      const text = password.toString('utf8');
      if (jwt && looksLikeJwt(text)) return jwt(text, username);
      if (username === undefined || username === '') {
        return refused(BAD_USER_NAME_OR_PASSWORD, 'a password without a user name');
      }
      return checkPassword(username, password);
    }
    if (username !== undefined && username !== '') {
      return refused(BAD_USER_NAME_OR_PASSWORD, 'a user name without a password');
    }
    if (context.peerCertificate && mtls) return mtls(context.peerCertificate);
    return undefined; // no credential at all
  }

  function refuse(context: AuthenticateContext, reasonCode: number, reason: string): number {
    const user = context.username === undefined ? '' : ` (user '${printable(context.username)}')`;
    logger.info(
      `mqtt-agents:broker-auth: refused client '${printable(context.id)}'${user} with 0x${reasonCode.toString(16)}: ${printable(reason)}`,
    );
    return reasonCode;
  }

  async function authenticate(context: AuthenticateContext): Promise<AuthenticateResult> {
    if (!owners) {
      logger.error('mqtt-agents:broker-auth: attach(broker) was not called; refusing clients');
      return SERVER_UNAVAILABLE;
    }
    const verification = await verify(context);
    if (verification === undefined) {
      if (!allowAnonymous) return refuse(context, NOT_AUTHORIZED, 'no credential');
      if (!owners.claim(context.id, ANONYMOUS)) {
        return refuse(context, NOT_AUTHORIZED, 'the client id is held by another credential');
      }
      return true;
    }
    if (!verification.ok) return refuse(context, verification.reasonCode, verification.reason);
    const { principal, patterns } = verification.credential;
    // A broker-assigned id (empty client id in CONNECT) is fresh and random: any credential may use it.
    if (!context.assignedClientId && !matchesAnyClientIdPattern(patterns, context.id, principal.name)) {
      return refuse(
        context,
        CLIENT_IDENTIFIER_NOT_VALID,
        `${principal.method} credential '${principal.name}' may not use this client id`,
      );
    }
    if (!owners.claim(context.id, ownerKey(principal))) {
      return refuse(context, NOT_AUTHORIZED, 'the client id is held by another credential');
    }
    return { principal };
  }

  return {
    name: 'broker-auth',
    hooks: { authenticate },
    attach(broker) {
      if (attached && attached !== broker)
        throw new Error('brokerAuth is already attached to another broker');
      attached = broker;
      const table = new ClientIdOwners({
        holds: (clientId) => broker.hasSession(clientId),
        sessionCount: () => broker.sessionCount,
        ...(options.claimTimeout === undefined ? {} : { claimTimeout: options.claimTimeout }),
      });
      owners = table;
      const onConnect = (client: { id: string; principal: Principal | undefined }): void =>
        table.confirm(client.id, ownerKey(client.principal));
      const onDisconnect = (client: { id: string }): void => table.release(client.id);
      broker.on('client-connect', onConnect);
      broker.on('client-disconnect', onDisconnect);
      return () => {
        broker.off('client-connect', onConnect);
        broker.off('client-disconnect', onDisconnect);
        table.clear();
        if (owners === table) owners = undefined;
        attached = undefined;
      };
    },
  };
}
