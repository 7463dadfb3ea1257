// Agent Card signatures (A2A v1.0 §8.4) and the registry's signature and trusted-JKU policy (Extended):
// agents sign their retained card; discovery verifies it and, when asked, drops unsigned or wrongly signed
// cards and signatures from untrusted JKUs.
import { verifyAgentCardSignature } from '@a2a-js/sdk';
import type { AgentCard } from '@a2a-js/sdk';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cardSecurityMetadata,
  discoverAgents,
  parseAgentCard,
  serveA2AOverMqtt,
  verifyAgentCard,
  verifyAgentCardJson,
} from '../src/index.js';
import type { AgentCardInput, CardSigningOptions } from '../src/index.js';
import { MessageExecutor, RawClient, recordingLogger, uniqueId } from './helpers.js';

const JKU = 'https://keys.example.test/agents/jwks.json';

let broker: TestBroker;
let signer: CardSigningOptions;
let impostor: CardSigningOptions;
let publicJwk: JWK;
const keys = () => createLocalJWKSet({ keys: [publicJwk] });

beforeAll(async () => {
  broker = await startTestBroker();
  const pair = await generateKeyPair('ES256', { extractable: true });
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'card-key-1', alg: 'ES256' };
  signer = { privateKey: pair.privateKey, alg: 'ES256', kid: 'card-key-1', jku: JKU };
  // Same kid and jku, different key: what a forger would try.
  impostor = { ...signer, privateKey: (await generateKeyPair('ES256')).privateKey as CryptoKey };
});
afterAll(async () => {
  await broker.close();
});

const card: AgentCardInput = {
  name: 'Signed',
  securitySchemes: {
    oauth2: {
      scheme: {
        $case: 'oauth2SecurityScheme',
        value: {
          description: '',
          flows: {
            flow: {
              $case: 'clientCredentials',
              value: {
                tokenUrl: 'https://id.example.test/token',
                refreshUrl: '',
                scopes: { 'a2a:invoke': 'x' },
              },
            },
          },
          oauth2MetadataUrl: '',
        },
      },
    },
  },
  securityRequirements: [{ schemes: { oauth2: { list: ['a2a:invoke'] } } }],
};

async function serve(
  org: string,
  agentId: string,
  signCard?: CardSigningOptions,
  input: AgentCardInput = card,
) {
  return await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId,
    card: input,
    executor: new MessageExecutor(),
    ...(signCard ? { signCard } : {}),
    securityMetadata: { jwksUri: JKU },
  });
}

async function retainedCard(topic: string): Promise<Record<string, unknown>> {
  await using raw = await RawClient.connect(broker.url);
  await raw.subscribe(topic);
  const message = await raw.next((entry) => entry.topic === topic);
  return message.json as Record<string, unknown>;
}

describe('agent card signatures', { concurrent: true }, () => {
  it('publishes the card signed (JWS over its canonical JSON) and the signature covers every field', async () => {
    const org = uniqueId('org');
    await using agent = await serve(org, 'signed', signer);
    const json = await retainedCard(agent.discoveryTopic);
    const signatures = json.signatures as Array<{ protected: string; signature: string }>;
    expect(signatures).toHaveLength(1);
    const header = JSON.parse(Buffer.from(signatures[0]?.protected ?? '', 'base64url').toString('utf8'));
    expect(header).toEqual({ alg: 'ES256', typ: 'JOSE', kid: 'card-key-1', jku: JKU });
    expect(cardSecurityMetadata(json)).toEqual({ jwksUri: JKU });
    expect(await verifyAgentCardJson(json, { keys: keys() })).toEqual({
      status: 'valid',
      kid: 'card-key-1',
      jku: JKU,
    });
    // The SDK's own verifier accepts it too (same canonicalisation).
    const parsed = parseAgentCard(json);
    expect(parsed.ok).toBe(true);
    await expect(
      verifyAgentCardSignature(async () => publicJwk)(json as unknown as AgentCard),
    ).resolves.toBeUndefined();
    // Tampering with any field, security schemes included, breaks it.
    const tampered = structuredClone(json) as { description: string };
    tampered.description = 'changed';
    expect((await verifyAgentCardJson(tampered as never, { keys: keys() })).status).toBe('invalid');
    const redirected = JSON.parse(
      JSON.stringify(json).replace('https://id.example.test/token', 'https://evil.example/token'),
    );
    expect((await verifyAgentCardJson(redirected, { keys: keys() })).status).toBe('invalid');
    expect((await verifyAgentCard(agent.card, { keys: keys() })).status).toBe('valid');
  });

  it('signs the card again on updateCard', async () => {
    const org = uniqueId('org');
    await using agent = await serve(org, 'signed', signer);
    await agent.updateCard({ ...card, description: 'version 2' });
    await using registry = await discoverAgents({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      verifyCards: { keys: keys() },
    });
    const found = await registry.waitFor('signed');
    expect(found.card.description).toBe('version 2');
    expect(found.signature).toEqual({ status: 'valid', kid: 'card-key-1', jku: JKU });
  });

  it('keeps cards with their signature status by default, and drops unsigned or wrongly signed ones when asked', async () => {
    const org = uniqueId('org');
    await using good = await serve(org, 'good', signer);
    await using unsigned = await serve(org, 'unsigned');
    await using forged = await serve(org, 'forged', impostor);
    expect([good.agentId, unsigned.agentId, forged.agentId]).toHaveLength(3);

    await using lenient = await discoverAgents({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      verifyCards: { keys: keys() },
    });
    expect((await lenient.waitFor('good')).signature?.status).toBe('valid');
    expect((await lenient.waitFor('unsigned')).signature?.status).toBe('unsigned');
    expect((await lenient.waitFor('forged')).signature?.status).toBe('invalid');

    // Rejections are reported (logger and `invalid` changes) while the retained cards arrive.
    const logger = recordingLogger();
    await using strict = await discoverAgents({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      verifyCards: { keys: keys(), requireSignature: true },
      logger,
    });
    await logger.waitFor(new RegExp(`${org}/u/unsigned': signature check failed: the card is not signed`));
    await logger.waitFor(new RegExp(`${org}/u/forged': signature check failed: no valid signature`));
    expect((await strict.waitFor('good')).signature?.status).toBe('valid');
    expect(strict.get('forged')).toBeUndefined();
    expect(strict.get('unsigned')).toBeUndefined();
  });

  it('applies the trusted-JKU policy to signatures and to the card jwksUri', async () => {
    const org = uniqueId('org');
    await using agent = await serve(org, 'signed', signer);
    const json = await retainedCard(agent.discoveryTopic);
    // Exact entries and prefix entries (ending in '/') trust the JKU.
    expect((await verifyAgentCardJson(json, { keys: keys(), trustedJkus: [JKU] })).status).toBe('valid');
    expect(
      (await verifyAgentCardJson(json, { keys: keys(), trustedJkus: ['https://keys.example.test/agents/'] }))
        .status,
    ).toBe('valid');
    const untrusted = await verifyAgentCardJson(json, {
      keys: keys(),
      trustedJkus: ['https://other.example/jwks.json'],
    });
    expect(untrusted).toMatchObject({ status: 'invalid' });
    expect((untrusted as { reason: string }).reason).toMatch(/not trusted/);
    // A card whose jwksUri points elsewhere is refused before any signature is looked at.
    const moved = JSON.parse(
      JSON.stringify(json).replace(`"jwksUri":"${JKU}"`, '"jwksUri":"https://other.example/keys"'),
    );
    const elsewhere = await verifyAgentCardJson(moved, { keys: keys(), trustedJkus: [JKU] });
    expect((elsewhere as { reason: string }).reason).toMatch(
      /jwksUri 'https:\/\/other.example\/keys' is not trusted/,
    );

    const logger = recordingLogger();
    await using strict = await discoverAgents({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      verifyCards: { keys: keys(), requireSignature: true, trustedJkus: ['https://other.example/'] },
      logger,
    });
    await logger.waitFor(/signed': signature check failed: .*is not trusted/);
    expect(strict.get('signed')).toBeUndefined();
  });
});
