/**
 * The workload bench/src/profile.ts and before-after.ts profile: MCP tools/call or A2A SendMessage over MQTT
 * at concurrency 64 through the embedded broker (in its own process), or over the official SDKs' HTTP
 * transports for comparison, the serving side in the peer process.
 * CPU profiles of this process (the client) and of the peer process (the server) cover the measured window
 * only; they are written to `<directory>/client-<label>.cpuprofile` and `server-<label>.cpuprofile`.
 *
 *   profile-load.ts <directory> <label> <mcp | a2a | mcp-http | a2a-http>
 */
import { join } from 'node:path';
import { startEmbeddedBroker } from './lib/brokers.js';
import { startCpuProfile } from './lib/cpu-profile.js';
import { runLoad } from './lib/measure.js';
import { startPeer } from './lib/peer.js';
import { integer, ms } from './lib/report.js';
import type { Peer } from './lib/peer.js';
import { openA2aHttp, openA2aMqtt, openMcpHttp, openMcpMqtt, type Pairing } from './lib/rpc-clients.js';

const WORKLOADS: Record<string, (peer: Peer, brokerUrl: string) => Promise<Pairing>> = {
  mcp: (peer, brokerUrl) => openMcpMqtt(peer, brokerUrl),
  a2a: (peer, brokerUrl) => openA2aMqtt(peer, brokerUrl),
  'mcp-http': (peer) => openMcpHttp(peer, true),
  'a2a-http': (peer) => openA2aHttp(peer),
};

const [directory, label, workload] = process.argv.slice(2) as [string, string, string];
const open = WORKLOADS[workload];
if (!directory || !label || !open) {
  throw new Error(`usage: profile-load.ts <directory> <label> <${Object.keys(WORKLOADS).join(' | ')}>`);
}
const broker = await startEmbeddedBroker();
const peer = await startPeer();
try {
  const pairing = await open(peer, broker.url);
  // Warm up unprofiled, then profile both sides while the load runs.
  await runLoad(pairing.call, { concurrency: 64, warmupMs: 0, durationMs: 1_000 });
  await peer.request({ op: 'profile-start', file: join(directory, `server-${label}.cpuprofile`) });
  const stop = await startCpuProfile(join(directory, `client-${label}.cpuprofile`));
  const result = await runLoad(pairing.call, {
    concurrency: 64,
    warmupMs: 0,
    durationMs: Number(process.env.BENCH_PROFILE_MS ?? 5_000),
  });
  await stop();
  await peer.request({ op: 'profile-stop' });
  process.stdout.write(
    `profiled ${workload} load (${label}): ${integer(result.rate)} calls/s, p50 ${ms(result.p50)}, p99 ${ms(result.p99)}\n`,
  );
  process.send?.(result);
  await pairing.close();
} finally {
  await peer.close();
  await broker.close();
}
