// The snippet of packages/a2a/README.md, kept here so it is type-checked and run.
import { Role } from '@a2a-js/sdk';
import type { Message, Part } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import { discoverAgents, mqttTransportFactory, serveA2AOverMqtt } from '@mqtt-agents/a2a';
import { startBroker } from '@mqtt-agents/broker';

const text = (value: string): Part => ({
  content: { $case: 'text', value },
  mediaType: 'text/plain',
  filename: '',
  metadata: undefined,
});
const message = (role: Role, value: string, contextId = ''): Message => ({
  messageId: crypto.randomUUID(),
  role,
  parts: [text(value)],
  contextId,
  taskId: '',
  metadata: undefined,
  extensions: [],
  referenceTaskIds: [],
});

// An ordinary @a2a-js/sdk executor.
const executor: AgentExecutor = {
  async execute(context, bus) {
    bus.publish(AgentEvent.message(message(Role.ROLE_AGENT, 'hello from MQTT', context.contextId)));
    bus.finished();
  },
  async cancelTask() {},
};

await using broker = await startBroker({ port: 0 }); // or your own broker: { url: 'mqtt://localhost:1883' }
const mqtt = { url: broker.url };

// The agent: retained card on $a2a/v1/discovery/com.acme/plant-1/greeter, requests on $a2a/v1/request/...
await using agent = await serveA2AOverMqtt({
  mqtt,
  org: 'com.acme',
  unit: 'plant-1',
  agentId: 'greeter',
  card: { name: 'Greeter' },
  executor,
});

// A requester: discover the card, then use the official A2A client over MQTT.
await using registry = await discoverAgents({ mqtt, org: 'com.acme', unit: 'plant-1' });
const { card } = await registry.waitFor('greeter', { online: true });
await using transports = mqttTransportFactory({
  mqtt,
  org: 'com.acme',
  unit: 'plant-1',
  agentId: 'requester',
});
const client = await new ClientFactory({ transports: [transports] }).createFromAgentCard(card);
const answer = await client.sendMessage({
  tenant: '',
  message: message(Role.ROLE_USER, 'hi'),
  configuration: undefined,
  metadata: undefined,
});
console.log(
  `${agent.clientId} says:`,
  'parts' in answer ? answer.parts[0]?.content?.value : answer.status?.state,
);
