// Fixtures of the authentication attacks: certificates made with openssl in a temp dir (a CA, a server
// certificate, client certificates from that CA and from a rogue one), JWT keys, password-file text, and a
// connect helper that reports the CONNACK reason code of a refusal instead of throwing.
import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '@mqtt-agents/broker';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** The weakest scrypt cost the password file accepts, so the attacks stay quick. */
export const TEST_SCRYPT_COST = 14;

export interface Pem {
  readonly key: Buffer;
  readonly cert: Buffer;
}

export interface Certificates {
  readonly ca: Buffer;
  readonly server: Pem;
  /** Client certificates signed by `ca`, by CN. */
  client(commonName: string): Pem;
  /** A client certificate for `commonName` signed by a CA the broker does not trust. */
  rogue(commonName: string): Pem;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function selfSigned(cwd: string, name: string, subject: string): void {
  openssl(
    [
      'req',
      '-x509',
      ...EC_KEY,
      '-days',
      '1',
      '-subj',
      subject,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
    ],
    cwd,
  );
}

function signed(cwd: string, ca: string, name: string, subject: string): Pem {
  openssl(['req', '-new', ...EC_KEY, '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`], cwd);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      `${name}.pem`,
    ],
    cwd,
  );
  return { key: readFileSync(join(cwd, `${name}.key`)), cert: readFileSync(join(cwd, `${name}.pem`)) };
}

/** Make a CA, a server certificate and (on demand) client certificates with openssl. */
export function makeCertificates(): Certificates {
  const directory = mkdtempSync(join(tmpdir(), 'mqtt-agents-auth-'));
  selfSigned(directory, 'ca', '/CN=mqtt-agents test CA');
  selfSigned(directory, 'rogue-ca', '/CN=mqtt-agents test CA');
  selfSigned(directory, 'server', '/CN=localhost');
  let sequence = 0;
  const issue = (ca: string, commonName: string): Pem =>
    signed(directory, ca, `client-${++sequence}`, `/CN=${commonName}`);
  return {
    ca: readFileSync(join(directory, 'ca.pem')),
    server: {
      key: readFileSync(join(directory, 'server.key')),
      cert: readFileSync(join(directory, 'server.pem')),
    },
    client: (commonName) => issue('ca', commonName),
    rogue: (commonName) => issue('rogue-ca', commonName),
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}

/** One password-file line. */
export async function passwordLine(
  user: string,
  password: string,
  clientIds: string[],
  roles: string[] = [],
): Promise<string> {
  const hash = await hashPassword(password, { cost: TEST_SCRYPT_COST });
  return `${user}:${hash}:${clientIds.join(',')}${roles.length > 0 ? `:${roles.join(',')}` : ''}`;
}

/** JWT claims (signed here with node:crypto, independently of the jose code under test). */
export type Claims = Record<string, unknown>;

export interface JwtIssuer {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  /** The public key as a JWKS with `kid` and `alg`. */
  jwks(): { keys: Array<Record<string, unknown>> };
  /** A signed RS256 token: `iss`, `aud`, `iat` and `exp` (in 10 minutes) unless `claims` override or omit them. */
  token(claims: Claims, options?: { omit?: string[] }): string;
}

export const JWT_ISSUER = 'https://issuer.example.test';
export const JWT_AUDIENCE = 'mqtt-agents-broker';

const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function payloadOf(claims: Claims, omit: string[] = []): Claims {
  const now = Math.floor(Date.now() / 1000);
  const payload: Claims = { iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: now, exp: now + 600, ...claims };
  for (const name of omit) delete payload[name];
  return payload;
}

export function makeJwtIssuer(): JwtIssuer {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKey,
    privateKey,
    jwks: () => ({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] }),
    token: (claims, options = {}) => {
      const signingInput = `${part({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${part(payloadOf(claims, options.omit))}`;
      return `${signingInput}.${sign('sha256', Buffer.from(signingInput), privateKey).toString('base64url')}`;
    },
  };
}

/** A token signed with HS256 and `secret` (the key-confusion attack passes the RSA public key PEM here). */
export function hmacToken(claims: Claims, secret: string | Buffer): string {
  const signingInput = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payloadOf(claims))}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

/** An unsigned token (`alg: none`) with the given claims. */
export function unsignedToken(claims: Claims): string {
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payloadOf(claims))}.`;
}

/** What a connection attempt came to: connected, or refused with a CONNACK reason code, or closed. */
export type ConnectOutcome =
  | { readonly connected: true; readonly client: MqttClient }
  | { readonly connected: false; readonly reasonCode: number | undefined; readonly error: string };

const opened = new Set<MqttClient>();

/** Try to connect (no reconnects); resolves with the outcome. Connected clients are closed by `closeClients`. */
export function attempt(url: string, options: IClientOptions = {}): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 20_000,
      ...options,
    });
    opened.add(client);
    let settled = false;
    const settle = (outcome: ConnectOutcome): void => {
      if (settled) return;
      settled = true;
      if (!outcome.connected) {
        opened.delete(client);
        client.end(true);
      }
      resolve(outcome);
    };
    client.once('connect', () => settle({ connected: true, client }));
    client.once('error', (error: Error & { code?: unknown }) =>
      settle({
        connected: false,
        reasonCode: typeof error.code === 'number' ? error.code : undefined,
        error: error.message,
      }),
    );
    client.once('close', () =>
      settle({ connected: false, reasonCode: undefined, error: 'connection closed' }),
    );
  });
}

/** The reason code of a refused attempt (0 when it connected: then the client is closed). */
export async function refusal(url: string, options: IClientOptions = {}): Promise<number | 'closed'> {
  const outcome = await attempt(url, options);
  if (outcome.connected) {
    opened.delete(outcome.client);
    await outcome.client.endAsync();
    return 0;
  }
  return outcome.reasonCode ?? 'closed';
}

/** Connect, or fail the test with the reason. */
export async function connected(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const outcome = await attempt(url, options);
  if (!outcome.connected) {
    throw new Error(
      `expected to connect as '${String(options.clientId)}', got ${outcome.reasonCode ?? outcome.error}`,
    );
  }
  return outcome.client;
}

export async function closeClients(): Promise<void> {
  const clients = [...opened];
  opened.clear();
  await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
}
