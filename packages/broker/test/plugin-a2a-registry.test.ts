// Embedded only: the A2A registry plugin (EIP-0033) is a feature of the embedded broker. It validates
// retained Agent Cards, binds the discovery topic to the publisher's client id, limits registrations,
// applies a trusted-JKU list and stamps broker-managed status from the agent's live connection.
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { Broker } from '../src/index.js';
import { startBroker } from '../src/index.js';
import { A2A_REGISTRY_REASON, a2aRegistry } from '../src/plugins/a2a-registry.js';
import type { A2aRegistryOptions } from '../src/plugins/a2a-registry.js';
import { closeAllClients, connectClient, embedded, subscriber, unique } from './helpers.js';

const brokers: Broker[] = [];
afterAll(async () => {
  await closeAllClients();
  await Promise.all(brokers.map((broker) => broker.close()));
});

async function registryBroker(options: A2aRegistryOptions = {}): Promise<Broker> {
  const registry = a2aRegistry(options);
  const broker = await startBroker({ host: '127.0.0.1', port: 0, ...registry.hooks });
  registry.attach(broker);
  brokers.push(broker);
  return broker;
}

function card(name: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    name,
    description: name,
    version: '1.0.0',
    supportedInterfaces: [
      { url: 'mqtt://127.0.0.1', protocolBinding: 'MQTT5+JSONRPC', protocolVersion: '1.0', tenant: 'o/u' },
    ],
    capabilities: { streaming: true },
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [{ id: 'echo', name: 'Echo', description: 'echo', tags: ['echo'] }],
    ...extra,
  });
}

const OK = 'accepted';

/** `accepted`, or the failure reason code of the PUBACK of a QoS 1 publish. */
async function publishCode(client: MqttClient, topic: string, payload: string): Promise<number | string> {
  try {
    await client.publishAsync(topic, payload, {
      qos: 1,
      retain: true,
      properties: { userProperties: { 'a2a-status': 'online', 'a2a-status-source': 'agent' } },
    });
    return OK;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

describe.skipIf(!embedded)('A2A registry plugin (embedded only)', { concurrent: true }, () => {
  it('stamps broker-managed status from the agent connection: online while connected, offline once it is gone', async () => {
    const broker = await registryBroker();
    const org = unique('org');
    const clientId = `${org}/u/agent`;
    const topic = `$a2a/v1/discovery/${clientId}`;
    const watcher = await subscriber(broker.url, `$a2a/v1/discovery/${org}/u/+`);
    const agent = await connectClient(broker.url, {
      clientId,
      will: {
        topic,
        payload: Buffer.from(card('Agent')),
        qos: 1,
        retain: true,
        properties: { userProperties: { 'a2a-status': 'offline', 'a2a-status-source': 'lwt' } },
      },
    });
    expect(await publishCode(agent, topic, card('Agent'))).toBe(OK);
    const online = await watcher.inbox.waitForMatch(
      (message) => message.packet.properties?.userProperties?.['a2a-status-source'] === 'broker',
    );
    expect(online.packet.properties?.userProperties?.['a2a-status']).toBe('online');
    expect(online.payload.toString()).toBe(card('Agent')); // the payload is never touched
    expect(broker.getRetained(topic)?.properties.userProperties).toMatchObject({
      'a2a-status': 'online',
      'a2a-status-source': 'broker',
    });
    // The agent vanishes (no DISCONNECT): its will, then the broker's own word.
    (agent.stream as unknown as { destroy(): void }).destroy();
    const offline = await watcher.inbox.waitForMatch(
      (message) =>
        message.packet.properties?.userProperties?.['a2a-status-source'] === 'broker' &&
        message.packet.properties.userProperties['a2a-status'] === 'offline',
    );
    expect(offline.payload.toString()).toBe(card('Agent'));
    expect(broker.getRetained(topic)?.properties.userProperties).toMatchObject({
      'a2a-status': 'offline',
      'a2a-status-source': 'broker',
    });
    // Back again: online from the connection alone, before the agent republishes anything.
    await connectClient(broker.url, { clientId });
    await watcher.inbox.waitForMatch(
      (message) =>
        message !== online &&
        message.packet.properties?.userProperties?.['a2a-status-source'] === 'broker' &&
        message.packet.properties.userProperties['a2a-status'] === 'online' &&
        watcher.inbox.messages.indexOf(message) > watcher.inbox.messages.indexOf(offline),
    );
  });

  it('refuses cards that are not JSON or not AgentCards with PUBACK 0x99 and keeps the registered card', async () => {
    const broker = await registryBroker();
    const clientId = `${unique('org')}/u/agent`;
    const topic = `$a2a/v1/discovery/${clientId}`;
    const agent = await connectClient(broker.url, { clientId });
    expect(await publishCode(agent, topic, card('Good'))).toBe(OK);
    expect(await publishCode(agent, topic, '{not json')).toBe(A2A_REGISTRY_REASON.invalidCard);
    expect(await publishCode(agent, topic, JSON.stringify({ name: 'No interfaces' }))).toBe(0x99);
    expect(await publishCode(agent, topic, card('', {}))).toBe(0x99);
    expect(await publishCode(agent, topic, card('Bad skill', { skills: [{ name: 'x' }] }))).toBe(0x99);
    expect(JSON.parse(broker.getRetained(topic)?.payload.toString() ?? '{}').name).toBe('Good');
    // Unregistering (empty retained payload) is always allowed to the owner.
    expect(await publishCode(agent, topic, '')).toBe(OK);
    expect(broker.getRetained(topic)).toBeUndefined();
  });

  it("binds the discovery topic to the client id: an agent may only register its own card, not another's", async () => {
    const broker = await registryBroker();
    const org = unique('org');
    const intruder = await connectClient(broker.url, { clientId: `${org}/u/intruder` });
    expect(await publishCode(intruder, `$a2a/v1/discovery/${org}/u/victim`, card('Fake'))).toBe(0x87);
    expect(await publishCode(intruder, `$a2a/v1/discovery/${org}/u/victim`, '')).toBe(0x87);
    expect(await publishCode(intruder, `$a2a/v1/discovery/${org}/u`, card('Short'))).toBe(0x90);
    const anonymous = await connectClient(broker.url, { clientId: unique('random') });
    expect(await publishCode(anonymous, `$a2a/v1/discovery/${org}/u/victim`, card('Fake'))).toBe(0x87);
    expect(broker.getRetained(`$a2a/v1/discovery/${org}/u/victim`)).toBeUndefined();
    expect(await publishCode(intruder, `$a2a/v1/discovery/${org}/u/intruder`, card('Mine'))).toBe(OK);
  });

  it('limits registrations per agent with 0x97 (quota exceeded); offline republications do not count', async () => {
    const broker = await registryBroker({ registrationRateLimit: { max: 2, windowMs: 60_000 } });
    const clientId = `${unique('org')}/u/agent`;
    const topic = `$a2a/v1/discovery/${clientId}`;
    const agent = await connectClient(broker.url, { clientId });
    expect(await publishCode(agent, topic, card('v1'))).toBe(OK);
    expect(await publishCode(agent, topic, card('v2'))).toBe(OK);
    expect(await publishCode(agent, topic, card('v3'))).toBe(A2A_REGISTRY_REASON.rateTooHigh);
    const offline = await agent
      .publishAsync(topic, card('v2'), {
        qos: 1,
        retain: true,
        properties: { userProperties: { 'a2a-status': 'offline', 'a2a-status-source': 'agent' } },
      })
      .then(
        () => OK,
        (error: { code?: number }) => error.code,
      );
    expect(offline).toBe(OK);
    // Other agents have their own budget.
    const other = await connectClient(broker.url, { clientId: `${clientId}-2` });
    expect(await publishCode(other, `${topic}-2`, card('other'))).toBe(OK);
  });

  it('applies the trusted-JKU list, required security metadata and a custom card check', async () => {
    const metadata = (jwksUri: string) => ({
      capabilities: {
        extensions: [{ uri: 'urn:a2a:mqtt-profile:v1', params: { securityMetadata: { jwksUri } } }],
      },
    });
    const broker = await registryBroker({
      trustedJkus: ['https://keys.example/agents/', 'https://other.example/jwks.json'],
      requireSecurityMetadata: true,
      verifyCard: async (json) => (json.name === 'Forged' ? 'signature check failed' : true),
    });
    const clientId = `${unique('org')}/u/agent`;
    const topic = `$a2a/v1/discovery/${clientId}`;
    const agent = await connectClient(broker.url, { clientId });
    expect(await publishCode(agent, topic, card('None'))).toBe(0x99); // no security metadata
    expect(await publishCode(agent, topic, card('Evil', metadata('https://evil.example/jwks.json')))).toBe(
      0x87,
    );
    expect(await publishCode(agent, topic, card('Forged', metadata('https://other.example/jwks.json')))).toBe(
      0x87,
    );
    expect(
      await publishCode(agent, topic, card('Good', metadata('https://keys.example/agents/a.json'))),
    ).toBe(OK);
    expect(await publishCode(agent, topic, card('Exact', metadata('https://other.example/jwks.json')))).toBe(
      OK,
    );
  });
});
