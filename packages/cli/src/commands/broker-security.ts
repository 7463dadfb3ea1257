// The authentication, TLS and ACL flags of `mqtt-agents broker`: they read the files they name, build the
// `brokerAuth` plugin (password file, JWT, mTLS), the TLS listener and, with `--acl`, the agent policy
// plugins. Safe default: as soon as any authentication method is given, clients without a credential are
// refused (`--allow-anonymous` lets them in), and the broker does not listen beyond loopback without one.
import { readFile } from 'node:fs/promises';
import {
  a2aRegistry,
  agentTopicAcl,
  brokerAuth,
  composePlugins,
  mcpBrokerHelpers,
  parsePasswordFile,
  type BrokerLogger,
  type BrokerPlugin,
  type JwtAuthOptions,
  type JwtKey,
  type MtlsAuthOptions,
  type TlsListenerOptions,
} from '@mqtt-agents/broker';
import { parsePort } from '../flags.js';
import { UsageError } from '../io.js';

/** The flag declarations (spread into the command's `parseFlags` options). */
export const brokerSecurityFlags = {
  'password-file': { type: 'string' },
  'jwt-jwks': { type: 'string' },
  'jwt-public-key': { type: 'string' },
  'jwt-secret-file': { type: 'string' },
  'jwt-issuer': { type: 'string', multiple: true },
  'jwt-audience': { type: 'string', multiple: true },
  'jwt-client-ids-claim': { type: 'string' },
  'jwt-roles-claim': { type: 'string' },
  'tls-port': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-clients': { type: 'string' },
  'require-client-cert': { type: 'boolean' },
  'allow-anonymous': { type: 'boolean' },
  acl: { type: 'boolean' },
} as const;

/** The lines of `--help` for these flags. */
// eslint-disable-next-line no-restricted-syntax -- help prose names the topic families, it builds no topic
export const brokerSecurityHelp = `Authentication (any combination; with any of them, clients without a credential are refused):
  --password-file <file>         user name + password from a file of scrypt hashes, each with the client
                                 ids it may use and its roles (create entries with mqtt-agents passwd)
  --jwt-jwks <file>              JWT in the password field, verified with the public keys of a JWKS file,
  --jwt-public-key <file>          or with a PEM public key,
  --jwt-secret-file <file>         or with an HMAC secret (at least 32 bytes)
  --jwt-issuer <iss>             accepted iss (required with a JWT key; repeatable)
  --jwt-audience <aud>           accepted aud (required with a JWT key; repeatable)
  --jwt-client-ids-claim <name>  claim with the token's client-id patterns (default client_ids; without
                                 it the sub is the client id)
  --jwt-roles-claim <name>       claim with the token's roles (default roles)
  --allow-anonymous              also let clients without a credential in (they cannot take over an id
                                 a credential holds); needed to listen beyond loopback without auth
TLS:
  --tls-port <port>              also serve MQTT over TLS on this port (default 8883 with --tls-cert)
  --tls-cert <file>              server certificate (PEM)
  --tls-key <file>               server private key (PEM)
  --tls-ca <file>                CA for client certificates: a verified certificate authenticates its
                                 subject CN (mTLS); the CN is the client id unless --tls-clients says more
  --tls-clients <file>           JSON: {"<CN or SHA-256 fingerprint>": {"clientIds": [...], "roles": [...]}}
  --require-client-cert          refuse TLS clients without a certificate signed by --tls-ca
Authorization:
  --acl                          enable the agent policy plugins: topic ACLs that bind identities in
                                 $a2a/ and $mcp- topics to client ids (operators read all agent traffic),
                                 the A2A registry, and the MCP helpers
`;

type Values = {
  [K in keyof typeof brokerSecurityFlags]?: (typeof brokerSecurityFlags)[K] extends { multiple: true }
    ? string[]
    : (typeof brokerSecurityFlags)[K] extends { type: 'boolean' }
      ? boolean
      : string;
};

/** What the flags come to. */
export interface BrokerSecurity {
  /** Hooks and attach of every plugin the flags enable (undefined: none). */
  readonly plugin: BrokerPlugin | undefined;
  readonly tls: TlsListenerOptions | undefined;
  /** Short descriptions for the startup line (`password file`, `jwt`, `mtls`, `acl`). */
  readonly features: readonly string[];
  /** Lines for stderr (no authentication, and so on). */
  readonly warnings: readonly string[];
}

async function readText(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(`cannot read --${flag} '${path}'${code ? ` (${code})` : ''}`);
  }
}

function parseJson(flag: string, path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`invalid --${flag} '${path}': not JSON`);
  }
}

/** Turn a TypeError of the broker's option checks into a one-line usage error. */
async function asUsage<T>(what: string, build: () => T | Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function jwtOptions(values: Values): Promise<JwtAuthOptions | undefined> {
  const sources = (['jwt-jwks', 'jwt-public-key', 'jwt-secret-file'] as const).filter(
    (flag) => values[flag] !== undefined,
  );
  const claimsGiven =
    values['jwt-issuer'] !== undefined ||
    values['jwt-audience'] !== undefined ||
    values['jwt-client-ids-claim'] !== undefined ||
    values['jwt-roles-claim'] !== undefined;
  if (sources.length === 0) {
    if (claimsGiven)
      throw new UsageError(
        '--jwt-issuer and --jwt-audience need --jwt-jwks, --jwt-public-key or --jwt-secret-file',
      );
    return undefined;
  }
  if (sources.length > 1) throw new UsageError(`give one of --${sources.join(', --')}`);
  const issuer = values['jwt-issuer'] ?? [];
  const audience = values['jwt-audience'] ?? [];
  if (issuer.length === 0) throw new UsageError('missing --jwt-issuer <iss> (tokens must name their issuer)');
  if (audience.length === 0)
    throw new UsageError('missing --jwt-audience <aud> (tokens must name this broker)');
  const flag = sources[0] as (typeof sources)[number];
  const path = values[flag] as string;
  const text = await readText(flag, path);
  let key: JwtKey;
  if (flag === 'jwt-jwks') key = { jwks: parseJson(flag, path, text) as never };
  else if (flag === 'jwt-public-key') key = { publicKey: text };
  else key = { secret: Buffer.from(text.replace(/\r?\n$/, ''), 'utf8') };
  return {
    key,
    issuer,
    audience,
    ...(values['jwt-client-ids-claim'] === undefined
      ? {}
      : { clientIdsClaim: values['jwt-client-ids-claim'] }),
    ...(values['jwt-roles-claim'] === undefined ? {} : { rolesClaim: values['jwt-roles-claim'] }),
  };
}

async function tlsOptions(values: Values): Promise<TlsListenerOptions | undefined> {
  const port = parsePort('tls-port', values['tls-port'], undefined);
  const wanted = port !== undefined || values['tls-cert'] !== undefined || values['tls-key'] !== undefined;
  if (!wanted) {
    for (const flag of ['tls-ca', 'tls-clients', 'require-client-cert'] as const) {
      if (values[flag] !== undefined)
        throw new UsageError(`--${flag} needs a TLS listener (--tls-cert and --tls-key)`);
    }
    return undefined;
  }
  if (values['tls-cert'] === undefined || values['tls-key'] === undefined) {
    throw new UsageError('a TLS listener needs --tls-cert <file> and --tls-key <file>');
  }
  const ca = values['tls-ca'];
  if (ca === undefined) {
    for (const flag of ['tls-clients', 'require-client-cert'] as const) {
      if (values[flag] !== undefined)
        throw new UsageError(`--${flag} needs --tls-ca <file> to verify client certificates`);
    }
  }
  return {
    port: port ?? 8883,
    cert: await readText('tls-cert', values['tls-cert']),
    key: await readText('tls-key', values['tls-key']),
    ...(ca === undefined
      ? {}
      : {
          ca: await readText('tls-ca', ca),
          requestCert: true,
          rejectUnauthorized: values['require-client-cert'] === true,
        }),
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Read the files the flags name and build the plugins and the TLS listener; usage errors are one line. */
export async function brokerSecurity(
  values: Values,
  context: { host: string; logger: BrokerLogger },
): Promise<BrokerSecurity> {
  const features: string[] = [];
  const warnings: string[] = [];
  const passwordFile = values['password-file'];
  const passwords =
    passwordFile === undefined
      ? undefined
      : await asUsage('invalid --password-file', async () =>
          parsePasswordFile(await readText('password-file', passwordFile), `password file ${passwordFile}`),
        );
  if (passwords) features.push(`password file (${passwords.length} users)`);
  const jwt = await asUsage('invalid JWT options', () => jwtOptions(values));
  if (jwt) features.push('jwt');
  const tls = await tlsOptions(values);
  let mtls: MtlsAuthOptions | undefined;
  if (tls?.ca !== undefined) {
    const clientsFile = values['tls-clients'];
    const clients =
      clientsFile === undefined
        ? undefined
        : (parseJson(
            'tls-clients',
            clientsFile,
            await readText('tls-clients', clientsFile),
          ) as MtlsAuthOptions['clients']);
    mtls = clients === undefined ? {} : { clients };
    features.push(values['require-client-cert'] ? 'mtls (required)' : 'mtls');
  }
  const allowAnonymous = values['allow-anonymous'] === true;
  const authenticates = passwords !== undefined || jwt !== undefined || mtls !== undefined;
  const plugins: BrokerPlugin[] = [];
  if (authenticates) {
    plugins.push(
      await asUsage('invalid authentication options', () =>
        brokerAuth({
          ...(passwords ? { passwords } : {}),
          ...(jwt ? { jwt } : {}),
          ...(mtls ? { mtls } : {}),
          allowAnonymous,
          logger: context.logger,
        }),
      ),
    );
    if (allowAnonymous) features.push('anonymous allowed');
  } else if (!allowAnonymous && !isLoopback(context.host)) {
    throw new UsageError(
      `refusing to listen on ${context.host} without authentication: give --password-file, --jwt-jwks|--jwt-public-key|--jwt-secret-file or --tls-ca, or --allow-anonymous`,
    );
  } else if (!allowAnonymous) {
    warnings.push(
      'no authentication: any client may connect with any client id (see --password-file, --jwt-*, --tls-ca)',
    );
  }
  if (values.acl) {
    plugins.push(agentTopicAcl(), a2aRegistry(), mcpBrokerHelpers());
    features.push('acl');
    if (!authenticates)
      warnings.push('--acl without authentication binds topics to client ids that anyone may claim');
  }
  const plugin =
    plugins.length === 0 ? undefined : plugins.length === 1 ? plugins[0] : composePlugins(...plugins);
  return { plugin, tls, features, warnings };
}
