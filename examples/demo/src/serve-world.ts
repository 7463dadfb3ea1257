// The demo's agent world on a broker of your own, for the mqtt-agents CLI to explore:
//   mqtt-agents broker                                   # terminal 1 (or any MQTT 5 broker)
//   MQTT_URL=mqtt://localhost:1883 npm run world         # terminal 2
//   mqtt-agents ls; mqtt-agents a2a send com.acme/plant-1/planner "inspect P-101"   # terminal 3
import { startAgents, startMcpServers } from './world/start-world.js';

const url = process.argv[2] ?? process.env.MQTT_URL ?? 'mqtt://localhost:1883';

async function main(): Promise<void> {
  // Nobody stands at the presses: die changes are confirmed at once.
  await using _servers = await startMcpServers({ url }, { confirmAtOnce: true });
  await using _agents = await startAgents({ url });
  process.stdout.write(`demo world on ${url}: 2 MCP servers (3 instances), 3 A2A agents. Ctrl-C to stop.\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`demo world failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
