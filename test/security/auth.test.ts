// Defect 13: no authentication, so identity was whatever a client claimed. Anyone could connect as
// `acme/line/planner`, take over its session (its will then marked it offline) and receive its requests.
// Embedded only: `brokerAuth` (password file, JWT, mTLS) binds each credential to the client ids it may use,
// refuses takeover by another credential, and gives the client a principal every later hook decides on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentTopicAcl,
  brokerAuth,
  composePlugins,
  parsePasswordFile,
  startBroker,
  type Broker,
  type BrokerPlugin,
  type Principal,
} from '@mqtt-agents/broker';
import {
  JWT_AUDIENCE,
  JWT_ISSUER,
  attempt,
  closeClients,
  connected,
  hmacToken,
  makeCertificates,
  makeJwtIssuer,
  passwordLine,
  refusal,
  unsignedToken,
  type Certificates,
  type JwtIssuer,
} from './auth-fixtures.js';
import { embeddedLane } from './helpers.js';

const BAD_USER_NAME_OR_PASSWORD = 0x86;
const NOT_AUTHORIZED = 0x87;
const CLIENT_IDENTIFIER_NOT_VALID = 0x85;
const SERVER_BUSY = 0x89;

const PLANNER = 'acme/line/planner';

describe.skipIf(!embeddedLane)('broker authentication (defect 13, embedded broker)', () => {
  let certificates: Certificates;
  let issuer: JwtIssuer;
  let broker: Broker;
  let detach: () => void;
  /** Principals of accepted clients, as the broker's hooks and events see them. */
  const principals = new Map<string, Principal | undefined>();
  /** Principals the ACL's later hooks saw on subscribe (the client info every hook gets). */
  const subscribePrincipals = new Map<string, Principal | undefined>();

  beforeAll(async () => {
    certificates = makeCertificates();
    issuer = makeJwtIssuer();
    const text = [
      '# agents of the line',
      await passwordLine('planner', 'planner-pw', [PLANNER]),
      // Mallory's own credential allows broad patterns, the planner's id among them.
      await passwordLine('mallory', 'mallory-pw', ['acme/line/*', '*', '*/*/*', '*/*']),
      await passwordLine('console', 'console-pw', ['console-*'], ['operator']),
    ].join('\n');
    const recorder: BrokerPlugin = {
      name: 'recorder',
      hooks: {
        authorizeSubscribe: (client) => {
          subscribePrincipals.set(client.id, client.principal);
          return true;
        },
      },
    };
    const plugins = composePlugins(
      brokerAuth({
        passwords: parsePasswordFile(text),
        jwt: { key: { jwks: issuer.jwks() }, issuer: JWT_ISSUER, audience: JWT_AUDIENCE },
        mtls: { clients: { 'ops-console': { clientIds: ['console-*'], roles: ['operator'] } } },
      }),
      agentTopicAcl(),
      recorder,
    );
    broker = await startBroker({
      ...plugins.hooks,
      tls: {
        key: certificates.server.key,
        cert: certificates.server.cert,
        ca: certificates.ca,
        requestCert: true,
        rejectUnauthorized: false, // certificates are optional here: password and JWT clients use TLS too
      },
    });
    detach = plugins.attach?.(broker) ?? (() => {});
    broker.on('client-connect', (client) => principals.set(client.id, client.principal));
  });

  afterAll(async () => {
    await closeClients();
    detach?.();
    await broker?.close();
    certificates?.remove();
  });

  const asUser = (clientId: string, username?: string, password?: string) => ({
    clientId,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  });

  it('refuses clients without a credential or with a wrong one (0x87 / 0x86)', async () => {
    expect(await refusal(broker.url, asUser(PLANNER))).toBe(NOT_AUTHORIZED);
    expect(await refusal(broker.url, asUser(PLANNER, 'planner', 'wrong'))).toBe(BAD_USER_NAME_OR_PASSWORD);
    expect(await refusal(broker.url, asUser(PLANNER, 'planner', ''))).toBe(BAD_USER_NAME_OR_PASSWORD);
    expect(await refusal(broker.url, asUser(PLANNER, 'nobody', 'planner-pw'))).toBe(
      BAD_USER_NAME_OR_PASSWORD,
    );
    expect(await refusal(broker.url, asUser(PLANNER, 'planner'))).toBe(BAD_USER_NAME_OR_PASSWORD);
    // MQTT 3.1.1 clients get the matching CONNACK return codes (4 bad user name or password, 5 not authorized).
    expect(await refusal(broker.url, { ...asUser(PLANNER, 'planner', 'wrong'), protocolVersion: 4 })).toBe(4);
    expect(await refusal(broker.url, { ...asUser(PLANNER), protocolVersion: 4 })).toBe(5);
    const planner = await connected(broker.url, asUser(PLANNER, 'planner', 'planner-pw'));
    expect(principals.get(PLANNER)).toEqual({ name: 'planner', method: 'password', roles: [] });
    await planner.endAsync();
  });

  it('refuses plain-text password files before the broker starts', () => {
    expect(() => parsePasswordFile('planner:planner-pw:acme/line/planner')).toThrow(
      /line 1: plain-text password/,
    );
    expect(() =>
      brokerAuth({ passwords: [{ user: 'planner', hash: 'planner-pw', clientIds: [PLANNER], roles: [] }] }),
    ).toThrow(/plain-text password/);
  });

  it('lets a credential use only the client ids it names (0x85)', async () => {
    expect(await refusal(broker.url, asUser('acme/line/planner2', 'planner', 'planner-pw'))).toBe(
      CLIENT_IDENTIFIER_NOT_VALID,
    );
    expect(await refusal(broker.url, asUser('acme/line/Planner', 'planner', 'planner-pw'))).toBe(
      CLIENT_IDENTIFIER_NOT_VALID,
    );
    expect(await refusal(broker.url, asUser('console-x', 'planner', 'planner-pw'))).toBe(
      CLIENT_IDENTIFIER_NOT_VALID,
    );
  });

  it('never lets a pattern admit `+`, `#`, empty levels or control characters in a client id', async () => {
    const tricks = [
      '+',
      '#',
      'acme/+/planner',
      'acme/line/#',
      'acme/+',
      'a/+/b',
      'acme//planner',
      'acme/line/',
      '/acme/line',
      'acme/line/planner\u0000',
      'acme/line/x\u001b[2J',
      'acme/line/x\nforged',
      'a b',
    ];
    for (const clientId of tricks) {
      const outcome = await refusal(broker.url, asUser(clientId, 'mallory', 'mallory-pw'));
      // 0x85 from the pattern check; a broker-level refusal of the packet itself would be just as good.
      expect([CLIENT_IDENTIFIER_NOT_VALID, 0x81, 0x82, 'closed'], JSON.stringify(clientId)).toContain(
        outcome,
      );
      expect(principals.has(clientId)).toBe(false);
    }
    // The same credential still connects with an id its patterns really allow.
    expect(await refusal(broker.url, asUser('acme/line/x', 'mallory', 'mallory-pw'))).toBe(0);
  });

  it("refuses a takeover of the planner's id by another credential, while the planner may take over its own", async () => {
    const watcher = await connected(broker.url, asUser('console-watch', 'console', 'console-pw'));
    const seen: string[] = [];
    watcher.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await watcher.subscribeAsync('status/#', { qos: 1 });
    const marker = (text: string): Promise<void> =>
      new Promise((resolve) => {
        const check = (_topic: string, payload: Buffer): void => {
          if (payload.toString() !== text) return;
          watcher.off('message', check);
          resolve();
        };
        watcher.on('message', check);
      });

    const planner = await connected(broker.url, {
      ...asUser(PLANNER, 'planner', 'planner-pw'),
      clean: false,
      properties: { sessionExpiryInterval: 300 },
      will: { topic: 'status/planner', payload: Buffer.from('offline'), qos: 1, retain: false },
    });
    let plannerDisconnected = false;
    planner.on('disconnect', () => (plannerDisconnected = true));
    planner.on('close', () => (plannerDisconnected = true));

    // Mallory's own credential lists patterns matching the planner's id: still refused while it is held.
    expect(await refusal(broker.url, asUser(PLANNER, 'mallory', 'mallory-pw'))).toBe(NOT_AUTHORIZED);
    expect(await refusal(broker.url, { ...asUser(PLANNER, 'mallory', 'mallory-pw'), clean: false })).toBe(
      NOT_AUTHORIZED,
    );
    const first = marker('after-mallory');
    await planner.publishAsync('status/marker', 'after-mallory', { qos: 1 });
    await first;
    expect(plannerDisconnected).toBe(false);
    expect(seen).not.toContain('status/planner offline'); // no will: the planner was never taken over

    // Offline, its session kept: still the planner's.
    await planner.endAsync();
    expect(broker.hasSession(PLANNER)).toBe(true);
    expect(await refusal(broker.url, asUser(PLANNER, 'mallory', 'mallory-pw'))).toBe(NOT_AUTHORIZED);

    // The same credential resumes its session, and may take over its own live connection.
    const resumed = await connected(broker.url, {
      ...asUser(PLANNER, 'planner', 'planner-pw'),
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    });
    const takenOver = new Promise<number | undefined>((resolve) =>
      resumed.once('disconnect', (packet) => resolve(packet.reasonCode)),
    );
    const again = await connected(broker.url, {
      ...asUser(PLANNER, 'planner', 'planner-pw'),
      clean: false,
      properties: { sessionExpiryInterval: 0 },
    });
    expect(await takenOver).toBe(0x8e); // Session taken over
    // Its session ends with the connection (expiry 0): then the id is free for a credential that lists it.
    await again.endAsync();
    expect(broker.hasSession(PLANNER)).toBe(false);
    expect(await refusal(broker.url, asUser(PLANNER, 'mallory', 'mallory-pw'))).toBe(0);
    await watcher.endAsync();
  });

  it('keeps a held id from anyone else even before a CONNACK (claims are made when the credential checks)', async () => {
    // Two credentials race for a fresh id they both may use: exactly one wins, the other gets 0x87.
    const id = `console-race-${Date.now()}`;
    const outcomes = await Promise.all([
      attempt(broker.url, asUser(id, 'console', 'console-pw')),
      attempt(broker.url, asUser(id, 'mallory', 'mallory-pw')),
    ]);
    // Mallory's patterns include `*`, so both are allowed the id; only the first to check may hold it.
    const winners = outcomes.filter((outcome) => outcome.connected);
    const losers = outcomes.filter((outcome) => !outcome.connected);
    expect(winners).toHaveLength(1);
    expect(losers.map((outcome) => (outcome.connected ? 0 : outcome.reasonCode))).toEqual([NOT_AUTHORIZED]);
    await Promise.all(winners.map((outcome) => (outcome.connected ? outcome.client.endAsync() : undefined)));
  });

  it("with agentTopicAcl, mallory cannot receive the planner's requests: not as the planner, not as herself", async () => {
    const planner = await connected(broker.url, asUser(PLANNER, 'planner', 'planner-pw'));
    const requests: string[] = [];
    planner.on('message', (_topic, payload) => requests.push(payload.toString()));
    await planner.subscribeAsync(`$a2a/v1/request/${PLANNER}`, { qos: 1 });
    expect(await refusal(broker.url, asUser(PLANNER))).toBe(NOT_AUTHORIZED);
    expect(await refusal(broker.url, asUser(PLANNER, 'mallory', 'mallory-pw'))).toBe(NOT_AUTHORIZED);
    const mallory = await connected(broker.url, asUser('acme/line/mallory', 'mallory', 'mallory-pw'));
    const granted = await mallory.subscribeAsync(`$a2a/v1/request/${PLANNER}`, { qos: 1 }).then(
      (grants) => grants[0]?.qos,
      () => NOT_AUTHORIZED,
    );
    expect(granted).toBe(NOT_AUTHORIZED);
    const requester = await connected(broker.url, asUser('acme/line/requester', 'mallory', 'mallory-pw'));
    const delivered = new Promise<void>((resolve) => planner.once('message', () => resolve()));
    await requester.publishAsync(`$a2a/v1/request/${PLANNER}`, '{"jsonrpc":"2.0","id":1,"method":"x"}', {
      qos: 1,
    });
    await delivered;
    expect(requests).toHaveLength(1);
    await Promise.all([planner.endAsync(), mallory.endAsync(), requester.endAsync()]);
  });

  it('gives an operator credential a principal with the operator role, seen by every later hook', async () => {
    const console = await connected(broker.url, asUser('console-ops', 'console', 'console-pw'));
    expect(principals.get('console-ops')).toEqual({
      name: 'console',
      method: 'password',
      roles: ['operator'],
    });
    await console.subscribeAsync('plain/topic', { qos: 0 });
    expect(subscribePrincipals.get('console-ops')?.roles).toEqual(['operator']);
    await console.endAsync();
  });

  describe('JWT', () => {
    // MQTT.js (like MQTT 3.1.1) sends a password only with a user name: an empty one, or the token's `sub`.
    const jwtUser = (clientId: string, token: string, username = '') => ({
      clientId,
      password: token,
      username,
    });

    it('accepts a valid token for the client ids of its claim, with its roles', async () => {
      const token = issuer.token({
        sub: 'svc-1',
        client_ids: ['acme/tools/svc-1', 'svc-1-*'],
        roles: ['operator'],
      });
      expect(await refusal(broker.url, jwtUser('acme/tools/svc-1', token))).toBe(0);
      expect(principals.get('acme/tools/svc-1')).toEqual({
        name: 'svc-1',
        method: 'jwt',
        roles: ['operator'],
      });
      expect(await refusal(broker.url, jwtUser('svc-1-a', token, 'svc-1'))).toBe(0);
      expect(await refusal(broker.url, jwtUser('acme/tools/svc-2', token))).toBe(CLIENT_IDENTIFIER_NOT_VALID);
      // Without the claim, the `sub` is the only client id.
      const plain = issuer.token({ sub: 'svc-2' });
      expect(await refusal(broker.url, jwtUser('svc-2', plain))).toBe(0);
      expect(await refusal(broker.url, jwtUser('svc-3', plain))).toBe(CLIENT_IDENTIFIER_NOT_VALID);
    });

    it('refuses expired, foreign, unsigned, key-confused and tampered tokens (0x86)', async () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: 'svc-1', client_ids: ['svc-1'] };
      const pem = issuer.publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const valid = issuer.token(claims);
      const [header, , signature] = valid.split('.') as [string, string, string];
      const forgedPayload = Buffer.from(
        JSON.stringify({
          iss: JWT_ISSUER,
          aud: JWT_AUDIENCE,
          exp: now + 600,
          sub: 'svc-1',
          roles: ['operator'],
          client_ids: ['svc-1'],
        }),
      ).toString('base64url');
      const attacks: Record<string, string> = {
        expired: issuer.token({ ...claims, exp: now - 120 }),
        'not yet valid': issuer.token({ ...claims, nbf: now + 3600 }),
        'wrong issuer': issuer.token({ ...claims, iss: 'https://evil.example.test' }),
        'wrong audience': issuer.token({ ...claims, aud: 'some-other-service' }),
        'no exp': issuer.token(claims, { omit: ['exp'] }),
        'no iss': issuer.token(claims, { omit: ['iss'] }),
        'no aud': issuer.token(claims, { omit: ['aud'] }),
        'no sub': issuer.token({ client_ids: ['svc-1'] }),
        'alg none': unsignedToken(claims),
        'HS256 keyed with the RSA public key': hmacToken(claims, pem),
        'tampered payload': `${header}.${forgedPayload}.${signature}`,
        'wildcard pattern in the claim': issuer.token({ sub: 'svc-1', client_ids: ['#'] }),
        'roles not strings': issuer.token({ ...claims, roles: [{ admin: true }] }),
      };
      for (const [attack, token] of Object.entries(attacks)) {
        expect(await refusal(broker.url, jwtUser('svc-1', token)), attack).toBe(BAD_USER_NAME_OR_PASSWORD);
      }
      // A valid token with someone else's user name is refused too (the user name, when sent, is the `sub`).
      expect(await refusal(broker.url, jwtUser('svc-1', valid, 'planner'))).toBe(BAD_USER_NAME_OR_PASSWORD);
      expect(await refusal(broker.url, jwtUser('svc-1', valid))).toBe(0);
    });
  });

  describe('mTLS', () => {
    const tls = (pem?: { key: Buffer; cert: Buffer }) => ({
      rejectUnauthorized: false, // the test trusts the broker's self-signed server certificate
      ...(pem ? { key: pem.key, cert: pem.cert } : {}),
    });

    it('takes the principal from a verified certificate and binds it to its CN or its mapping', async () => {
      const url = broker.tlsUrl as string;
      const camera = certificates.client('camera-1');
      expect(await refusal(url, { clientId: 'camera-1', ...tls(camera) })).toBe(0);
      expect(principals.get('camera-1')).toEqual({ name: 'camera-1', method: 'mtls', roles: [] });
      expect(await refusal(url, { clientId: 'camera-2', ...tls(camera) })).toBe(CLIENT_IDENTIFIER_NOT_VALID);
      const ops = certificates.client('ops-console');
      expect(await refusal(url, { clientId: 'console-tls', ...tls(ops) })).toBe(0);
      expect(principals.get('console-tls')).toEqual({
        name: 'ops-console',
        method: 'mtls',
        roles: ['operator'],
      });
    });

    it('refuses a client without a certificate or with an untrusted one', async () => {
      const url = broker.tlsUrl as string;
      expect(await refusal(url, { clientId: 'camera-1', ...tls() })).toBe(NOT_AUTHORIZED);
      expect(await refusal(url, { clientId: 'camera-1', ...tls(certificates.rogue('camera-1')) })).toBe(
        NOT_AUTHORIZED,
      );
      // A password still works over TLS without a certificate.
      expect(await refusal(url, { ...asUser('console-pw-tls', 'console', 'console-pw'), ...tls() })).toBe(0);
    });

    it('with client certificates required, the handshake itself fails without a trusted one', async () => {
      const strict = brokerAuth({ mtls: true });
      await using required = await startBroker({
        ...strict.hooks,
        tls: {
          key: certificates.server.key,
          cert: certificates.server.cert,
          ca: certificates.ca,
          requestCert: true,
        },
      });
      const undo = strict.attach?.(required);
      const url = required.tlsUrl as string;
      expect(await refusal(url, { clientId: 'camera-1', ...tls() })).not.toBe(0);
      expect(await refusal(url, { clientId: 'camera-1', ...tls(certificates.rogue('camera-1')) })).not.toBe(
        0,
      );
      expect(await refusal(url, { clientId: 'camera-1', ...tls(certificates.client('camera-1')) })).toBe(0);
      // The plain TCP listener has no certificates at all: nobody gets in there.
      expect(await refusal(required.url, { clientId: 'camera-1' })).toBe(NOT_AUTHORIZED);
      undo?.();
    });
  });

  it('bounds concurrent password checks: a flood gets 0x89 instead of queueing scrypt work', async () => {
    const auth = brokerAuth({
      passwords: parsePasswordFile(await passwordLine('planner', 'planner-pw', [PLANNER])),
      hashConcurrency: 1,
      maxQueuedHashes: 2,
    });
    await using flooded = await startBroker({ ...auth.hooks });
    const undo = auth.attach?.(flooded);
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        refusal(flooded.url, asUser(`flood-${index}`, 'planner', 'guess')),
      ),
    );
    // Every attempt gets an answer at once: 0x86 after its check, or 0x89 when the queue was full (how many of
    // each depends on how the connects interleave; the gate itself is unit-tested in hash-gate.test.ts).
    expect(outcomes.every((code) => code === SERVER_BUSY || code === BAD_USER_NAME_OR_PASSWORD)).toBe(true);
    // The gate frees up again: the real planner gets in afterwards.
    expect(await refusal(flooded.url, asUser(PLANNER, 'planner', 'planner-pw'))).toBe(0);
    undo?.();
  });
});
