// `mqtt-agents passwd` and the authentication, TLS and ACL flags of `mqtt-agents broker` (defect 13: the
// command had no auth, ACL or TLS flags, so any client could connect with any client id).
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import mqtt, { type IClientOptions } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../src/index.js';
import { cli, SPAWN_TIMEOUT } from './cli-process.js';

const directory = mkdtempSync(join(tmpdir(), 'mqtt-agents-cli-auth-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const path = (name: string): string => join(directory, name);

function captureIo(stdin?: string): CliIo & { out: string[]; err: string[]; stop(): void } {
  const controller = new AbortController();
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => void out.push(text),
    stderr: (text) => void err.push(text),
    signal: controller.signal,
    env: {},
    ...(stdin === undefined ? {} : { stdin: Readable.from([stdin]) }),
    stop: () => controller.abort(),
  };
}

/** Run `mqtt-agents broker <args>` in this process until `stop()`; resolves once it listens. */
async function runBroker(
  args: string[],
): Promise<{ urls: string[]; io: ReturnType<typeof captureIo>; exit: Promise<number> }> {
  const io = captureIo();
  const exit = main(['broker', '--port', '0', ...args], io);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const line = io.out.find((text) => text.includes('listening on'));
    if (line) return { urls: line.match(/mqtts?:\/\/[^\s)]+/g) ?? [], io, exit };
    if (io.err.length > 0 && (await Promise.race([exit, Promise.resolve(undefined)])) !== undefined) {
      throw new Error(`broker exited: ${io.err.join('')}`);
    }
    if (Date.now() > deadline) throw new Error(`broker did not start: ${io.err.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** 0 when the client connects (then it disconnects), else the CONNACK reason code or 'failed'. */
function outcome(url: string, options: IClientOptions): Promise<number | 'failed'> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, ...options });
    client.once('connect', () => {
      resolve(0);
      client.end();
    });
    client.once('error', (error: Error & { code?: unknown }) => {
      client.end(true);
      resolve(typeof error.code === 'number' ? error.code : 'failed');
    });
    client.once('close', () => resolve('failed'));
  });
}

async function passwd(
  file: string,
  args: string[],
  password: string,
): Promise<{ code: number; err: string }> {
  const io = captureIo(`${password}\n`);
  const code = await main(['passwd', file, ...args, '--cost', '14'], io);
  return { code, err: io.err.join('') };
}

describe('mqtt-agents passwd', () => {
  it(
    'the real command reads the password from stdin and writes a 0600 file of scrypt hashes',
    async () => {
      const file = path('spawned.passwd');
      await using command = cli([
        'passwd',
        file,
        'planner',
        '--client-id',
        'acme/line/planner',
        '--cost',
        '14',
      ]);
      command.child.stdin.end('planner-password\n');
      expect(await command.exit).toBe(0);
      expect(command.stderr()).toContain(`added 'planner' in ${file}`);
      const text = readFileSync(file, 'utf8');
      expect(text).toMatch(/^planner:\$scrypt\$ln=14,r=8,p=1\$[^:]+:acme\/line\/planner\n$/);
      expect(text).not.toContain('planner-password');
      expect(statSync(file).mode & 0o777).toBe(0o600);
    },
    SPAWN_TIMEOUT,
  );

  it('adds, replaces and deletes users, and refuses bad input with exit code 2', async () => {
    const file = path('users.passwd');
    expect((await passwd(file, ['a', '--client-id', 'a-*'], 'password-a')).code).toBe(0);
    expect((await passwd(file, ['b', '--client-id', 'b', '--role', 'operator'], 'password-b')).code).toBe(0);
    expect((await passwd(file, ['a', '--client-id', 'acme/a'], 'password-a2')).err).toContain("updated 'a'");
    expect(readFileSync(file, 'utf8')).toMatch(/^a:\$scrypt\$[^:]+:acme\/a\nb:\$scrypt\$[^:]+:b:operator\n$/);
    const refusals: Array<[string[], string, RegExp]> = [
      [['c'], 'password-c', /missing --client-id/],
      [['c', '--client-id', 'acme/+/c'], 'password-c', /invalid client-id pattern/],
      [['c', '--client-id', '#'], 'password-c', /invalid client-id pattern/],
      [['c', '--client-id', 'c'], 'short', /at least 8 characters/],
      [['c', '--client-id', 'c', 'extra-password-on-the-command-line'], 'password-c', /read from stdin/],
      [['bad user', '--client-id', 'c'], 'password-c', /user name/],
      [['c', '--client-id', 'c', '--role', 'a b'], 'password-c', /invalid role/],
    ];
    for (const [args, password, error] of refusals) {
      const result = await passwd(file, args, password);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err).toMatch(error);
    }
    const io = captureIo();
    expect(await main(['passwd', file, 'a', '--delete'], io)).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^b:/);
  });
});

describe('mqtt-agents broker: authentication, TLS and ACL flags', () => {
  let passwordFile: string;

  beforeAll(async () => {
    passwordFile = path('broker.passwd');
    expect(
      (await passwd(passwordFile, ['planner', '--client-id', 'acme/line/planner'], 'planner-pw1')).code,
    ).toBe(0);
    expect((await passwd(passwordFile, ['mallory', '--client-id', 'acme/line/*'], 'mallory-pw1')).code).toBe(
      0,
    );
  });

  it('--password-file: only listed users with the right password, on their client ids; no takeover by another', async () => {
    const { urls, io, exit } = await runBroker(['--password-file', passwordFile, '--acl']);
    const url = urls[0] as string;
    expect(io.out.join('')).toContain('(password file (2 users), acl)');
    expect(await outcome(url, { clientId: 'acme/line/planner' })).toBe(0x87);
    expect(
      await outcome(url, { clientId: 'acme/line/planner', username: 'planner', password: 'wrong' }),
    ).toBe(0x86);
    expect(
      await outcome(url, { clientId: 'acme/line/other', username: 'planner', password: 'planner-pw1' }),
    ).toBe(0x85);
    const planner = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId: 'acme/line/planner',
      username: 'planner',
      password: 'planner-pw1',
    });
    // Mallory's credential allows acme/line/*, but the planner holds the id.
    expect(
      await outcome(url, { clientId: 'acme/line/planner', username: 'mallory', password: 'mallory-pw1' }),
    ).toBe(0x87);
    expect(planner.connected).toBe(true);
    // --acl: mallory, as herself, may not read the planner's requests.
    const mallory = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId: 'acme/line/mallory',
      username: 'mallory',
      password: 'mallory-pw1',
    });
    const grants = await mallory
      .subscribeAsync('$a2a/v1/request/acme/line/planner', { qos: 1 })
      .catch(() => [{ qos: 0x87 }]);
    expect(grants[0]?.qos).toBe(0x87);
    await Promise.all([planner.endAsync(), mallory.endAsync()]);
    expect(io.out.join('')).toMatch(/refused client 'acme\/line\/planner' \(user 'mallory'\) with 0x87/);
    io.stop();
    expect(await exit).toBe(0);
  });

  it('--jwt-secret-file with --jwt-issuer and --jwt-audience', async () => {
    const secretFile = path('jwt.secret');
    const secret = 'a-shared-secret-of-at-least-32-bytes';
    writeFileSync(secretFile, `${secret}\n`);
    const { urls, io, exit } = await runBroker([
      '--jwt-secret-file',
      secretFile,
      '--jwt-issuer',
      'https://issuer.test',
      '--jwt-audience',
      'line-broker',
    ]);
    const token = (claims: Record<string, unknown>): string => {
      const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const input = `${part({ alg: 'HS256' })}.${part({ iss: 'https://issuer.test', aud: 'line-broker', exp: now + 60, ...claims })}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    };
    const url = urls[0] as string;
    expect(await outcome(url, { clientId: 'svc-1', username: '', password: token({ sub: 'svc-1' }) })).toBe(
      0,
    );
    expect(
      await outcome(url, { clientId: 'svc-1', username: '', password: token({ sub: 'svc-1', aud: 'x' }) }),
    ).toBe(0x86);
    expect(await outcome(url, { clientId: 'svc-2', username: '', password: token({ sub: 'svc-1' }) })).toBe(
      0x85,
    );
    io.stop();
    expect(await exit).toBe(0);
  });

  it('--tls-cert/--tls-key/--tls-ca/--require-client-cert/--tls-clients: mTLS principals from client certificates', async () => {
    const openssl = (args: string[]): void =>
      void execFileSync('openssl', args, { cwd: directory, stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl([
      'req',
      '-x509',
      ...ec,
      '-days',
      '1',
      '-subj',
      '/CN=cli-ca',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    ]);
    openssl([
      'req',
      '-x509',
      ...ec,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-keyout',
      'server.key',
      '-out',
      'server.pem',
    ]);
    openssl(['req', '-new', ...ec, '-subj', '/CN=ops', '-keyout', 'ops.key', '-out', 'ops.csr']);
    openssl([
      'x509',
      '-req',
      '-in',
      'ops.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      'ops.pem',
    ]);
    writeFileSync(
      path('clients.json'),
      JSON.stringify({ ops: { clientIds: ['console-*'], roles: ['operator'] } }),
    );
    const { urls, io, exit } = await runBroker([
      '--tls-port',
      '0',
      '--tls-cert',
      path('server.pem'),
      '--tls-key',
      path('server.key'),
      '--tls-ca',
      path('ca.pem'),
      '--require-client-cert',
      '--tls-clients',
      path('clients.json'),
    ]);
    const tlsUrl = urls.find((url) => url.startsWith('mqtts:')) as string;
    expect(io.out.join('')).toContain('mtls (required)');
    const cert = {
      key: readFileSync(path('ops.key')),
      cert: readFileSync(path('ops.pem')),
      rejectUnauthorized: false,
    };
    expect(await outcome(tlsUrl, { clientId: 'console-1', ...cert })).toBe(0);
    expect(await outcome(tlsUrl, { clientId: 'ops', ...cert })).toBe(0x85);
    expect(await outcome(tlsUrl, { clientId: 'console-2', rejectUnauthorized: false })).not.toBe(0);
    io.stop();
    expect(await exit).toBe(0);
  });

  it('refuses unsafe or broken configurations with one line and exit code 2', async () => {
    const plain = path('plain.passwd');
    writeFileSync(plain, 'planner:planner-pw1:acme/line/planner\n');
    const cases: Array<[string[], RegExp]> = [
      [['--password-file', plain], /plain-text password/],
      [['--password-file', path('missing')], /cannot read --password-file/],
      [['--host', '0.0.0.0'], /refusing to listen on 0\.0\.0\.0 without authentication/],
      [['--jwt-secret-file', plain], /missing --jwt-issuer/],
      [['--jwt-issuer', 'x'], /need --jwt-jwks/],
      [['--tls-ca', plain], /needs a TLS listener/],
      [['--tls-port', '0'], /needs --tls-cert/],
    ];
    for (const [args, error] of cases) {
      const io = captureIo();
      expect(await main(['broker', '--port', '0', ...args], io), args.join(' ')).toBe(2);
      expect(io.err.join('')).toMatch(error);
    }
  });

  it('says so when there is no authentication, and lists the flags in --help', async () => {
    const { io, exit } = await runBroker([]);
    expect(io.err.join('')).toContain('warning: no authentication');
    io.stop();
    expect(await exit).toBe(0);
    const help = captureIo();
    expect(await main(['broker', '--help'], help)).toBe(0);
    for (const flag of [
      '--password-file',
      '--jwt-jwks',
      '--jwt-public-key',
      '--jwt-secret-file',
      '--jwt-issuer',
      '--jwt-audience',
      '--tls-port',
      '--tls-cert',
      '--tls-key',
      '--tls-ca',
      '--require-client-cert',
      '--tls-clients',
      '--acl',
      '--allow-anonymous',
    ]) {
      expect(help.out.join('')).toContain(flag);
    }
  });
});
