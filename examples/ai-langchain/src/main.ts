// Everything in one process on the embedded broker (no network, no API keys): the store's MCP server and
// LangChain.js using its tools over MQTT. Exits 0 when the tool answered.
// Run: npx -y pnpm@10.34.8 --filter @mqtt-agents/example-ai-langchain start
import { startBroker } from '@mqtt-agents/broker';
import { serveStore } from '@mqtt-agents/example-ai-sdk/tools-server';
import { askWithMqttTools } from './mcp-tools.js';
import { scriptedStockModel } from './scripted-model.js';

const log = (line: string): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  await using broker = await startBroker({ port: 0 });
  log(`embedded MQTT 5 broker on ${broker.url}`);
  const store = await serveStore({ url: broker.url });
  await using _store = store.host;
  log(`serving MCP server ${store.host.serverName} as ${store.host.serverId}`);
  const answer = await askWithMqttTools({
    url: broker.url,
    model: scriptedStockModel('P-102'),
    question: 'How many P-102 are left?',
  });
  log(`loadMcpTools over MQTT: ${answer.tools.join(', ')}`);
  log(`the model called ${answer.toolCalls.join(', ')}; ToolNode got: ${answer.results.join(' | ')}`);
  log(`the store ran stock for: ${store.calls.join(', ')}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`example failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
