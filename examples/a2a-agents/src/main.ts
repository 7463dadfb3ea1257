// A planner agent delegating to two specialists over MQTT, all in this process on the embedded broker.
// Run: npx -y pnpm@10.34.8 --filter @mqtt-agents/example-a2a start
import { TaskState, taskStateToJSON } from '@a2a-js/sdk';
import type { StreamResponse, Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { discoverAgents, mqttTransportFactory, serveA2AOverMqtt } from '@mqtt-agents/a2a';
import { startBroker } from '@mqtt-agents/broker';
import { ItineraryExecutor, PlannerExecutor, WeatherExecutor } from './agents.js';
import { artifactsText, textOf, userMessage } from './parts.js';

const write = (line: string): void => void process.stdout.write(`${line}\n`);
const org = 'com.acme';
const unit = 'travel';

function describe(event: StreamResponse): string {
  const payload = event.payload;
  switch (payload?.$case) {
    case 'task':
      return `task ${payload.value.id.slice(0, 8)} ${taskStateToJSON(payload.value.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED)}`;
    case 'statusUpdate': {
      const note = textOf(payload.value.status?.message?.parts);
      return `${taskStateToJSON(payload.value.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED)}${note ? `: ${note}` : ''}`;
    }
    case 'artifactUpdate':
      return `artifact '${payload.value.artifact?.artifactId}' (${textOf(payload.value.artifact?.parts).trim().split('\n').length} lines)`;
    case 'message':
      return `message: ${textOf(payload.value.parts)}`;
    default:
      return 'unknown event';
  }
}

async function main(): Promise<void> {
  await using broker = await startBroker({ port: 0 });
  const mqtt = { url: broker.url };
  write(`embedded MQTT 5 broker on ${broker.url}`);

  // Two specialists, each its own MQTT client `com.acme/travel/{agent}` with a retained card.
  await using weather = await serveA2AOverMqtt({
    mqtt,
    org,
    unit,
    agentId: 'weather',
    card: {
      name: 'Weather',
      description: 'Forecasts for a city',
      skills: [{ id: 'forecast', name: 'Forecast' }],
    },
    executor: new WeatherExecutor(),
  });
  await using itinerary = await serveA2AOverMqtt({
    mqtt,
    org,
    unit,
    agentId: 'itinerary',
    card: {
      name: 'Itinerary',
      description: 'Day-by-day plans, streamed',
      capabilities: { streaming: true, pushNotifications: false, extensions: [] },
      skills: [{ id: 'itinerary', name: 'Itinerary' }],
    },
    executor: new ItineraryExecutor(),
  });

  // The planner is an agent too; it reaches its colleagues over its own connection (one client id).
  const plannerExecutor = new PlannerExecutor();
  await using planner = await serveA2AOverMqtt({
    mqtt,
    org,
    unit,
    agentId: 'planner',
    card: {
      name: 'Planner',
      description: 'Plans trips with help from the weather and itinerary agents',
      capabilities: { streaming: true, pushNotifications: false, extensions: [] },
      skills: [{ id: 'plan', name: 'Plan a trip', examples: ['plan Lisbon, 3'] }],
    },
    executor: plannerExecutor,
  });
  write(`agents serving: ${[weather, itinerary, planner].map((agent) => agent.requestTopic).join(', ')}`);
  const shared = { connection: planner.connection };
  await using colleagues = await discoverAgents({ mqtt: shared, org, unit });
  await using plannerTransports = mqttTransportFactory({ mqtt: shared, org, unit, agentId: 'planner' });
  const plannerClients = new ClientFactory({ transports: [plannerTransports] });
  plannerExecutor.colleagues = {
    weather: await plannerClients.createFromAgentCard(
      (await colleagues.waitFor('weather', { online: true })).card,
    ),
    itinerary: await plannerClients.createFromAgentCard(
      (await colleagues.waitFor('itinerary', { online: true })).card,
    ),
  };

  // A user's requester: discovers the planner and talks to it with the official A2A client.
  await using registry = await discoverAgents({ mqtt, org, unit, agentId: 'console' });
  const found = await registry.waitFor('planner', { online: true });
  write(
    `\ndiscovered ${registry.list().length} agents: ${registry
      .list()
      .map((agent) => `${agent.agentId} (${agent.status})`)
      .join(', ')}`,
  );
  await using transports = mqttTransportFactory({ mqtt, org, unit, agentId: 'console' });
  const client = await new ClientFactory({ transports: [transports] }).createFromAgentCard(found.card);

  write('\nuser → planner: "plan" (streaming)');
  let asked: Task | undefined;
  for await (const event of client.sendMessageStream({
    tenant: '',
    message: userMessage('plan'),
    configuration: undefined,
    metadata: undefined,
  })) {
    write(`  ${describe(event)}`);
    if (event.payload?.$case === 'task') asked = event.payload.value;
  }
  if (!asked) throw new Error('the planner did not create a task');

  write('\nuser → planner: "Lisbon, 3" (same task, same context, streaming)');
  let final: StreamResponse | undefined;
  for await (const event of client.sendMessageStream({
    tenant: '',
    message: userMessage('Lisbon, 3', { taskId: asked.id, contextId: asked.contextId }),
    configuration: undefined,
    metadata: undefined,
  })) {
    write(`  ${describe(event)}`);
    final = event;
  }
  const task = await client.getTask({ tenant: '', id: asked.id });
  write(
    `\nGetTask ${task.id.slice(0, 8)}: ${taskStateToJSON(task.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED)}`,
  );
  write(artifactsText(task).replace(/^/gm, '  | '));
  if (task.status?.state !== TaskState.TASK_STATE_COMPLETED || final === undefined) {
    throw new Error('the trip was not planned');
  }
  write('\nexample finished');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `example failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
