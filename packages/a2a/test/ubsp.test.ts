// Untrusted-broker security profile `ubsp-v1` (Extended, user story 06): request, reply and stream payloads
// are JWE-encrypted end to end to keys from the peer's signed card; the required user properties, the
// recipient check, replay protection (jti, exp) and fail-closed key resolution.
import type { Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { PublishedMessage } from '@mqtt-agents/broker';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { MqttAgentsError } from '@mqtt-agents/core';
import { createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttTransportFactory, serveA2AOverMqtt } from '../src/index.js';
import { publicJwk } from '../src/security-metadata.js';
import {
  JOSE_COMPACT,
  JOSE_JSON,
  ReplayGuard,
  decryptPayload,
  encryptPayload,
  pickEncryptionKey,
} from '../src/ubsp.js';
import type { CardSigningOptions, CardVerificationOptions } from '../src/index.js';
import {
  EchoExecutor,
  FakeResponder,
  MessageExecutor,
  RawClient,
  hasCorrelation,
  rawRequest,
  sendMessageBody,
  textOf,
  uniqueId,
  userMessage,
} from './helpers.js';

let broker: TestBroker;
let signCard: CardSigningOptions;
let trust: CardVerificationOptions;

beforeAll(async () => {
  broker = await startTestBroker();
  const signing = await generateKeyPair('ES256', { extractable: true });
  signCard = { privateKey: signing.privateKey, alg: 'ES256', kid: 'org-signing' };
  const signingPublic = { ...(await exportJWK(signing.publicKey)), kid: 'org-signing', alg: 'ES256' };
  trust = { keys: createLocalJWKSet({ keys: [signingPublic] }) };
});
afterAll(async () => {
  await broker.close();
});

async function encryptionKey(kid: string): Promise<JWK> {
  const pair = await generateKeyPair('ECDH-ES+A256KW', { extractable: true });
  return { ...(await exportJWK(pair.privateKey)), kid };
}

const COMPACT_JWE = /^[\w-]+\.[\w-]*\.[\w-]+\.[\w-]+\.[\w-]+$/;

async function setup(
  options: { serialization?: 'compact' | 'json'; signResponder?: boolean; required?: boolean } = {},
) {
  const org = uniqueId('org');
  const executor = new EchoExecutor();
  const vaultKey = await encryptionKey('vault-enc');
  const clientKey = await encryptionKey('client-enc');
  const vault = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'vault',
    card: { name: 'Vault', capabilities: { streaming: true, extensions: [] } },
    executor,
    ...(options.signResponder === false ? {} : { signCard }),
    ubsp: { privateKey: vaultKey, kid: 'vault-enc', required: options.required ?? true, verifyCards: trust },
  });
  // The requester publishes its own (signed) card with its key, and makes its requests on that connection.
  const requesterAgent = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'client',
    card: { name: 'Client' },
    executor: new MessageExecutor(),
    signCard,
    ubsp: { privateKey: clientKey, kid: 'client-enc' },
  });
  const factory = mqttTransportFactory({
    mqtt: { connection: requesterAgent.connection },
    org,
    unit: 'u',
    agentId: 'client',
    ubsp: {
      privateKey: clientKey,
      kid: 'client-enc',
      verifyCards: trust,
      ...(options.serialization ? { serialization: options.serialization } : {}),
    },
  });
  const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(vault.card);
  const sniffer = await RawClient.connect(broker.url);
  await sniffer.subscribe(`$a2a/v1/request/${org}/#`);
  await sniffer.subscribe(`$a2a/v1/reply/${org}/#`);
  // On the embedded broker, also what the broker itself sees.
  const brokerSaw: PublishedMessage[] = [];
  const listener = (message: PublishedMessage) => {
    if (message.topic.includes(`/${org}/`)) brokerSaw.push(message);
  };
  broker.broker?.on('message-publish', listener);
  return {
    org,
    executor,
    vault,
    factory,
    client,
    sniffer,
    brokerSaw,
    async [Symbol.asyncDispose]() {
      broker.broker?.off('message-publish', listener);
      await sniffer.close();
      await factory.close();
      await requesterAgent.close();
      await vault.close();
    },
  };
}

async function expectTransportProtocolError(
  fixture: Awaited<ReturnType<typeof setup>>,
  properties: Record<string, unknown>,
  payload: string,
  message: RegExp,
): Promise<void> {
  const replyTopic = `$a2a/v1/reply/${fixture.org}/u/raw/${uniqueId('s')}`;
  await fixture.sniffer.subscribe(replyTopic);
  const correlation = await rawRequest(fixture.sniffer, fixture.vault.requestTopic, payload, {
    responseTopic: replyTopic,
    properties,
  });
  const reply = await fixture.sniffer.next(
    (entry) => entry.topic === replyTopic && hasCorrelation(correlation)(entry),
  );
  const error = (
    reply.json as { error: { code: number; message: string; data: Array<{ a2a_error: string }> } }
  ).error;
  expect(error.code).toBe(-32005);
  expect(error.data[0]?.a2a_error).toBe('transport_protocol_error');
  expect(error.message).toMatch(message);
}

describe('untrusted-broker security profile (ubsp-v1)', { concurrent: true }, () => {
  it('encrypts request, reply and stream payloads end to end: a broker-side observer sees only ciphertext', async () => {
    await using fixture = await setup();
    const secret = `launch code ${uniqueId('4711')}`;
    const items = [];
    for await (const item of fixture.client.sendMessageStream({
      tenant: '',
      message: userMessage(secret),
      configuration: undefined,
      metadata: undefined,
    })) {
      items.push(item);
    }
    const artifact = items.find((item) => item.payload?.$case === 'artifactUpdate');
    expect(
      artifact?.payload?.$case === 'artifactUpdate' && artifact.payload.value.artifact?.parts[0]?.content,
    ).toEqual({ $case: 'text', value: `echo: ${secret}` });
    expect(items.at(-1)?.payload?.$case).toBe('statusUpdate');
    // Unary methods too.
    const task = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage(`${secret} again`),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect(textOf(task.status?.message)).toBe('done');
    expect((await fixture.client.getTask({ tenant: '', id: task.id })).id).toBe(task.id);

    const requests = await fixture.sniffer.nextCount((m) => m.topic === fixture.vault.requestTopic, 3);
    const replies = await fixture.sniffer.nextCount(
      (m) => m.topic === fixture.factory.replyTopic,
      items.length + 2,
    );
    for (const request of requests) {
      expect(request.packet.properties?.contentType).toBe('application/jose');
      expect(request.payload.toString('utf8')).toMatch(COMPACT_JWE);
      expect(request.packet.properties?.userProperties).toMatchObject({
        'a2a-security-profile': 'ubsp-v1',
        'a2a-requester-agent-id': 'client',
        'a2a-recipient-agent-id': 'vault',
        'a2a-recipient-kid': 'vault-enc',
      });
    }
    for (const reply of replies) {
      expect(reply.packet.properties?.contentType).toBe('application/jose');
      expect(reply.payload.toString('utf8')).toMatch(COMPACT_JWE);
      expect(reply.packet.properties?.userProperties).toMatchObject({
        'a2a-security-profile': 'ubsp-v1',
        'a2a-requester-agent-id': 'client',
        'a2a-responder-agent-id': 'vault',
        'a2a-recipient-kid': 'client-enc',
      });
    }
    const seen = [...requests, ...replies].map((message) => message.payload.toString('utf8'));
    seen.push(...fixture.brokerSaw.map((message) => message.payload.toString('utf8')));
    expect(seen.some((payload) => payload.includes('launch code') || payload.includes('echo'))).toBe(false);
    if (broker.kind === 'embedded') expect(fixture.brokerSaw.length).toBeGreaterThanOrEqual(requests.length);
  });

  it('speaks the JSON serialisation (application/jose+json) and answers in it', async () => {
    await using fixture = await setup({ serialization: 'json' });
    const task = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('json please'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect(task.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'text', value: 'echo: json please' });
    const [request] = await fixture.sniffer.nextCount((m) => m.topic === fixture.vault.requestTopic, 1);
    const [reply] = await fixture.sniffer.nextCount((m) => m.topic === fixture.factory.replyTopic, 1);
    for (const message of [request, reply]) {
      expect(message?.packet.properties?.contentType).toBe('application/jose+json');
      expect(Object.keys(message?.json as object).sort()).toEqual([
        'ciphertext',
        'encrypted_key',
        'iv',
        'protected',
        'tag',
      ]);
    }
  });

  it('rejects a request whose a2a-recipient-agent-id is another agent as transport_protocol_error', async () => {
    await using fixture = await setup();
    await expectTransportProtocolError(
      fixture,
      {
        contentType: 'application/jose',
        userProperties: {
          'a2a-security-profile': 'ubsp-v1',
          'a2a-requester-agent-id': 'client',
          'a2a-recipient-agent-id': 'someone-else',
        },
      },
      'a.b.c.d.e',
      /a2a-recipient-agent-id 'someone-else' is not this agent/,
    );
    expect(fixture.executor.executions.value).toBe(0);
  });

  it('rejects missing a2a-security-profile, malformed metadata, undecryptable and plaintext requests', async () => {
    await using fixture = await setup();
    const ids = { 'a2a-requester-agent-id': 'client', 'a2a-recipient-agent-id': 'vault' };
    await expectTransportProtocolError(
      fixture,
      { contentType: 'application/jose', userProperties: ids },
      'a.b.c.d.e',
      /needs a2a-security-profile ubsp-v1/,
    );
    await expectTransportProtocolError(
      fixture,
      { contentType: 'application/jose', userProperties: { 'a2a-security-profile': 'ubsp-v9', ...ids } },
      'a.b.c.d.e',
      /unsupported a2a-security-profile 'ubsp-v9'/,
    );
    await expectTransportProtocolError(
      fixture,
      { contentType: 'application/jose', userProperties: { 'a2a-security-profile': 'ubsp-v1' } },
      'a.b.c.d.e',
      /need a2a-requester-agent-id and a2a-recipient-agent-id/,
    );
    await expectTransportProtocolError(
      fixture,
      { contentType: 'application/jose', userProperties: { 'a2a-security-profile': 'ubsp-v1', ...ids } },
      'eyJhbGciOiJub25lIn0.x.y.z.w',
      /cannot decrypt the ubsp-v1 payload/,
    );
    await expectTransportProtocolError(
      fixture,
      {},
      JSON.stringify(sendMessageBody('plaintext')),
      /accepts only ubsp-v1 protected requests/,
    );
    expect(fixture.executor.executions.value).toBe(0);
  });

  it('rejects a replayed protected request as a security failure', async () => {
    await using fixture = await setup();
    await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('once'),
      configuration: undefined,
      metadata: undefined,
    });
    expect(fixture.executor.executions.value).toBe(1);
    const [original] = await fixture.sniffer.nextCount((m) => m.topic === fixture.vault.requestTopic, 1);
    const properties = original?.packet.properties ?? {};
    // The broker replays the captured ciphertext with fresh correlation data.
    const correlation = await rawRequest(
      fixture.sniffer,
      fixture.vault.requestTopic,
      original?.payload as Buffer,
      {
        responseTopic: properties.responseTopic as string,
        properties: { contentType: properties.contentType, userProperties: properties.userProperties },
      },
    );
    const reply = await fixture.sniffer.next(
      (entry) => entry.topic === fixture.factory.replyTopic && hasCorrelation(correlation)(entry),
    );
    expect((reply.json as { error: { code: number; message: string } }).error).toMatchObject({
      code: -32005,
      message: expect.stringMatching(/replayed protected payload/),
    });
    expect(fixture.executor.executions.value).toBe(1);
  });

  it('fails closed when no trusted key for the agent is found: nothing is sent in plaintext', async () => {
    await using fixture = await setup({ signResponder: false });
    const failure = await fixture.client
      .sendMessage({
        tenant: '',
        message: userMessage('secret'),
        configuration: undefined,
        metadata: undefined,
      })
      .catch((error: unknown) => error);
    expect(MqttAgentsError.hasCode(failure, 'UNSUPPORTED')).toBe(true);
    expect((failure as Error).message).toMatch(/no trusted ubsp-v1 encryption key for agent .*\/vault/);
    // A marker published after the failure is the only message the request topic ever carried.
    await fixture.sniffer.publish(fixture.vault.requestTopic, 'marker');
    await fixture.sniffer.next(
      (m) => m.topic === fixture.vault.requestTopic && m.payload.toString() === 'marker',
    );
    expect(fixture.sniffer.all((m) => m.topic === fixture.vault.requestTopic)).toHaveLength(1);
    expect(fixture.executor.executions.value).toBe(0);
  });

  it('rejects a plaintext or undecryptable reply to a protected request as a protocol error', async () => {
    const org = uniqueId('org');
    const fakeKey = await encryptionKey('fake-enc');
    const requestTopic = `$a2a/v1/request/${org}/u/fake`;
    await using fake = await FakeResponder.start(broker.url, requestTopic, async (request, responder) => {
      // A broker-forged answer: a plaintext task.
      expect(request.payload.toString('utf8')).toMatch(COMPACT_JWE);
      await responder.reply(request, { result: { task: { id: 'forged', contextId: 'c', status: {} } } });
    });
    const clientKey = await encryptionKey('client-enc');
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'client',
      ubsp: { privateKey: clientKey, kid: 'client-enc', resolveKey: () => fakeKey },
    });
    const transport = await factory.transportFor({ org, unit: 'u', agentId: 'fake' });
    const failure = await transport
      .sendMessage({ tenant: '', message: userMessage('x'), configuration: undefined, metadata: undefined })
      .catch((error: unknown) => error);
    expect((failure as Error).message).toMatch(/not protected/);
    expect(MqttAgentsError.hasCode(failure, 'PROTOCOL_ERROR')).toBe(true);
    expect(fake.requests[0]?.packet.properties?.contentType).toBe('application/jose');
  });
});

// --- payload protection, without a broker (formerly src/ubsp.test.ts) ---

async function keyPair(kid: string) {
  const pair = await generateKeyPair('ECDH-ES+A256KW', { extractable: true });
  const privateJwk = { ...(await exportJWK(pair.privateKey)), kid };
  return { privateJwk, publicJwk: publicJwk(privateJwk) };
}

describe('ubsp-v1 payload protection', () => {
  it('round-trips compact and JSON serialisations, binding claims into the protected header', async () => {
    const { privateJwk, publicJwk: recipient } = await keyPair('k1');
    for (const serialization of ['compact', 'json'] as const) {
      const sealed = await encryptPayload(
        '{"jsonrpc":"2.0"}',
        { key: recipient, kid: 'k1' },
        { 'a2a-requester-agent-id': 'a' },
        { serialization, maxAgeSeconds: 60 },
      );
      expect(sealed.contentType).toBe(serialization === 'json' ? JOSE_JSON : JOSE_COMPACT);
      const opened = await decryptPayload(
        new TextEncoder().encode(sealed.payload),
        sealed.contentType,
        privateJwk,
      );
      expect(new TextDecoder().decode(opened.plaintext)).toBe('{"jsonrpc":"2.0"}');
      expect(opened.header).toMatchObject({ kid: 'k1', enc: 'A256GCM', 'a2a-requester-agent-id': 'a' });
      expect(typeof opened.header.jti).toBe('string');
      expect(opened.serialization).toBe(serialization);
    }
  });

  it('does not decrypt with another key or a non-JWE content type', async () => {
    const first = await keyPair('k1');
    const second = await keyPair('k2');
    const sealed = await encryptPayload(
      'x',
      { key: first.publicJwk, kid: 'k1' },
      {},
      {
        serialization: 'compact',
        maxAgeSeconds: 60,
      },
    );
    const bytes = new TextEncoder().encode(sealed.payload);
    await expect(decryptPayload(bytes, JOSE_COMPACT, second.privateJwk)).rejects.toThrow();
    await expect(decryptPayload(bytes, 'application/json', first.privateJwk)).rejects.toThrow(/not a JWE/);
  });

  it('accepts each jti once and only within its lifetime', () => {
    const guard = new ReplayGuard({ maxAgeSeconds: 60, clockToleranceSeconds: 5 });
    const now = Math.floor(Date.now() / 1000);
    expect(guard.check({ jti: 'a', iat: now, exp: now + 60 })).toBeUndefined();
    expect(guard.check({ jti: 'a', iat: now, exp: now + 60 })).toMatch(/replayed/);
    expect(guard.check({ jti: 'b', iat: now - 120, exp: now - 60 })).toMatch(/expired/);
    expect(guard.check({ jti: 'c', iat: now + 60, exp: now + 120 })).toMatch(/future/);
    expect(guard.check({ jti: 'd', iat: now, exp: now + 3600 })).toMatch(/too long/);
    expect(guard.check({ iat: now, exp: now + 60 })).toMatch(/no jti/);
  });

  it('picks the encryption key of a JWKS, not the signing one', () => {
    const keys = [
      { kty: 'EC', crv: 'P-256', x: 'a', y: 'b', use: 'sig', kid: 's' },
      { kty: 'EC', crv: 'P-256', x: 'c', y: 'd', use: 'enc', kid: 'e' },
    ];
    expect(pickEncryptionKey(keys)?.kid).toBe('e');
    expect(pickEncryptionKey([keys[0] as (typeof keys)[0]])).toBeUndefined();
  });
});
