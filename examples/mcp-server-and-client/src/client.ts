// An MCP client (a "planner") that discovers the press over MQTT and uses it through the official SDK Client.
// Run it on its own against a broker where the press server runs:
//   MQTT_URL=mqtt://localhost:1883 npm run client
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { createMcpMqttClientHost } from '@mqtt-agents/mcp';
import { PRESS_SERVER_NAME, TELEMETRY_URI } from './server.js';

/** Discover the press, connect, look around, stop it, and watch the telemetry change. */
export async function runPlanner(options: {
  url: string;
  log: (line: string) => void;
  signal?: AbortSignal;
}): Promise<void> {
  const { log } = options;
  await using clients = await createMcpMqttClientHost({
    mqtt: { url: options.url },
    serverNameFilters: ['factory/#'],
  });

  // Discovery: the retained presence of every instance arrives right after the subscription.
  const instances = await clients.waitForServer(PRESS_SERVER_NAME, { timeoutMs: 10_000 });
  for (const instance of instances) {
    log(`discovered ${instance.serverName} instance ${instance.serverId}: ${instance.description}`);
  }

  const client = new Client({ name: 'planner', version: '1.0.0' });
  const updated = new Promise<string>((resolve) => {
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) =>
      resolve(notification.params.uri),
    );
  });
  // Picks an instance (round-robin among the online ones) and runs initialize over the control topic.
  const transport = await clients.connect(client, PRESS_SERVER_NAME, { select: 'round-robin' });
  log(`connected to instance ${transport.serverId} as ${transport.mcpClientId}`);
  log(`instructions: ${client.getInstructions() ?? '(none)'}`);

  const tools = await client.listTools();
  log(`tools: ${tools.tools.map((tool) => tool.name).join(', ')}`);
  const status = await client.callTool({ name: 'status', arguments: {} });
  log(`status: ${JSON.stringify(status.structuredContent)}`);

  await client.subscribeResource({ uri: TELEMETRY_URI });
  const stopped = await client.callTool({ name: 'stop', arguments: { reason: 'jam at the feeder' } });
  log(`stop: ${(stopped.content as Array<{ text: string }>)[0]?.text}`);
  log(`resource updated: ${await updated}`);
  const telemetry = await client.readResource({ uri: TELEMETRY_URI });
  log(`telemetry: ${(telemetry.contents[0] as { text: string }).text}`);

  const prompt = await client.getPrompt({ name: 'diagnose', arguments: { symptom: 'oil pressure drops' } });
  log(`prompt: ${(prompt.messages[0]?.content as { text: string }).text}`);

  // De-initialize: notifications/disconnected on the RPC topic; the MQTT connection stays until the host closes.
  await client.close();
  log('session closed');
}

// Run on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.MQTT_URL ?? 'mqtt://localhost:1883';
  await runPlanner({ url, log: (line) => void process.stdout.write(`${line}\n`) });
}
