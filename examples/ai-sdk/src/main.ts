// Everything in one process on the embedded broker (no network, no API keys): the store's MCP server, the
// Vercel AI SDK using its tools over MQTT, and an A2A agent built on the AI SDK. Exits 0 when both answered.
// Run: npx -y pnpm@10.34.8 --filter @mqtt-agents/example-ai-sdk start
import { startBroker } from '@mqtt-agents/broker';
import { askStorekeeper, serveStorekeeper } from './a2a-agent.js';
import { askWithMqttTools } from './mcp-tools.js';
import { scriptedStockModel } from './scripted-model.js';
import { serveStore } from './tools-server.js';

const log = (line: string): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  await using broker = await startBroker({ port: 0 });
  log(`embedded MQTT 5 broker on ${broker.url}`);
  const store = await serveStore({ url: broker.url });
  await using _store = store.host;
  log(`serving MCP server ${store.host.serverName} as ${store.host.serverId}`);

  // 1. generateText with the store's tools, through the AI SDK's MCP client over MQTT.
  const direct = await askWithMqttTools({
    url: broker.url,
    model: scriptedStockModel(),
    prompt: 'How many P-102 are left?',
  });
  log(`generateText called ${direct.toolCalls.join(', ')} over MQTT and said: ${direct.text}`);

  // 2. The same agent behind A2A: a requester asks it over MQTT.
  await using storekeeper = await serveStorekeeper({ url: broker.url, model: scriptedStockModel() });
  log(`A2A agent online on ${storekeeper.agent.requestTopic}`);
  const answer = await askStorekeeper({ url: broker.url, question: 'How many P-205 are left?' });
  log(`the storekeeper answered over A2A: ${answer}`);
  log(`the store ran stock for: ${store.calls.join(', ')}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`example failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
