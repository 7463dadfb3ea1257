/**
 * One fresh discovery subscriber in its own process (so its heap holds nothing else), forked by
 * bench/src/discovery.ts. `--mode`:
 *   raw  MQTT.js alone: subscribe to both discovery filters and keep the last payload per topic (baseline);
 *   a2a  `discoverAgents()` over every org until it holds every card;
 *   mcp  `createMcpMqttClientHost({ serverNameFilters: ['#'] })` until it holds every presence;
 *   both the two SDK subscribers at once, the whole registry of a process that uses both protocols.
 * Sends `{ runs: [ms, ...], heapPerEntry, entries }` over IPC: the time from "connect" to "registry
 * complete" for each run (the first is cold), and the memory (JS heap and array buffers, after GC) the held
 * registry takes per entry, less what the same subscriber takes with an empty registry.
 */
import { parseArgs } from 'node:util';
import { discoverAgents } from '@mqtt-agents/a2a';
import { createMcpMqttClientHost } from '@mqtt-agents/mcp';
import mqtt from 'mqtt';
import { collectGarbage, delay } from './lib/measure.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    url: { type: 'string' },
    cards: { type: 'string' },
    presences: { type: 'string' },
    runs: { type: 'string', default: '3' },
  },
});
const mode = values.mode as 'raw' | 'a2a' | 'mcp' | 'both';
const url = values.url!;
const cards = Number(values.cards);
const presences = Number(values.presences);
const TIMEOUT_MS = 60_000;

interface Held {
  entries: number;
  close(): Promise<void>;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + TIMEOUT_MS;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(2);
  }
}

/** JS heap plus the array buffers it owns (MQTT payloads live there): what a registry entry really costs. */
function memory(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Subscribe to filters that match nothing, to measure what a subscriber costs with an empty registry. */
let empty = false;

async function raw(): Promise<Held> {
  const latest = new Map<string, Buffer>();
  const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0 });
  client.on('message', (topic, payload) => latest.set(topic, payload));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  if (empty) {
    await client.subscribeAsync('$a2a/v1/discovery/nothing-here/#', { qos: 1 });
    return { entries: 0, close: () => client.endAsync().then(() => undefined) };
  }
  await client.subscribeAsync(['$a2a/v1/discovery/#', '$mcp-server/presence/#'], { qos: 1 });
  await until(() => latest.size >= cards + presences, 'every retained message');
  return { entries: latest.size, close: () => client.endAsync().then(() => undefined) };
}

async function a2a(): Promise<Held> {
  const registry = await discoverAgents({ mqtt: { url }, ...(empty ? { org: 'nothing-here' } : {}) });
  if (empty) return { entries: 0, close: () => registry.close() };
  await until(() => registry.agents.size >= cards, `${cards} agent cards`);
  return { entries: registry.agents.size, close: () => registry.close() };
}

function countInstances(host: { servers(): Map<string, unknown[]> }): number {
  let count = 0;
  for (const instances of host.servers().values()) count += instances.length;
  return count;
}

async function mcp(): Promise<Held> {
  const host = await createMcpMqttClientHost({
    mqtt: { url },
    serverNameFilters: [empty ? 'nothing-here/#' : '#'],
  });
  if (empty) return { entries: 0, close: () => host.close() };
  await until(() => countInstances(host) >= presences, `${presences} MCP server presences`);
  return { entries: countInstances(host), close: () => host.close() };
}

async function both(): Promise<Held> {
  const [agents, servers] = await Promise.all([a2a(), mcp()]);
  return {
    entries: agents.entries + servers.entries,
    close: async () => {
      await agents.close();
      await servers.close();
    },
  };
}

const subscribe = { raw, a2a, mcp, both }[mode];
/** The memory the same subscriber takes with an empty registry (connection, subscriptions, its objects). */
async function fixedCost(): Promise<number> {
  empty = true;
  await collectGarbage();
  const before = memory();
  const idle = await subscribe();
  await collectGarbage();
  const cost = memory() - before;
  await idle.close();
  empty = false;
  return cost;
}

// The fixed cost is measured on a second empty subscriber (the first one pays for loading and initialising the
// code), then run 0 holds the registry and is measured; runs 1 and more only time it again.
await fixedCost();
const fixed = await fixedCost();
const runs: number[] = [];
let heapPerEntry = Number.NaN;
let entries = 0;
for (let run = 0; run < Number(values.runs); run++) {
  await collectGarbage();
  const before = memory();
  const start = performance.now();
  const held = await subscribe();
  runs.push(performance.now() - start);
  entries = held.entries;
  if (run === 0) {
    await collectGarbage();
    heapPerEntry = (memory() - before - fixed) / held.entries;
  }
  await held.close();
}
process.send?.({ runs, heapPerEntry, entries });
process.disconnect?.();
