// A requester and an agent whose retained card says offline: fail fast with AGENT_OFFLINE by default (not
// after every attempt of the retry profile), send anyway with `offlineAgents: 'send'`; and `waitFor(…,
// { online: true })` says the card is there but offline.
import { ClientFactory } from '@a2a-js/sdk/client';
import { MqttAgentsError } from '@mqtt-agents/core';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverAgents, mqttTransportFactory, serveA2AOverMqtt } from '../src/index.js';
import type { AgentRegistry } from '../src/index.js';
import { EchoExecutor, uniqueId, userMessage } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

/** An agent that served, then closed gracefully: its retained card says offline. */
async function offlineAgent(org: string): Promise<AgentRegistry> {
  const agent = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'plant-1',
    agentId: 'planner',
    card: { name: 'Planner', description: 'plans', skills: [{ id: 'plan', name: 'Plan' }] },
    executor: new EchoExecutor(),
  });
  const registry = await discoverAgents({ mqtt: { url: broker.url }, org, unit: 'plant-1' });
  await registry.waitFor('planner', { online: true });
  await agent.close();
  await expect.poll(() => registry.get('planner')?.status).toBe('offline');
  return registry;
}

const send = { tenant: '', message: userMessage('hi'), configuration: undefined, metadata: undefined };

describe('requests to an agent whose card says offline', () => {
  it('fail at once with AGENT_OFFLINE by default', { timeout: 30_000 }, async () => {
    const org = uniqueId('org');
    await using registry = await offlineAgent(org);
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'plant-1',
      agentId: 'requester',
      // Waiting for an answer would outlast the test's timeout: only failing fast passes.
      retry: { replyFirstTimeoutMs: 600_000, maxAttempts: 3 },
    });
    const card = registry.get('planner')?.card;
    const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(card!);
    const error: unknown = await client.sendMessage(send).catch((caught: unknown) => caught);
    expect(MqttAgentsError.hasCode(error, 'AGENT_OFFLINE')).toBe(true);
    expect((error as Error).message).toBe(
      `agent '${org}/plant-1/planner' is offline (its card says so): SendMessage not sent; offlineAgents: 'send' sends anyway`,
    );
    const streamed: unknown = await (async () => {
      for await (const _ of client.sendMessageStream(send)) return undefined;
    })().catch((caught: unknown) => caught);
    expect(MqttAgentsError.hasCode(streamed, 'AGENT_OFFLINE')).toBe(true);
  });

  it(
    "send anyway with offlineAgents: 'send' (and time out, nobody answers)",
    { timeout: 30_000 },
    async () => {
      const org = uniqueId('org');
      await using registry = await offlineAgent(org);
      await using factory = mqttTransportFactory({
        mqtt: { url: broker.url },
        org,
        unit: 'plant-1',
        agentId: 'requester',
        offlineAgents: 'send',
        retry: { replyFirstTimeoutMs: 200, maxAttempts: 1 },
      });
      const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(
        registry.get('planner')!.card,
      );
      const error: unknown = await client.sendMessage(send).catch((caught: unknown) => caught);
      expect(MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT')).toBe(true);
    },
  );

  it('waitFor(…, { online: true }) says the card is there but offline', { timeout: 30_000 }, async () => {
    const org = uniqueId('org');
    await using registry = await offlineAgent(org);
    const error: unknown = await registry
      .waitFor('planner', { online: true, timeoutMs: 50 })
      .catch((caught: unknown) => caught);
    expect(MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT')).toBe(true);
    expect((error as Error).message).toBe(
      `agent '${org}/plant-1/planner' has a card, but its status is offline, not online, after 50 ms`,
    );
    expect((error as MqttAgentsError).details).toMatchObject({ status: 'offline' });
    const missing: unknown = await registry
      .waitFor('nobody', { timeoutMs: 50 })
      .catch((caught: unknown) => caught);
    expect((missing as Error).message).toBe(`agent 'nobody' did not show up within 50 ms`);
  });
});
