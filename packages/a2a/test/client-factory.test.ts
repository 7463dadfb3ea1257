// The requester's TransportFactory for @a2a-js/sdk's ClientFactory: protocol binding names, cards from
// discovery, alias spellings, cards of unknown origin, lifecycle.
import { AgentCard, TaskState } from '@a2a-js/sdk';
import type { Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { MqttAgentsError } from '@mqtt-agents/core';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MQTT_PROTOCOL_BINDING,
  discoverAgents,
  mqttTransportFactory,
  serveA2AOverMqtt,
} from '../src/index.js';
import { EchoExecutor, RawClient, uniqueId, userMessage } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

async function serve(org: string) {
  return serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'plant-1',
    agentId: 'planner',
    card: { name: 'Planner', capabilities: { streaming: true, extensions: [] } },
    executor: new EchoExecutor(),
  });
}

describe('MQTT transport factory for ClientFactory', () => {
  it('publishes MQTT5+JSONRPC with the broker url and tenant {org}/{unit}, and ClientFactory selects it from a discovered card', async () => {
    const org = uniqueId('org');
    await using agent = await serve(org);
    expect(agent.card.supportedInterfaces[0]).toEqual({
      url: broker.url,
      protocolBinding: MQTT_PROTOCOL_BINDING,
      tenant: `${org}/plant-1`,
      protocolVersion: '1.0',
    });
    await using registry = await discoverAgents({ mqtt: { url: broker.url }, org, unit: 'plant-1' });
    const discovered = await registry.waitFor('planner', { online: true });
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'plant-1',
      agentId: 'requester',
    });
    expect(factory.protocolName).toBe('MQTT5+JSONRPC');
    const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(discovered.card);
    expect(client.transport.protocolName).toBe('MQTT5+JSONRPC');
    const task = (await client.sendMessage({
      tenant: '',
      message: userMessage('hi'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
  });

  it('accepts cards that spell the binding MQTTv5+JSONRPCv2 through aliases()', async () => {
    const org = uniqueId('org');
    await using agent = await serve(org);
    // A card as EMQX's Python SDK writes it, for the same agent.
    await using raw = await RawClient.connect(broker.url);
    const json = AgentCard.toJSON(agent.card) as { supportedInterfaces: Array<Record<string, unknown>> };
    json.supportedInterfaces = [
      { url: broker.url, protocolBinding: 'MQTTv5+JSONRPCv2', protocolVersion: '1.0.0' },
    ];
    await raw.publish(`$a2a/v1/discovery/${org}/plant-1/pythonic`, JSON.stringify(json), { retain: true });
    await using registry = await discoverAgents({ mqtt: { url: broker.url }, org, unit: 'plant-1' });
    const discovered = await registry.waitFor('pythonic');
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'plant-1',
      agentId: 'requester',
      // Route the alias card to the agent we run, as if it were the Python agent.
      resolveAgent: () => 'planner',
    });
    await expect(
      new ClientFactory({ transports: [factory] }).createFromAgentCard(discovered.card),
    ).rejects.toThrow(/No compatible transport/);
    const client = await new ClientFactory({
      transports: [factory, ...factory.aliases()],
    }).createFromAgentCard(discovered.card);
    expect(client.transport.protocolName).toBe('MQTTv5+JSONRPCv2');
    const task = (await client.sendMessage({
      tenant: '',
      message: userMessage('alias'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    await raw.publish(`$a2a/v1/discovery/${org}/plant-1/pythonic`, '', { retain: true });
  });

  it('refuses a card whose agent it cannot tell, with a message that says what to do', async () => {
    const org = uniqueId('org');
    await using agent = await serve(org);
    const copy = AgentCard.fromJSON(AgentCard.toJSON(agent.card));
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'plant-1',
      agentId: 'requester',
    });
    const error = await new ClientFactory({ transports: [factory] })
      .createFromAgentCard(copy)
      .catch((caught: unknown) => caught);
    expect(MqttAgentsError.hasCode(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toMatch(/use a card from discoverAgents\(\)/);
  });

  it('validates the requester identity up front and closes idempotently', async () => {
    expect(() =>
      mqttTransportFactory({ mqtt: { url: broker.url }, org: 'o', unit: 'u', agentId: 'a/b' }),
    ).toThrow(/invalid agent id/);
    const factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org: uniqueId('org'),
      unit: 'u',
      agentId: 'requester',
    });
    await factory.connect();
    await factory.close();
    await factory.close();
    await expect(factory.transportFor({ org: 'o', unit: 'u', agentId: 'x' })).rejects.toSatisfy(
      (error: unknown) => MqttAgentsError.hasCode(error, 'CLOSED'),
    );
  });
});
