/**
 * One round of the overhead measurement (benchmark 2) for before-after.ts: raw MQTT.js request/reply, MCP
 * tools/call and A2A SendMessage through the embedded broker and Mosquitto, at concurrency 1 and 64, with
 * whatever packages this checkout has. Writes the results as JSON to the file named by `BENCH_OUTPUT`.
 *
 *   BENCH_OUTPUT=out.json node --import tsx bench/src/overhead-load.ts
 */
import { writeFile } from 'node:fs/promises';
import { startEmbeddedBroker, startMosquittoBroker, type BrokerUnderTest } from './lib/brokers.js';
import { runLoad, type LoadResult } from './lib/measure.js';
import { startPeer } from './lib/peer.js';
import { integer, ms } from './lib/report.js';
import { openA2aMqtt, openMcpMqtt, openRawRequestReply, type Pairing } from './lib/rpc-clients.js';

/** One measurement: pairing name (`MCP, embedded broker`), concurrency, result. */
export interface OverheadSample {
  name: string;
  concurrency: number;
  result: LoadResult;
}

const output = process.env.BENCH_OUTPUT;
if (!output) throw new Error('set BENCH_OUTPUT to the file the results go to');
const LOAD = {
  warmupMs: Number(process.env.BENCH_WARMUP_MS ?? 500),
  durationMs: Number(process.env.BENCH_DURATION_MS ?? 2_000),
};

const samples: OverheadSample[] = [];
const peer = await startPeer();
const brokers: BrokerUnderTest[] = [];
try {
  brokers.push(await startEmbeddedBroker(), await startMosquittoBroker());
  for (const broker of brokers) {
    const openings: Array<[string, () => Promise<Pairing>]> = [
      ['raw MQTT.js', () => openRawRequestReply(peer, broker.url, true)],
      ['MCP', () => openMcpMqtt(peer, broker.url)],
      ['A2A', () => openA2aMqtt(peer, broker.url)],
    ];
    for (const [what, open] of openings) {
      const pairing = await open();
      try {
        for (const concurrency of [1, 64]) {
          const result = await runLoad(pairing.call, { concurrency, ...LOAD });
          const name = `${what}, ${broker.label}`;
          samples.push({ name, concurrency, result });
          process.stdout.write(
            `  ${name.padEnd(32)} c=${String(concurrency).padEnd(3)} ${integer(result.rate).padStart(7)} calls/s  p50 ${ms(result.p50)}\n`,
          );
        }
      } finally {
        await pairing.close();
      }
    }
  }
} finally {
  for (const broker of brokers) await broker.close();
  await peer.close();
}
await writeFile(output, JSON.stringify(samples));
