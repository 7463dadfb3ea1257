import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { AgentCard } from '@a2a-js/sdk';
import { buildAgentCard } from '@mqtt-agents/a2a';
import { startEmbeddedBroker } from './lib/brokers.js';
const b = await startEmbeddedBroker();
const c = mqtt.connect(b.url, { protocolVersion: 5 });
await new Promise((r) => c.once('connect', r));
for (let i = 0; i < 10000; i++) {
  const card = buildAgentCard({ name: `Agent ${i}`, skills: [{ id: 'plan', name: 'Plan' }] }, { brokerUrl: 'mqtt://x:1883', org: 'o', unit: 'u' });
  c.publish(`$a2a/v1/discovery/o/u/a${i}`, JSON.stringify(AgentCard.toJSON(card)), { qos: 1, retain: true, properties: { userProperties: { 'a2a-status': 'online' } } });
}
await c.publishAsync('x', 'y', { qos: 1 });
for (const mode of ['a2a', 'raw']) {
  const child = fork(fileURLToPath(new URL('./discovery-subscriber.ts', import.meta.url)), [`--mode=${mode}`, `--url=${b.url}`, '--cards=10000', '--presences=0'], { execArgv: ['--conditions=@mqtt-agents/source', '--import', import.meta.resolve('tsx'), '--expose-gc'] });
  child.on('message', (m) => console.log(mode, JSON.stringify(m)));
  await new Promise((r) => child.once('exit', r));
}
await c.endAsync();
await b.close();
