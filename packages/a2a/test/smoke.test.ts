import { TaskState } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverAgents, mqttTransportFactory, serveA2AOverMqtt } from '../src/index.js';
import { EchoExecutor, uniqueId, userMessage } from './helpers.js';

describe('smoke', () => {
  let broker: Awaited<ReturnType<typeof startTestBroker>>;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker.close();
  });

  it('serves, discovers and answers through ClientFactory', async () => {
    const org = uniqueId('org');
    const unit = 'plant-1';
    await using agent = await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org,
      unit,
      agentId: 'planner',
      card: { name: 'Planner', capabilities: { streaming: true, extensions: [] } },
      executor: new EchoExecutor(),
    });
    await using registry = await discoverAgents({ mqtt: { url: broker.url }, org, unit });
    const found = await registry.waitFor('planner');
    await using factory = mqttTransportFactory({ mqtt: { url: broker.url }, org, unit, agentId: 'requester' });
    const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(found.card);
    const result = await client.sendMessage({ tenant: '', message: userMessage('hi'), configuration: undefined, metadata: undefined });
    expect('status' in result && result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const states: number[] = [];
    for await (const event of client.sendMessageStream({ tenant: '', message: userMessage('stream'), configuration: undefined, metadata: undefined })) {
      if (event.payload?.$case === 'statusUpdate') states.push(event.payload.value.status?.state ?? -1);
      if (event.payload?.$case === 'task') states.push(event.payload.value.status?.state ?? -1);
    }
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(agent.card.name).toBe('Planner');
  });
});
