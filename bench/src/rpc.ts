/**
 * Benchmarks 1-3 of issue 8, measured in one run so every ratio has its baseline next to it:
 *   1. MCP tools/call over MQTT (embedded broker, Mosquitto) vs the SDK's Streamable HTTP (JSON and SSE);
 *   2. the raw MQTT.js request/reply ceiling through the same brokers, MCP and A2A as % of it, and what
 *      Nagle's algorithm costs (Mosquitto without `set_tcp_nodelay`);
 *   3. A2A SendMessage over MQTT vs @a2a-js/sdk's JSON-RPC over HTTP.
 * The servers run in a peer process, the brokers in their own processes, the clients here.
 *
 *   node --import tsx bench/src/rpc.ts
 */
import { startEmbeddedBroker, startMosquittoBroker, type BrokerUnderTest } from './lib/brokers.js';
import { median, runLoad, type LoadResult } from './lib/measure.js';
import { startPeer, type Peer } from './lib/peer.js';
import {
  integer,
  machineLines,
  ms,
  percent,
  ratio,
  recordTargets,
  table,
  writeSection,
  type TargetResult,
} from './lib/report.js';
import {
  openA2aHttp,
  openA2aMqtt,
  openMcpHttp,
  openMcpMqtt,
  openRawRequestReply,
  type Pairing,
} from './lib/rpc-clients.js';

const CONCURRENCIES = [1, 64] as const;
type Concurrency = (typeof CONCURRENCIES)[number];

/**
 * Every pairing is measured once per round, the rounds interleaved, and each number reported is the median
 * over the rounds: on a shared machine the load drifts, and interleaving keeps a drift from landing on one
 * side of a ratio only.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LOAD = {
  warmupMs: Number(process.env.BENCH_WARMUP_MS ?? 500),
  durationMs: Number(process.env.BENCH_DURATION_MS ?? 2_000),
};

/** Results by pairing name, then concurrency, one per round. */
const samples = new Map<string, Map<Concurrency, LoadResult[]>>();

function result(name: string, concurrency: Concurrency): LoadResult | undefined {
  const rounds = samples.get(name)?.get(concurrency);
  if (!rounds || rounds.length === 0) return undefined;
  return {
    rate: median(rounds.map((round) => round.rate)),
    p50: median(rounds.map((round) => round.p50)),
    p99: median(rounds.map((round) => round.p99)),
    calls: rounds.reduce((sum, round) => sum + round.calls, 0),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
    firstError: rounds.find((round) => round.firstError)?.firstError,
  };
}

async function measure(name: string, pairing: Pairing, round: number): Promise<void> {
  for (const concurrency of CONCURRENCIES) {
    const outcome = await runLoad(pairing.call, { concurrency, ...LOAD });
    let byConcurrency = samples.get(name);
    if (!byConcurrency) samples.set(name, (byConcurrency = new Map()));
    byConcurrency.set(concurrency, [...(byConcurrency.get(concurrency) ?? []), outcome]);
    process.stdout.write(
      `${round} ${name.padEnd(54)} c=${String(concurrency).padEnd(3)} ${integer(outcome.rate).padStart(7)} calls/s  p50 ${ms(outcome.p50)}  p99 ${ms(outcome.p99)}${outcome.errors ? `  ${outcome.errors} errors (${outcome.firstError})` : ''}\n`,
    );
  }
}

async function runAll(peer: Peer): Promise<void> {
  const brokers: BrokerUnderTest[] = [];
  const pairings: Array<{ name: string; pairing: Pairing }> = [];
  const open = async (name: string, opening: () => Promise<Pairing>): Promise<void> => {
    pairings.push({ name, pairing: await opening() });
  };
  try {
    const embedded = await startEmbeddedBroker();
    brokers.push(embedded);
    const mosquitto = await startMosquittoBroker();
    brokers.push(mosquitto);
    const nagle = await startMosquittoBroker({ noDelay: false });
    brokers.push(nagle);
    await open('MCP, Streamable HTTP (JSON)', () => openMcpHttp(peer, true));
    await open('MCP, Streamable HTTP (SSE)', () => openMcpHttp(peer, false));
    await open('A2A, JSON-RPC over HTTP', () => openA2aHttp(peer));
    for (const broker of [embedded, mosquitto]) {
      await open(`raw MQTT.js, ${broker.label}`, () => openRawRequestReply(peer, broker.url, true));
      await open(`MCP over MQTT, ${broker.label}`, () => openMcpMqtt(peer, broker.url));
      await open(`A2A over MQTT, ${broker.label}`, () => openA2aMqtt(peer, broker.url));
    }
    await open('raw MQTT.js, Nagle on (all ends)', () => openRawRequestReply(peer, nagle.url, false));
    await open('MCP over MQTT, Mosquitto, Nagle on', () => openMcpMqtt(peer, nagle.url));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const { name, pairing } of pairings) await measure(name, pairing, round);
    }
  } finally {
    for (const { pairing } of pairings) await pairing.close().catch(() => undefined);
    for (const broker of brokers) await broker.close();
  }
}

// --- Report ----------------------------------------------------------------------------------------------------

const BROKERS = ['embedded broker', 'Mosquitto'] as const;

function row(name: string, baseline?: string): string[] {
  const cells = [name];
  for (const concurrency of CONCURRENCIES) {
    const own = result(name, concurrency);
    const base = baseline ? result(baseline, concurrency) : undefined;
    cells.push(
      own ? integer(own.rate) : 'n/a',
      own ? `${ms(own.p50)} / ${ms(own.p99)}` : 'n/a',
      base && own ? ratio(own.rate, base.rate) : '1.00x',
    );
  }
  return cells;
}

function header(what: string): string[] {
  return [
    what,
    'c=1 calls/s',
    'c=1 p50 / p99',
    'c=1 vs baseline',
    'c=64 calls/s',
    'c=64 p50 / p99',
    'c=64 vs baseline',
  ];
}

function bestHttp(concurrency: Concurrency): { name: string; result: LoadResult } | undefined {
  const candidates = ['MCP, Streamable HTTP (JSON)', 'MCP, Streamable HTTP (SSE)']
    .map((name) => ({ name, result: result(name, concurrency) }))
    .filter((entry): entry is { name: string; result: LoadResult } => entry.result !== undefined);
  return candidates.sort((a, b) => b.result.rate - a.result.rate)[0];
}

function mcpSection(targets: TargetResult[]): string {
  const rows = [
    row('MCP, Streamable HTTP (JSON)'),
    row('MCP, Streamable HTTP (SSE)', 'MCP, Streamable HTTP (JSON)'),
    ...BROKERS.map((broker) => row(`MCP over MQTT, ${broker}`, 'MCP, Streamable HTTP (JSON)')),
  ];
  for (const broker of BROKERS) {
    const name = `MCP over MQTT, ${broker}`;
    const http64 = bestHttp(64);
    const http1 = bestHttp(1);
    const mqtt64 = result(name, 64);
    const mqtt1 = result(name, 1);
    if (http64 && mqtt64) {
      targets.push({
        benchmark: `1. MCP tools/call, ${broker}`,
        target: 'c=64 throughput >= 5x the best HTTP mode',
        measured: `${ratio(mqtt64.rate, http64.result.rate)} (${integer(mqtt64.rate)} vs ${integer(http64.result.rate)} calls/s)`,
        met: mqtt64.rate >= 5 * http64.result.rate,
      });
    }
    if (http1 && mqtt1) {
      targets.push({
        benchmark: `1. MCP tools/call, ${broker}`,
        target: 'c=1 throughput >= 2.5x and p50 < half of the best HTTP mode',
        measured: `${ratio(mqtt1.rate, http1.result.rate)}, p50 ${ms(mqtt1.p50)} vs ${ms(http1.result.p50)}`,
        met: mqtt1.rate >= 2.5 * http1.result.rate && mqtt1.p50 < http1.result.p50 / 2,
      });
    }
  }
  return [
    'The same `McpServer` (one `echo` tool; 1 KiB of text in, the same 1 KiB back as the result) served over the',
    "official SDK's Streamable HTTP transport (stateful, JSON responses or an SSE stream per request) and over",
    '`@mqtt-agents/mcp` (server host, client host, QoS 1). One SDK `Client` calls `tools/call` back to back with',
    `1 or 64 calls in flight for ${LOAD.durationMs / 1000} s after ${LOAD.warmupMs} ms of warm-up, in ${ROUNDS} interleaved rounds over every pairing of`,
    'this section and the next two; each number is the median of the rounds. The server runs in its own process,',
    'each broker in its own process, the client in a third. "vs baseline" is the rate / Streamable HTTP (JSON).',
    '',
    table(header('Transport'), rows),
  ].join('\n');
}

function overheadSection(targets: TargetResult[]): string {
  const rows: string[][] = [];
  for (const broker of BROKERS) {
    const raw = `raw MQTT.js, ${broker}`;
    rows.push(row(raw), row(`MCP over MQTT, ${broker}`, raw), row(`A2A over MQTT, ${broker}`, raw));
    for (const concurrency of CONCURRENCIES) {
      const ceiling = result(raw, concurrency);
      const mcp = result(`MCP over MQTT, ${broker}`, concurrency);
      const a2a = result(`A2A over MQTT, ${broker}`, concurrency);
      if (ceiling && mcp) {
        targets.push({
          benchmark: `2. Overhead, ${broker}, c=${concurrency}`,
          target: 'MCP >= 70% of the raw MQTT.js rate',
          measured: percent(mcp.rate, ceiling.rate),
          met: mcp.rate >= 0.7 * ceiling.rate,
        });
      }
      if (ceiling && a2a) {
        targets.push({
          benchmark: `2. Overhead, ${broker}, c=${concurrency}`,
          target: 'A2A SendMessage >= 50% of the raw MQTT.js rate',
          measured: percent(a2a.rate, ceiling.rate),
          met: a2a.rate >= 0.5 * ceiling.rate,
        });
      }
    }
  }
  const nagle = [
    row('raw MQTT.js, Mosquitto'),
    row('raw MQTT.js, Nagle on (all ends)', 'raw MQTT.js, Mosquitto'),
    row('MCP over MQTT, Mosquitto'),
    row('MCP over MQTT, Mosquitto, Nagle on', 'MCP over MQTT, Mosquitto'),
  ];
  return [
    'The ceiling for any RPC over MQTT: MQTT.js alone, publishing the same 1 KiB payload at QoS 1 with Response',
    'Topic and Correlation Data, a responder in the peer process echoing it at QoS 1, replies matched by',
    'correlation, TCP_NODELAY on both ends. MCP `tools/call` and A2A `SendMessage` (a task that completes with',
    'a 1 KiB artifact) through the same broker, as a share of it ("vs baseline" = rate / raw rate). How the',
    'profile\'s fixes moved these numbers: "Before and after the profile fixes" (`pnpm bench:before-after`).',
    '',
    table(header('Through the same broker'), rows),
    '',
    'What Nagle\'s algorithm costs: Mosquitto with `set_tcp_nodelay false` (its default). "Nagle on (all ends)" also',
    'leaves MQTT.js sockets as Node.js opens them; `@mqtt-agents/core` always sets TCP_NODELAY on its own',
    "sockets, so for MCP only the broker's side waits. Tell Mosquitto users to set `set_tcp_nodelay true`.",
    '',
    table(header('Mosquitto'), nagle),
  ].join('\n');
}

function a2aSection(targets: TargetResult[]): string {
  const http = 'A2A, JSON-RPC over HTTP';
  for (const broker of BROKERS) {
    const own = result(`A2A over MQTT, ${broker}`, 64);
    const base = result(http, 64);
    if (own && base) {
      targets.push({
        benchmark: `3. A2A SendMessage, ${broker}`,
        target: 'c=64 throughput >= 3x JSON-RPC over HTTP',
        measured: `${ratio(own.rate, base.rate)} (${integer(own.rate)} vs ${integer(base.rate)} calls/s)`,
        met: own.rate >= 3 * base.rate,
      });
    }
  }
  return [
    "`SendMessage` with the same `AgentExecutor` (task submitted, a 1 KiB artifact, completed) and the SDK's",
    "`InMemoryTaskStore`, served by `@a2a-js/sdk`'s `DefaultRequestHandler` behind its express `jsonRpcHandler`,",
    "and by `serveA2AOverMqtt`; called through the SDK's `ClientFactory` (its JSON-RPC transport, and",
    '`mqttTransportFactory`). One client, 1 or 64 requests in flight. "vs baseline" = rate / HTTP rate.',
    '',
    table(header('Transport'), [
      row(http),
      ...BROKERS.map((broker) => row(`A2A over MQTT, ${broker}`, http)),
    ]),
  ].join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  const peer = await startPeer();
  try {
    await runAll(peer);
  } finally {
    await peer.close();
  }
  const targets: TargetResult[] = [];
  const machine = machineLines().join('\n');
  await writeSection('MCP tools/call: MQTT vs Streamable HTTP', `${machine}\n\n${mcpSection(targets)}`);
  await writeSection('Transport overhead vs the raw MQTT limit', overheadSection(targets));
  await writeSection('A2A SendMessage: MQTT vs JSON-RPC over HTTP', a2aSection(targets));
  recordTargets('rpc', targets);
  process.stdout.write(`rpc benchmarks done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

await main();
