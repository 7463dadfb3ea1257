// OAuth 2.0 / OIDC per request (Extended, user story 01): requesters attach `a2a-authorization: Bearer ...`
// when the card's securityRequirements ask for it, refresh tokens before retries and refuse to send them
// without TLS; agents validate signature, exp, iss, aud and scopes with jose against a JWKS before any
// executor code runs, and never echo the token.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { TaskState } from '@a2a-js/sdk';
import type { Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import type { RequestContext } from '@a2a-js/sdk/server';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { MqttAgentsError } from '@mqtt-agents/core';
import { SignJWT, createLocalJWKSet, createRemoteJWKSet, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BearerTokenUser, MqttAuthError, mqttTransportFactory, serveA2AOverMqtt } from '../src/index.js';
import type { AgentCardInput, BearerAuthOptions, TokenRequest } from '../src/index.js';
import {
  EchoExecutor,
  RawClient,
  hasCorrelation,
  rawRequest,
  sendMessageBody,
  uniqueId,
  userMessage,
} from './helpers.js';

const ISSUER = 'https://id.example.test';
const AUDIENCE = 'urn:agent:secure';
const certificate = readFileSync(new URL('./fixtures/localhost-cert.pem', import.meta.url));
const certificateKey = readFileSync(new URL('./fixtures/localhost-key.pem', import.meta.url));

let broker: TestBroker;
let tlsUrl: string;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;
let publicJwk: JWK;
let jwksServer: Server;
let jwksUrl: URL;

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  const tlsPort = await freePort();
  const certDir = new URL('./fixtures/', import.meta.url).pathname;
  broker = await startTestBroker({
    embedded: { tls: { key: certificateKey, cert: certificate, port: tlsPort } },
    mosquittoConfig: [
      `listener ${tlsPort} 127.0.0.1`,
      `certfile ${certDir}localhost-cert.pem`,
      `keyfile ${certDir}localhost-key.pem`,
    ],
  });
  tlsUrl = `mqtts://127.0.0.1:${tlsPort}`;
  const pair = await generateKeyPair('ES256', { extractable: true });
  signingKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-key-1', alg: 'ES256', use: 'sig' };
  strangerKey = (await generateKeyPair('ES256')).privateKey;
  // The authorization server's JWKS, served locally over HTTP (jose's createRemoteJWKSet fetches it).
  jwksServer = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = new URL(`http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`);
});
afterAll(async () => {
  await broker.close();
  await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
});

async function token(
  options: {
    scope?: string;
    issuer?: string;
    audience?: string;
    expiresIn?: string | number;
    key?: CryptoKey;
    subject?: string;
  } = {},
): Promise<string> {
  return await new SignJWT({ scope: options.scope ?? 'a2a:invoke' })
    .setProtectedHeader({ alg: 'ES256', kid: 'idp-key-1' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setSubject(options.subject ?? 'alice')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(options.key ?? signingKey);
}

/** A card that asks for OAuth 2.0 with scope a2a:invoke, as in EIP-0033's example. */
const securedCard: AgentCardInput = {
  name: 'Secure',
  securitySchemes: {
    oauth2: {
      scheme: {
        $case: 'oauth2SecurityScheme',
        value: {
          description: 'OAuth2 for agent invocation',
          flows: {
            flow: {
              $case: 'clientCredentials',
              value: { tokenUrl: `${ISSUER}/token`, refreshUrl: '', scopes: { 'a2a:invoke': 'Invoke' } },
            },
          },
          oauth2MetadataUrl: '',
        },
      },
    },
  },
  securityRequirements: [{ schemes: { oauth2: { list: ['a2a:invoke'] } } }],
};

async function setup(
  options: {
    card?: AgentCardInput;
    auth?: Partial<BearerAuthOptions>;
    url?: string;
  } = {},
) {
  const org = uniqueId('org');
  const executor = new EchoExecutor();
  const url = options.url ?? broker.url;
  const agent = await serveA2AOverMqtt({
    mqtt: { url, ...(url.startsWith('mqtts') ? { mqttOptions: { ca: certificate } } : {}) },
    org,
    unit: 'u',
    agentId: 'secure',
    card: options.card ?? securedCard,
    executor,
    auth: {
      keys: createLocalJWKSet({ keys: [publicJwk] }),
      issuer: ISSUER,
      audience: AUDIENCE,
      ...options.auth,
    },
  });
  const sniffer = await RawClient.connect(broker.url);
  await sniffer.subscribe(`$a2a/v1/+/${org}/u/#`);
  return {
    org,
    agent,
    executor,
    sniffer,
    async [Symbol.asyncDispose]() {
      await sniffer.close();
      await agent.close();
    },
  };
}

function requester(
  org: string,
  getToken: (request: TokenRequest) => string | Promise<string>,
  extra: { allowInsecureTransport?: boolean; url?: string; retry?: object } = {},
) {
  const url = extra.url ?? broker.url;
  return mqttTransportFactory({
    mqtt: { url, ...(url.startsWith('mqtts') ? { mqttOptions: { ca: certificate } } : {}) },
    org,
    unit: 'u',
    agentId: 'caller',
    auth: { getToken, allowInsecureTransport: extra.allowInsecureTransport ?? true },
    ...(extra.retry ? { retry: extra.retry } : {}),
  });
}

function send(client: { sendMessage: ClientLike['sendMessage'] }, text = 'hi') {
  return client.sendMessage({
    tenant: '',
    message: userMessage(text),
    configuration: undefined,
    metadata: undefined,
  });
}
type ClientLike = Awaited<ReturnType<ClientFactory['createFromAgentCard']>>;

describe('OAuth 2.0 / OIDC over a2a-authorization', { concurrent: true }, () => {
  it('attaches the provider token when the card asks for it and maps the verified claims into the call context', async () => {
    await using fixture = await setup({ auth: { keys: createRemoteJWKSet(jwksUrl) } });
    const asked: TokenRequest[] = [];
    const issued = await token();
    await using factory = requester(fixture.org, (request) => {
      asked.push(request);
      return issued;
    });
    const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(fixture.agent.card);
    const task = (await send(client)) as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ scopes: ['a2a:invoke'], attempt: 1, refresh: false });
    const user = (fixture.executor.contexts[0] as RequestContext).context?.user;
    expect(user).toBeInstanceOf(BearerTokenUser);
    expect(user?.isAuthenticated).toBe(true);
    expect(user?.userName).toBe('alice');
    expect((user as BearerTokenUser).scopes).toEqual(['a2a:invoke']);
    const [request] = await fixture.sniffer.nextCount(
      (message) => message.topic === fixture.agent.requestTopic,
      1,
    );
    expect(request?.packet.properties?.userProperties?.['a2a-authorization']).toBe(`Bearer ${issued}`);
    // Never echoed: not in any reply payload or property.
    const replies = await fixture.sniffer.nextCount((message) => message.topic === factory.replyTopic, 1);
    for (const reply of replies) {
      expect(reply.payload.toString('utf8')).not.toContain(issued);
      expect(JSON.stringify(reply.packet.properties ?? {})).not.toContain(issued);
    }
  });

  it('refuses missing, malformed, expired, foreign-issuer, wrong-audience and badly signed tokens before the executor runs', async () => {
    await using fixture = await setup();
    const replyTopic = `$a2a/v1/reply/${fixture.org}/u/raw/${uniqueId('s')}`;
    await fixture.sniffer.subscribe(replyTopic);
    const cases: Array<[string, string | undefined, RegExp]> = [
      ['missing', undefined, /needs a bearer token/],
      ['malformed', 'Basic dXNlcjpwYXNz', /must be 'Bearer <token>'/],
      ['expired', `Bearer ${await token({ expiresIn: Math.floor(Date.now() / 1000) - 60 })}`, /expired/],
      ['issuer', `Bearer ${await token({ issuer: 'https://evil.example' })}`, /"iss" claim/],
      ['audience', `Bearer ${await token({ audience: 'urn:agent:other' })}`, /"aud" claim/],
      ['signature', `Bearer ${await token({ key: strangerKey })}`, /signature is invalid/],
    ];
    for (const [label, header, message] of cases) {
      const correlation = await rawRequest(
        fixture.sniffer,
        fixture.agent.requestTopic,
        sendMessageBody(label),
        {
          responseTopic: replyTopic,
          ...(header === undefined
            ? {}
            : { properties: { userProperties: { 'a2a-authorization': header } } }),
        },
      );
      const reply = await fixture.sniffer.next(
        (message) => message.topic === replyTopic && hasCorrelation(correlation)(message),
      );
      const error = (reply.json as { error: { code: number; message: string; data: unknown[] } }).error;
      expect(error.code, label).toBe(-31401);
      expect(error.message, label).toMatch(message);
      expect(error.data[0], label).toMatchObject({
        reason: 'UNAUTHENTICATED',
        metadata: { scheme: 'Bearer' },
      });
      if (header !== undefined) {
        expect(reply.payload.toString('utf8')).not.toContain(header.split(' ')[1]);
        expect(JSON.stringify(reply.packet.properties ?? {})).not.toContain(header.split(' ')[1]);
      }
    }
    expect(fixture.executor.executions.value).toBe(0);
  });

  it('answers a valid token without the required scope with permission_denied naming the scope', async () => {
    await using fixture = await setup({ auth: { requiredScopes: ['tasks:write'] } });
    const weak = await token({ scope: 'a2a:invoke profile' });
    await using factory = requester(fixture.org, () => weak);
    const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(fixture.agent.card);
    const failure = await send(client).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MqttAuthError);
    expect((failure as MqttAuthError).kind).toBe('permission_denied');
    expect((failure as MqttAuthError).code).toBe(-31403);
    expect((failure as MqttAuthError).requiredScopes).toContain('tasks:write');
    expect(fixture.executor.executions.value).toBe(0);
  });

  it('replaces a refused token once with a fresh one, and asks for fresh tokens before retries', async () => {
    await using fixture = await setup();
    const asked: TokenRequest[] = [];
    const revoked = await token({ key: strangerKey }); // e.g. signed with a key the issuer rotated out
    const fresh = await token();
    await using factory = requester(fixture.org, (request) => {
      asked.push(request);
      return request.refresh ? fresh : revoked;
    });
    const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(fixture.agent.card);
    await send(client);
    expect(asked.map((request) => [request.attempt, request.refresh])).toEqual([
      [1, false],
      [2, true],
    ]);
    const requests = await fixture.sniffer.nextCount(
      (message) => message.topic === fixture.agent.requestTopic,
      2,
    );
    expect(
      requests.map((request) => request.packet.properties?.userProperties?.['a2a-authorization']),
    ).toEqual([`Bearer ${revoked}`, `Bearer ${fresh}`]);
    expect(fixture.executor.executions.value).toBe(1);
  });

  it('asks again for a token the provider handed out already expired, without sending it', async () => {
    await using fixture = await setup();
    const asked: boolean[] = [];
    const stale = await token({ expiresIn: Math.floor(Date.now() / 1000) - 1 });
    const fresh = await token();
    await using factory = requester(fixture.org, (request) => {
      asked.push(request.refresh);
      return request.refresh ? fresh : stale;
    });
    const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(fixture.agent.card);
    await send(client);
    expect(asked).toEqual([false, true]);
    const [request] = await fixture.sniffer.nextCount(
      (message) => message.topic === fixture.agent.requestTopic,
      1,
    );
    expect(request?.packet.properties?.userProperties?.['a2a-authorization']).toBe(`Bearer ${fresh}`);
  });

  it('sends no token to an agent whose card asks for none', async () => {
    await using fixture = await setup({ card: { name: 'Open' }, auth: { publicMethods: ['SendMessage'] } });
    let asked = 0;
    await using factory = requester(fixture.org, () => {
      asked++;
      return 'unused';
    });
    const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(fixture.agent.card);
    await send(client);
    const [request] = await fixture.sniffer.nextCount(
      (message) => message.topic === fixture.agent.requestTopic,
      1,
    );
    expect(request?.packet.properties?.userProperties?.['a2a-authorization']).toBeUndefined();
    expect(asked).toBe(0);
  });

  it('refuses to send a bearer token over a connection without TLS unless the user opts out', async () => {
    await using fixture = await setup();
    const issued = await token();
    await using strict = requester(fixture.org, () => issued, { allowInsecureTransport: false });
    const client = await new ClientFactory({ transports: [strict] }).createFromAgentCard(fixture.agent.card);
    const failure = await send(client).catch((error: unknown) => error);
    expect(MqttAgentsError.hasCode(failure, 'UNSUPPORTED')).toBe(true);
    expect((failure as Error).message).toMatch(/without TLS/);
    expect((failure as Error).message).not.toContain(issued);
    // Also for a token passed by hand as a service parameter.
    const manual = await client
      .getTask({ tenant: '', id: 'x' }, { serviceParameters: { Authorization: `Bearer ${issued}` } })
      .catch((error: unknown) => error);
    expect(MqttAgentsError.hasCode(manual, 'UNSUPPORTED')).toBe(true);
    // The explicit opt-out sends it; it is the only request the agent ever saw.
    await using relaxed = requester(fixture.org, () => issued, { allowInsecureTransport: true });
    const relaxedClient = await new ClientFactory({ transports: [relaxed] }).createFromAgentCard(
      fixture.agent.card,
    );
    await send(relaxedClient);
    await fixture.sniffer.nextCount((message) => message.topic === relaxed.replyTopic, 1);
    expect(fixture.sniffer.all((message) => message.topic === fixture.agent.requestTopic)).toHaveLength(1);
  });

  it('sends the token over mqtts:// without any opt-out', async () => {
    await using fixture = await setup({ url: tlsUrl });
    const issued = await token();
    await using factory = requester(fixture.org, () => issued, {
      allowInsecureTransport: false,
      url: tlsUrl,
    });
    const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(fixture.agent.card);
    const task = (await send(client)) as Task;
    expect(task.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'text', value: 'echo: hi' });
    expect(fixture.executor.executions.value).toBe(1);
  });
});
