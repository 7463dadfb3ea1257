/**
 * The workload bench/src/profile.ts profiles: MCP tools/call over MQTT at concurrency 64 through the embedded
 * broker (in its own process), the server host in the peer process. CPU profiles of this process (the
 * client) and of the peer process (the server) cover the measured window only.
 *
 *   profile-load.ts <directory> <as-is | proposed-fix>
 */
import { join } from 'node:path';
import { startEmbeddedBroker } from './lib/brokers.js';
import { startCpuProfile } from './lib/cpu-profile.js';
import { runLoad } from './lib/measure.js';
import { startPeer } from './lib/peer.js';
import { integer, ms } from './lib/report.js';
import { openMcpMqtt } from './lib/rpc-clients.js';

const [directory, variant] = process.argv.slice(2) as [string, 'as-is' | 'proposed-fix'];
const broker = await startEmbeddedBroker();
const peer = await startPeer();
try {
  const pairing = await openMcpMqtt(peer, broker.url, variant === 'proposed-fix');
  // Warm up unprofiled, then profile both sides while the load runs.
  await runLoad(pairing.call, { concurrency: 64, warmupMs: 0, durationMs: 1_000 });
  await peer.request({ op: 'profile-start', file: join(directory, `server-${variant}.cpuprofile`) });
  const stop = await startCpuProfile(join(directory, `client-${variant}.cpuprofile`));
  const result = await runLoad(pairing.call, {
    concurrency: 64,
    warmupMs: 0,
    durationMs: Number(process.env.BENCH_PROFILE_MS ?? 5_000),
  });
  await stop();
  await peer.request({ op: 'profile-stop' });
  process.stdout.write(
    `profiled load (${variant}): ${integer(result.rate)} calls/s, p50 ${ms(result.p50)}, p99 ${ms(result.p99)}\n`,
  );
  process.send?.(result);
  await pairing.close();
} finally {
  await peer.close();
  await broker.close();
}
