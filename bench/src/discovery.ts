/**
 * Benchmark 4 of issue 8, discovery at scale: 10,000 retained Agent Cards and 1,000 retained MCP server
 * presences on a broker (the embedded one in its own process, and Mosquitto); the time a fresh subscriber
 * needs to hold the full registry, and the heap it takes per entry. Baseline: MQTT.js alone receiving the
 * same retained messages and keeping the last payload per topic.
 *
 *   node --import tsx bench/src/discovery.ts
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AgentCard } from '@a2a-js/sdk';
import { buildAgentCard } from '@mqtt-agents/a2a';
import { serverOnlineNotification } from '@mqtt-agents/mcp';
import mqtt, { type MqttClient } from 'mqtt';
import { startEmbeddedBroker, startMosquittoBroker, type BrokerUnderTest } from './lib/brokers.js';
import { median } from './lib/measure.js';
import {
  integer,
  kib,
  machineLines,
  ms,
  ratio,
  recordTargets,
  table,
  writeSection,
  type TargetResult,
} from './lib/report.js';
import { nodeArgs } from './lib/node-args.js';

const CARDS = Number(process.env.BENCH_DISCOVERY_CARDS ?? 10_000);
const PRESENCES = Number(process.env.BENCH_DISCOVERY_PRESENCES ?? 1_000);
const ORGS = 10;
const UNITS = 10;
const RUNS = 3;

function cardPayload(index: number): { topic: string; payload: string } {
  const org = `org-${index % ORGS}`;
  const unit = `unit-${Math.floor(index / ORGS) % UNITS}`;
  const agentId = `agent-${index}`;
  const card = buildAgentCard(
    {
      name: `Agent ${index}`,
      description: `Plans and schedules the work of line ${index}`,
      version: '1.4.2',
      capabilities: { streaming: true, pushNotifications: false, extensions: [] },
      skills: [
        { id: 'plan', name: 'Plan', description: 'Plan a job', tags: ['planning'] },
        { id: 'schedule', name: 'Schedule', description: 'Schedule a job on a line', tags: ['scheduling'] },
      ],
    },
    { brokerUrl: 'mqtt://broker.example:1883', org, unit },
  );
  return {
    topic: `$a2a/v1/discovery/${org}/${unit}/${agentId}`,
    payload: JSON.stringify(AgentCard.toJSON(card)),
  };
}

function presencePayload(index: number): { topic: string; payload: string; serverId: string } {
  const serverId = `server-${index}`;
  const serverName = `fleet/line-${index % 50}/press-${index}`;
  return {
    topic: `$mcp-server/presence/${serverId}/${serverName}`,
    payload: JSON.stringify(
      serverOnlineNotification({
        serverName,
        description: `Press ${index} controls`,
        meta: { site: 'plant 1' },
      }),
    ),
    serverId,
  };
}

async function connect(url: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  (client.stream as { setNoDelay?: (value: boolean) => void }).setNoDelay?.(true);
  return client;
}

/** Publish every retained message, QoS 1, at most 500 unacknowledged. Returns the average card size. */
async function populate(url: string): Promise<{ cardBytes: number; presenceBytes: number; ms: number }> {
  const client = await connect(url);
  const start = performance.now();
  let cardBytes = 0;
  let presenceBytes = 0;
  const jobs: Array<() => Promise<unknown>> = [];
  for (let index = 0; index < CARDS; index++) {
    const { topic, payload } = cardPayload(index);
    cardBytes += payload.length;
    jobs.push(() =>
      client.publishAsync(topic, payload, {
        qos: 1,
        retain: true,
        properties: {
          contentType: 'application/json',
          userProperties: { 'a2a-status': 'online', 'a2a-status-source': 'agent' },
        },
      }),
    );
  }
  for (let index = 0; index < PRESENCES; index++) {
    const { topic, payload, serverId } = presencePayload(index);
    presenceBytes += payload.length;
    jobs.push(() =>
      client.publishAsync(topic, payload, {
        qos: 1,
        retain: true,
        properties: {
          userProperties: { 'MCP-COMPONENT-TYPE': 'mcp-server', 'MCP-MQTT-CLIENT-ID': serverId },
        },
      }),
    );
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 500 }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
  const elapsed = performance.now() - start;
  await client.endAsync();
  return { cardBytes: cardBytes / CARDS, presenceBytes: presenceBytes / PRESENCES, ms: elapsed };
}

interface SubscriberResult {
  runs: number[];
  heapPerEntry: number;
  entries: number;
}

function subscriber(mode: string, url: string): Promise<SubscriberResult> {
  const script = fileURLToPath(new URL('./discovery-subscriber.ts', import.meta.url));
  const child = fork(
    script,
    [`--mode=${mode}`, `--url=${url}`, `--cards=${CARDS}`, `--presences=${PRESENCES}`, `--runs=${RUNS}`],
    {
      execArgv: nodeArgs('--expose-gc'),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  return new Promise((resolve, reject) => {
    let result: SubscriberResult | undefined;
    child.on('message', (message: SubscriberResult) => (result = message));
    child.once('exit', (code) =>
      result ? resolve(result) : reject(new Error(`discovery subscriber '${mode}' exited with code ${code}`)),
    );
  });
}

interface BrokerResults {
  label: string;
  populateMs: number;
  modes: Map<string, SubscriberResult>;
}

async function measure(
  broker: BrokerUnderTest,
  sizes: { card: number; presence: number },
): Promise<BrokerResults> {
  process.stdout.write(
    `${broker.label}: publishing ${integer(CARDS)} cards and ${integer(PRESENCES)} presences\n`,
  );
  const populated = await populate(broker.url);
  sizes.card = populated.cardBytes;
  sizes.presence = populated.presenceBytes;
  const modes = new Map<string, SubscriberResult>();
  for (const mode of ['raw', 'a2a', 'mcp', 'both']) {
    const result = await subscriber(mode, broker.url);
    modes.set(mode, result);
    process.stdout.write(
      `  ${mode.padEnd(5)} ${result.entries} entries, runs ${result.runs.map(ms).join(', ')}, heap/entry ${kib(result.heapPerEntry)}\n`,
    );
  }
  return { label: broker.label, populateMs: populated.ms, modes };
}

async function main(): Promise<void> {
  const started = performance.now();
  const sizes = { card: 0, presence: 0 };
  const all: BrokerResults[] = [];
  for (const start of [startEmbeddedBroker, () => startMosquittoBroker()]) {
    const broker = await start();
    try {
      all.push(await measure(broker, sizes));
    } finally {
      await broker.close();
    }
  }

  const targets: TargetResult[] = [];
  const rows: string[][] = [];
  const labels: Record<string, string> = {
    raw: `MQTT.js alone, ${integer(CARDS + PRESENCES)} retained messages (baseline)`,
    a2a: `discoverAgents(), ${integer(CARDS)} cards`,
    mcp: `MCP client host, ${integer(PRESENCES)} presences`,
    both: 'both registries at once',
  };
  for (const broker of all) {
    const raw = broker.modes.get('raw')!;
    for (const [mode, result] of broker.modes) {
      const typical = median(result.runs);
      rows.push([
        broker.label,
        labels[mode] ?? mode,
        ms(result.runs[0]!),
        ms(typical),
        mode === 'raw' ? '1.00x' : ratio(typical, median(raw.runs)),
        kib(result.heapPerEntry),
      ]);
    }
    const full = broker.modes.get('both');
    if (full && broker.label === 'embedded broker') {
      targets.push({
        benchmark: '4. Discovery, embedded broker',
        target: `fresh subscriber holds ${integer(CARDS)} cards + ${integer(PRESENCES)} presences in < 2 s`,
        measured: `${ms(full.runs[0]!)} cold, ${ms(median(full.runs))} median`,
        met: median(full.runs) < 2_000,
      });
    }
  }
  const body = [
    machineLines().join('\n'),
    '',
    `${integer(CARDS)} retained Agent Cards (${integer(sizes.card)} bytes of JSON each, two skills, across ${ORGS} orgs x ${UNITS} units)`,
    `and ${integer(PRESENCES)} retained MCP server presences (${integer(sizes.presence)} bytes each) on the broker. A fresh subscriber in its`,
    'own process connects, subscribes and waits until its registry holds every entry: `discoverAgents()` over every',
    "org (each card decoded, validated against the A2A schema and converted with the SDK's codec), the MCP client",
    "host with `serverNameFilters: ['#']`, and both at once. Each is run three times in the same process, after two",
    'subscribers with an empty registry (code loaded, connection paths warm): the first run (cold for the entries)',
    'and the median are shown. "vs baseline" = median time / MQTT.js alone. Memory per entry is the growth in JS',
    'heap plus array buffers (after a full GC) while the first run holds the registry, less what the second empty',
    'subscriber took, divided by the entries. The baseline keeps the last payload buffer per topic in a Map.',
    `Publishing everything (QoS 1, 500 in flight) took ${all.map((broker) => `${ms(broker.populateMs)} (${broker.label})`).join(' and ')}.`,
    '',
    table(['Broker', 'Subscriber', 'Cold', 'Median of 3', 'vs baseline', 'Memory per entry'], rows),
  ].join('\n');
  await writeSection('Discovery at scale', body);
  recordTargets('discovery', targets);
  process.stdout.write(
    `discovery benchmark done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

await main();
