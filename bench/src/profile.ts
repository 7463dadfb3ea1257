/**
 * Profile the two hot paths: MCP tools/call and A2A SendMessage over MQTT at concurrency 64 (profile-load.ts),
 * the client process and the server (peer) process each recording a V8 CPU profile (the `--cpu-prof` format)
 * of the measured window. Summarises each: where the time goes by package, the top frames by self time, and
 * our own functions by inclusive time, into the "Profile" section of the report. The .cpuprofile files stay
 * in bench/profiles/ (open them in Chrome DevTools or speedscope).
 *
 *   node --import tsx bench/src/profile.ts
 */
import { mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  PROFILE_MS,
  categoryShare,
  cpuPerCallUs,
  describeProfile,
  runProfiledLoad,
  selfShare,
  summarise,
  type ProfiledRun,
} from './lib/profile-summary.js';
import { integer, machineLines, ms, table, writeSection } from './lib/report.js';

const PROFILE_DIRECTORY = fileURLToPath(new URL('../profiles/', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./profile-load.ts', import.meta.url));

const pct = (value: number): string => `${(100 * value).toFixed(1)}%`;

function overview(runs: Array<[string, ProfiledRun]>): string {
  const rows: string[][] = [];
  for (const [name, run] of runs) {
    for (const side of ['client', 'server'] as const) {
      const summary = summarise(run[side]);
      rows.push([
        `${name}, ${side}`,
        `${integer(run.load.rate)} calls/s`,
        `${cpuPerCallUs(summary, run.load, PROFILE_MS).toFixed(0)} µs`,
        pct(categoryShare(summary, /^@mqtt-agents\//)),
        pct(categoryShare(summary, /^@modelcontextprotocol|^@a2a-js|^zod$/)),
        pct(categoryShare(summary, /^MQTT\.js/)),
        pct(selfShare(run[side], /^writev /)),
        pct(categoryShare(summary, /^GC$/)),
      ]);
    }
  }
  return table(
    ['Workload, process', 'Rate', 'CPU per call', 'Our code', 'SDK + zod', 'MQTT.js', '`writev`', 'GC'],
    rows,
  );
}

async function main(): Promise<void> {
  await rm(PROFILE_DIRECTORY, { recursive: true, force: true });
  await mkdir(PROFILE_DIRECTORY, { recursive: true });
  const mcp = await runProfiledLoad(SCRIPT, PROFILE_DIRECTORY, 'mcp', 'mcp');
  const mcpHttp = await runProfiledLoad(SCRIPT, PROFILE_DIRECTORY, 'mcp-http', 'mcp-http');
  const a2a = await runProfiledLoad(SCRIPT, PROFILE_DIRECTORY, 'a2a', 'a2a');
  const a2aHttp = await runProfiledLoad(SCRIPT, PROFILE_DIRECTORY, 'a2a-http', 'a2a-http');
  const body = [
    machineLines().join('\n'),
    '',
    'MCP `tools/call` and A2A `SendMessage` over MQTT at concurrency 64 through the embedded broker (in its own',
    'process). V8 CPU profiles (the format `--cpu-prof` writes, sampled every 0.5 ms) of the client process (SDK',
    '`Client` + `createMcpMqttClientHost`, or `ClientFactory` + `mqttTransportFactory`) and of the server process',
    '(`serveMcpOverMqtt`, or `serveA2AOverMqtt`), recorded through `node:inspector`',
    `for ${PROFILE_MS / 1000} s of load only, after a 1 s warm-up, positions mapped to the sources through the source maps.`,
    'Reproduce with `pnpm build && node --import tsx bench/src/profile.ts`; the profiles are written to',
    '`bench/profiles/*.cpuprofile` (not committed; open them in Chrome DevTools or speedscope). Shares are of busy',
    '(non-idle) time, self time; "SDK + zod" is the official MCP or A2A SDK. The HTTP rows profile the official',
    "SDKs' own HTTP transports (express for A2A) under the same load, for comparison; the broker process is not",
    "profiled, so MQTT's total per call also includes the broker's share. What the profile fixes changed: \"Before",
    'and after the profile fixes".',
    '',
    overview([
      ['MCP over MQTT', mcp],
      ['MCP, Streamable HTTP (JSON)', mcpHttp],
      ['A2A over MQTT', a2a],
      ['A2A, JSON-RPC over HTTP', a2aHttp],
    ]),
    '',
    describeProfile('MCP client process', summarise(mcp.client)),
    '',
    describeProfile('MCP server process', summarise(mcp.server)),
    '',
    describeProfile('A2A client process (requester)', summarise(a2a.client)),
    '',
    describeProfile('A2A server process (agent)', summarise(a2a.server)),
  ].join('\n');
  await writeSection('Profile: MCP and A2A over MQTT at concurrency 64', body);
  process.stdout.write(`${body}\n`);
  process.stdout.write(`MCP p50 ${ms(mcp.load.p50)}, A2A p50 ${ms(a2a.load.p50)}\n`);
}

await main();
