// Discovery subscriber rules: retained cards as current state, later cards replace earlier ones, empty
// retained payload unregisters, broker-managed status wins, invalid cards reported and skipped.
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MQTT_PROTOCOL_BINDING, agentCardSchema, discoverAgents, parseAgentCard } from '../src/index.js';
import type { AgentRegistryChange } from '../src/index.js';
import { RawClient, recordingLogger, uniqueId } from './helpers.js';

let broker: TestBroker;
let raw: RawClient;
beforeAll(async () => {
  broker = await startTestBroker();
  raw = await RawClient.connect(broker.url);
});
afterAll(async () => {
  await raw.close();
  await broker.close();
});

function cardJson(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    description: `${name} agent`,
    version: '1.0.0',
    supportedInterfaces: [
      { url: broker.url, protocolBinding: MQTT_PROTOCOL_BINDING, tenant: 'o/u', protocolVersion: '1.0' },
    ],
    capabilities: { streaming: true },
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [{ id: 'a', name: 'A', description: 'a skill', tags: ['a'] }],
    ...extra,
  };
}

async function publishCard(
  topic: string,
  payload: string,
  userProperties: Record<string, string | string[]> = {},
): Promise<void> {
  const hasProperties = Object.keys(userProperties).length > 0;
  await raw.publish(topic, payload, {
    retain: true,
    ...(hasProperties ? { properties: { userProperties } } : {}),
  });
}

async function nextChange(changes: AsyncIterator<AgentRegistryChange>): Promise<AgentRegistryChange> {
  const next = await changes.next();
  if (next.done) throw new Error('registry ended');
  return next.value;
}

describe('discovery registry', () => {
  it('processes retained cards as current state and treats later cards as replacements', async () => {
    const org = uniqueId('org');
    const topic = `$a2a/v1/discovery/${org}/u/alpha`;
    await publishCard(topic, JSON.stringify(cardJson('Alpha v1')), {
      'a2a-status': 'online',
      'a2a-status-source': 'agent',
    });
    await using registry = await discoverAgents({ mqtt: { url: broker.url }, org, unit: 'u' });
    expect(registry.filter).toBe(`$a2a/v1/discovery/${org}/u/+`);
    const first = await registry.waitFor('alpha');
    expect(first.card.name).toBe('Alpha v1');
    expect(first.status).toBe('online');
    expect(first.statusSource).toBe('agent');
    expect(first.key).toBe(`${org}/u/alpha`);
    const changes = registry.changes();
    expect(await nextChange(changes)).toMatchObject({ type: 'added', key: `${org}/u/alpha` });
    await publishCard(topic, JSON.stringify(cardJson('Alpha v2')), {
      'a2a-status': 'online',
      'a2a-status-source': 'agent',
    });
    const updated = await nextChange(changes);
    expect(updated.type).toBe('updated');
    expect(updated.type === 'updated' && updated.agent.card.name).toBe('Alpha v2');
    expect(updated.type === 'updated' && updated.previous.card.name).toBe('Alpha v1');
    expect(registry.list().map((agent) => agent.card.name)).toEqual(['Alpha v2']);
    await publishCard(topic, '');
  });

  it('treats an empty retained payload as unregistered', async () => {
    const org = uniqueId('org');
    const topic = `$a2a/v1/discovery/${org}/u/beta`;
    await using registry = await discoverAgents({ mqtt: { url: broker.url }, org, unit: 'u' });
    const changes = registry.changes();
    await publishCard(topic, JSON.stringify(cardJson('Beta')));
    expect(await nextChange(changes)).toMatchObject({ type: 'added' });
    expect(registry.get('beta')?.status).toBe('unknown');
    await publishCard(topic, '');
    expect(await nextChange(changes)).toMatchObject({ type: 'removed', key: `${org}/u/beta` });
    expect(registry.agents.size).toBe(0);
  });

  it('honours a2a-status and prefers broker-managed status over the agent-published one', async () => {
    const org = uniqueId('org');
    await using registry = await discoverAgents({ mqtt: { url: broker.url }, org });
    const changes = registry.changes();
    const topic = `$a2a/v1/discovery/${org}/u/gamma`;
    await publishCard(topic, JSON.stringify(cardJson('Gamma')), {
      'a2a-status': 'offline',
      'a2a-status-source': 'lwt',
    });
    const lwt = await nextChange(changes);
    expect(lwt.type === 'added' && [lwt.agent.status, lwt.agent.statusSource]).toEqual(['offline', 'lwt']);
    // A broker that tracks connections overrides the pair...
    await publishCard(topic, JSON.stringify(cardJson('Gamma')), {
      'a2a-status': 'online',
      'a2a-status-source': 'broker',
    });
    const broker1 = await nextChange(changes);
    expect(broker1.type === 'updated' && [broker1.agent.status, broker1.agent.statusSource]).toEqual([
      'online',
      'broker',
    ]);
    // ...or adds its own next to the agent's: the broker's word wins.
    await publishCard(topic, JSON.stringify(cardJson('Gamma')), {
      'a2a-status': ['online', 'offline'],
      'a2a-status-source': ['agent', 'broker'],
    });
    const both = await nextChange(changes);
    expect(both.type === 'updated' && [both.agent.status, both.agent.statusSource]).toEqual([
      'offline',
      'broker',
    ]);
    await publishCard(topic, '');
  });

  it('reports and skips cards that are not JSON or fail the AgentCard schema, and keeps working', async () => {
    const org = uniqueId('org');
    const logger = recordingLogger();
    await using registry = await discoverAgents({ mqtt: { url: broker.url }, org, unit: 'u', logger });
    const changes = registry.changes();
    await publishCard(`$a2a/v1/discovery/${org}/u/broken`, '{not json');
    const notJson = await nextChange(changes);
    expect(notJson).toMatchObject({ type: 'invalid', key: `${org}/u/broken` });
    expect(notJson.type === 'invalid' && notJson.reason).toMatch(/not json/);
    await publishCard(
      `$a2a/v1/discovery/${org}/u/nameless`,
      JSON.stringify(cardJson('', { supportedInterfaces: 'nope' })),
    );
    const schema = await nextChange(changes);
    expect(schema.type === 'invalid' && schema.issues.join(' ')).toMatch(
      /name.*supportedInterfaces|supportedInterfaces/,
    );
    await publishCard(`$a2a/v1/discovery/${org}/u/array`, '[1,2]');
    expect(await nextChange(changes)).toMatchObject({ type: 'invalid', key: `${org}/u/array` });
    expect(registry.agents.size).toBe(0);
    expect(logger.lines.filter((line) => line.level === 'warn').length).toBeGreaterThanOrEqual(3);
    // A valid card afterwards is registered as usual.
    await publishCard(`$a2a/v1/discovery/${org}/u/fine`, JSON.stringify(cardJson('Fine')));
    expect(await nextChange(changes)).toMatchObject({ type: 'added', key: `${org}/u/fine` });
    // An invalid replacement unregisters the agent (the retained state is no longer a usable card).
    await publishCard(`$a2a/v1/discovery/${org}/u/fine`, JSON.stringify({ name: 'Fine' }));
    expect(await nextChange(changes)).toMatchObject({ type: 'removed', key: `${org}/u/fine` });
    expect(await nextChange(changes)).toMatchObject({ type: 'invalid', key: `${org}/u/fine` });
    for (const agent of ['broken', 'nameless', 'array', 'fine'])
      await publishCard(`$a2a/v1/discovery/${org}/u/${agent}`, '');
  });

  it('keeps schema failures with their issues when requireValid is false', async () => {
    const org = uniqueId('org');
    await using registry = await discoverAgents({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      requireValid: false,
    });
    await publishCard(`$a2a/v1/discovery/${org}/u/loose`, JSON.stringify({ name: 'Loose' }));
    const agent = await registry.waitFor('loose');
    expect(agent.card.name).toBe('Loose');
    expect(agent.issues.length).toBeGreaterThan(0);
    await publishCard(`$a2a/v1/discovery/${org}/u/loose`, '');
  });

  it('iterates the agents known so far first, then live changes, and ends on close', async () => {
    const org = uniqueId('org');
    await publishCard(`$a2a/v1/discovery/${org}/u/one`, JSON.stringify(cardJson('One')));
    const registry = await discoverAgents({ mqtt: { url: broker.url }, org, unit: 'u' });
    await registry.waitFor('one');
    const seen: string[] = [];
    const consumer = (async () => {
      for await (const change of registry) {
        seen.push(`${change.type}:${change.key}`);
        if (seen.length === 2) await registry.close();
      }
    })();
    await publishCard(`$a2a/v1/discovery/${org}/u/two`, JSON.stringify(cardJson('Two')));
    await consumer;
    expect(seen).toEqual([`added:${org}/u/one`, `added:${org}/u/two`]);
    await expect(registry.waitFor('three')).rejects.toThrow(/closed/);
    for (const agent of ['one', 'two']) await publishCard(`$a2a/v1/discovery/${org}/u/${agent}`, '');
  });

  it('validates cards with a zod schema of the A2A AgentCard (ProtoJSON form)', () => {
    expect(parseAgentCard(cardJson('Ok')).ok).toBe(true);
    // ProtoJSON omits empty repeated fields: a card without skills is still a card.
    expect(parseAgentCard({ ...cardJson('NoSkills'), skills: undefined }).ok).toBe(true);
    const missing = parseAgentCard({ description: 'x' });
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.issues.join(' ')).toMatch(/name/);
    expect(agentCardSchema.safeParse({ ...cardJson('x'), supportedInterfaces: [] }).success).toBe(false);
    expect(agentCardSchema.safeParse({ ...cardJson('x'), skills: [{ id: 'a' }] }).success).toBe(false);
    expect(agentCardSchema.safeParse({ ...cardJson('x'), unknownField: 1 }).success).toBe(true);
  });
});
