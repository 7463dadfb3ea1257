/**
 * Benchmarks 1-3 of issue 8, measured in one run so every ratio has its baseline next to it:
 *   1. MCP tools/call over MQTT (embedded broker, Mosquitto) vs the SDK's Streamable HTTP (JSON and SSE);
 *   2. the raw MQTT.js request/reply ceiling through the same brokers, MCP and A2A as % of it, and what
 *      Nagle's algorithm costs (Mosquitto without `set_tcp_nodelay`);
 *   3. A2A SendMessage over MQTT vs @a2a-js/sdk's JSON-RPC over HTTP.
 * The servers run in a peer process, the brokers in their own processes, the clients here.
 *
 *   node --conditions=@mqtt-agents/source --import tsx bench/src/rpc.ts
 */
import { startMosquittoBroker, startEmbeddedBroker, type BrokerUnderTest } from './lib/brokers.js';
import { DEFAULT_LOAD, runLoad, type LoadResult } from './lib/measure.js';
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

/** Results by pairing name, then concurrency. */
const results = new Map<string, Map<Concurrency, LoadResult>>();

function result(name: string, concurrency: Concurrency): LoadResult | undefined {
  return results.get(name)?.get(concurrency);
}

async function measure(
  name: string,
  open: () => Promise<Pairing>,
  concurrencies: readonly Concurrency[] = CONCURRENCIES,
) {
  const pairing = await open();
  try {
    for (const concurrency of concurrencies) {
      const outcome = await runLoad(pairing.call, { concurrency, ...DEFAULT_LOAD });
      let byConcurrency = results.get(name);
      if (!byConcurrency) results.set(name, (byConcurrency = new Map()));
      byConcurrency.set(concurrency, outcome);
      process.stdout.write(
        `${name.padEnd(54)} c=${String(concurrency).padEnd(3)} ${integer(outcome.rate).padStart(7)} calls/s  p50 ${ms(outcome.p50)}  p99 ${ms(outcome.p99)}${outcome.errors ? `  ${outcome.errors} errors (${outcome.firstError})` : ''}\n`,
      );
    }
  } finally {
    await pairing.close();
  }
}

async function withBroker(
  start: () => Promise<BrokerUnderTest>,
  body: (broker: BrokerUnderTest) => Promise<void>,
) {
  const broker = await start();
  try {
    await body(broker);
  } finally {
    await broker.close();
  }
}

async function runAll(peer: Peer): Promise<void> {
  await measure('MCP, Streamable HTTP (JSON)', () => openMcpHttp(peer, true));
  await measure('MCP, Streamable HTTP (SSE)', () => openMcpHttp(peer, false));
  await measure('A2A, JSON-RPC over HTTP', () => openA2aHttp(peer));
  for (const start of [startEmbeddedBroker, () => startMosquittoBroker()]) {
    await withBroker(start, async (broker) => {
      await measure(`raw MQTT.js, ${broker.label}`, () => openRawRequestReply(peer, broker.url, true));
      await measure(`MCP over MQTT, ${broker.label}`, () => openMcpMqtt(peer, broker.url));
      await measure(`MCP over MQTT, ${broker.label}, proposed core fix`, () =>
        openMcpMqtt(peer, broker.url, true),
      );
      await measure(`A2A over MQTT, ${broker.label}`, () => openA2aMqtt(peer, broker.url));
    });
  }
  await withBroker(
    () => startMosquittoBroker({ noDelay: false }),
    async (broker) => {
      await measure('raw MQTT.js, Nagle on (all ends)', () => openRawRequestReply(peer, broker.url, false));
      await measure('MCP over MQTT, Mosquitto, Nagle on', () => openMcpMqtt(peer, broker.url));
    },
  );
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
    `1 or 64 calls in flight for ${DEFAULT_LOAD.durationMs / 1000} s after ${DEFAULT_LOAD.warmupMs} ms of warm-up. The server runs in its own process, each`,
    'broker in its own process, the client in a third. "vs baseline" is the rate divided by Streamable HTTP (JSON).',
    '',
    table(header('Transport'), rows),
  ].join('\n');
}

function overheadSection(targets: TargetResult[]): string {
  const rows: string[][] = [];
  for (const broker of BROKERS) {
    const raw = `raw MQTT.js, ${broker}`;
    rows.push(
      row(raw),
      row(`MCP over MQTT, ${broker}`, raw),
      row(`MCP over MQTT, ${broker}, proposed core fix`, raw),
      row(`A2A over MQTT, ${broker}`, raw),
    );
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
    'a 1 KiB artifact) through the same broker, as a share of it ("vs baseline" = rate / raw rate). The',
    '"proposed core fix" rows apply the `@mqtt-agents/core` change the profile suggests (see Profile) from outside.',
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
