import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createMcpMqttClientHost } from '@mqtt-agents/mcp';
import { startEmbeddedBroker } from '../lib/brokers.js';
import { runLoad } from '../lib/measure.js';
import { startPeer } from '../lib/peer.js';
import { PAYLOAD_TEXT } from '../lib/fixtures.js';
import { applyProposedCoreFix } from '../lib/proposed-core-fix.js';

const broker = await startEmbeddedBroker();
const peer = await startPeer();
for (const fix of [false, true, false, true, false, true, false, true]) {
  const serverName = `bench/${randomUUID().slice(0, 8)}/echo`;
  const { handle } = await peer.request<{ handle: number }>({ op: 'mcp-mqtt', brokerUrl: broker.url, serverName, proposedFix: fix });
  const clients = await createMcpMqttClientHost({ mqtt: { url: broker.url }, serverNameFilters: ['bench/#'] });
  if (fix) applyProposedCoreFix(clients.connection.client);
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await clients.connect(client, serverName);
  const stream = clients.connection.client.stream as unknown as Record<string, (...args: unknown[]) => unknown>;
  let writes = 0;
  for (const name of ['_write', '_writev']) {
    const original = stream[name]!;
    stream[name] = function (this: unknown, ...args: unknown[]) {
      writes++;
      return original.apply(this, args);
    };
  }
  const cpuBefore = process.cpuUsage();
  const peerBefore = await peer.request<NodeJS.CpuUsage>({ op: 'cpu' });
  const r = await runLoad(() => client.callTool({ name: 'echo', arguments: { text: PAYLOAD_TEXT } }), { concurrency: 64, warmupMs: 500, durationMs: 3000 });
  const cpu = process.cpuUsage(cpuBefore);
  const peerAfter = await peer.request<NodeJS.CpuUsage>({ op: 'cpu' });
  const n = r.calls + r.rate * 0.5;
  console.log('   client user/sys µs per call', (cpu.user / n).toFixed(0), (cpu.system / n).toFixed(0), 'server', ((peerAfter.user - peerBefore.user) / n).toFixed(0), ((peerAfter.system - peerBefore.system) / n).toFixed(0));
  console.log(fix ? 'fix ' : 'as-is', Math.round(r.rate), 'calls/s', 'writes per call', (writes / (r.calls + r.rate * 0.5)).toFixed(2), 'p50', r.p50.toFixed(1));
  await client.close();
  await clients.close();
  await peer.request({ op: 'stop', handle });
}
await peer.close();
await broker.close();
