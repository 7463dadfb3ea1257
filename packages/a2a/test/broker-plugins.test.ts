// Embedded only: SDK agents and requesters on an embedded broker running the A2A registry plugin (with the
// full AgentCard schema) and the identity-binding topic ACL: everything works, discovery sees the broker's
// own status, and an agent cannot register a card under another agent's id.
import type { Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { a2aRegistry, agentTopicAcl, composePlugins } from '@mqtt-agents/broker';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { MqttAgentsError, connectMqtt } from '@mqtt-agents/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentCardSchema, discoverAgents, mqttTransportFactory, serveA2AOverMqtt } from '../src/index.js';
import { EchoExecutor, brokerKind, uniqueId, userMessage } from './helpers.js';

let broker: TestBroker;
let detach: (() => void) | undefined;

beforeAll(async () => {
  if (brokerKind !== 'embedded') return;
  const plugins = composePlugins(
    a2aRegistry({
      validateCard: (card) => {
        const result = agentCardSchema.safeParse(card);
        return result.success ? [] : result.error.issues.map((issue) => issue.message);
      },
    }),
    agentTopicAcl(),
  );
  broker = await startTestBroker({ embedded: { ...plugins.hooks } });
  detach = plugins.attach?.(broker.broker as NonNullable<TestBroker['broker']>);
});
afterAll(async () => {
  detach?.();
  await broker?.close();
});

describe.skipIf(brokerKind !== 'embedded')(
  'SDK agents on the embedded broker with plugins (embedded only)',
  () => {
    it('serves, discovers (with broker-managed status), calls and pools under the registry and the ACL', async () => {
      const org = uniqueId('org');
      const agent = await serveA2AOverMqtt({
        mqtt: { url: broker.url },
        org,
        unit: 'u',
        agentId: 'echo',
        card: { name: 'Echo' },
        executor: new EchoExecutor(),
        pools: ['echoes'],
      });
      await using registry = await discoverAgents({
        mqtt: { url: broker.url },
        org,
        unit: 'u',
        agentId: 'watcher',
      });
      const found = await registry.waitFor('echo', { online: true });
      // The agent says online; the registry plugin adds the broker's word, which discovery prefers.
      expect(await nextChange(registry, (entry) => entry.statusSource === 'broker')).toMatchObject({
        status: 'online',
        statusSource: 'broker',
      });
      await using factory = mqttTransportFactory({
        mqtt: { url: broker.url },
        org,
        unit: 'u',
        agentId: 'caller',
      });
      const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(found.card);
      const task = (await client.sendMessage({
        tenant: '',
        message: userMessage('hi'),
        configuration: undefined,
        metadata: undefined,
      })) as Task;
      expect(task.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'text', value: 'echo: hi' });
      const pooled = await factory.transportFor({ org, unit: 'u', poolId: 'echoes' });
      expect(
        (
          (await pooled.sendMessage({
            tenant: '',
            message: userMessage('pool'),
            configuration: undefined,
            metadata: undefined,
          })) as Task
        ).status?.state,
      ).toBeDefined();
      await agent.close();
      expect(
        await nextChange(registry, (entry) => entry.status === 'offline' && entry.statusSource === 'broker'),
      ).toBeDefined();
    });

    it("refuses an agent that runs under another agent's client id (0x87 from the ACL and the registry)", async () => {
      const org = uniqueId('org');
      const mallory = await connectMqtt({ url: broker.url, clientId: `${org}/u/mallory` });
      try {
        const failure = await serveA2AOverMqtt({
          mqtt: { connection: mallory },
          org,
          unit: 'u',
          agentId: 'victim',
          card: { name: 'Not really the victim' },
          executor: new EchoExecutor(),
        }).catch((error: unknown) => error);
        expect(
          MqttAgentsError.hasCode(failure, 'PUBLISH_FAILED') ||
            MqttAgentsError.hasCode(failure, 'SUBSCRIBE_FAILED'),
        ).toBe(true);
        expect(broker.broker?.getRetained(`$a2a/v1/discovery/${org}/u/victim`)).toBeUndefined();
      } finally {
        await mallory.close();
      }
    });
  },
);

async function nextChange(
  registry: Awaited<ReturnType<typeof discoverAgents>>,
  accept: (agent: { status: string; statusSource: string | undefined }) => boolean,
) {
  for await (const change of registry) {
    if ((change.type === 'added' || change.type === 'updated') && accept(change.agent)) return change.agent;
  }
  return undefined;
}
