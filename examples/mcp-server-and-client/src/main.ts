// Everything in one process on the embedded broker (no network, no keys): two instances of the press
// server, one planner client. Exits 0 when the conversation finished.
import { startBroker } from '@mqtt-agents/broker';
import { runPlanner } from './client.js';
import { servePress } from './server.js';

const log = (line: string): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  await using broker = await startBroker({ port: 0 });
  log(`embedded MQTT 5 broker on ${broker.url}`);
  await using first = await servePress({ url: broker.url, serverId: 'press-a' });
  await using second = await servePress({ url: broker.url, serverId: 'press-b' });
  log(`serving ${first.serverName} as ${first.serverId} and ${second.serverId}`);
  await runPlanner({ url: broker.url, log });
  log('done');
}

main().catch((error: unknown) => {
  process.stderr.write(`example failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
