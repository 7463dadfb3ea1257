/**
 * Profile one hot path: MCP tools/call over MQTT at concurrency 64 (bench/src/profile-load.ts), the client
 * process and the server (peer) process each recording a V8 CPU profile (the `--cpu-prof` format) of the
 * measured window. Summarises both: where the time goes by package, the top frames by self time, and our
 * own functions by inclusive time, into the "Profile" section of the report. The .cpuprofile files stay in
 * bench/profiles/ (open them in Chrome DevTools or speedscope).
 *
 *   node --conditions=@mqtt-agents/source --import tsx bench/src/profile.ts
 */
import { fork } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallFrame, CpuProfile } from './lib/cpu-profile.js';
import type { LoadResult } from './lib/measure.js';
import { integer, machineLines, ms, table, writeSection } from './lib/report.js';

const PROFILE_DIRECTORY = fileURLToPath(new URL('../profiles/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where a frame's code lives, coarsely: our packages, the SDKs, MQTT.js, Node.js, V8. */
function categoryOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) {
    if (frame.functionName === '(garbage collector)') return 'GC';
    if (frame.functionName === '(idle)') return 'idle';
    if (frame.functionName === '(program)') return 'V8 / native';
    return 'V8 / native';
  }
  for (const name of ['core', 'mcp', 'a2a', 'broker']) {
    if (url.includes(`/packages/${name}/src/`)) return `@mqtt-agents/${name}`;
  }
  if (url.includes('@modelcontextprotocol')) return '@modelcontextprotocol/sdk';
  if (url.includes('/zod')) return 'zod';
  if (
    url.includes('/mqtt-packet/') ||
    url.includes('/mqtt/') ||
    url.includes('/bl/') ||
    url.includes('readable-stream')
  )
    return 'MQTT.js + mqtt-packet';
  if (url.startsWith('node:')) return 'Node.js internals';
  if (url.includes('/tsx/') || url.includes('/esbuild')) return 'tsx loader';
  if (url.includes('/bench/src/')) return 'bench harness';
  return 'other dependencies';
}

function location(frame: CallFrame): string {
  if (!frame.url) return frame.functionName;
  let file = frame.url.replace(/^file:\/\//, '');
  if (file.startsWith(ROOT)) file = relative(ROOT, file);
  file = file.replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

interface Summary {
  totalMs: number;
  categories: Array<[string, number]>;
  selfTop: Array<[string, number, string]>;
  inclusiveOurs: Array<[string, number]>;
}

function summarise(profile: CpuProfile): Summary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, { ms: number; category: string }>();
  const categories = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((sample, index) => {
    const deltaMs = (profile.timeDeltas[index] ?? 0) / 1000;
    const node = byId.get(sample);
    if (!node) return;
    totalMs += deltaMs;
    const key = location(node.callFrame);
    const category = categoryOf(node.callFrame);
    const entry = self.get(key) ?? { ms: 0, category };
    entry.ms += deltaMs;
    self.set(key, entry);
    categories.set(category, (categories.get(category) ?? 0) + deltaMs);
    // Inclusive time of our own functions: each sample counts once per function on its stack.
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (!categoryOf(frame).startsWith('@mqtt-agents/')) continue;
      const frameKey = location(frame);
      if (seen.has(frameKey)) continue;
      seen.add(frameKey);
      inclusive.set(frameKey, (inclusive.get(frameKey) ?? 0) + deltaMs);
    }
  });
  return {
    totalMs,
    categories: [...categories].sort((a, b) => b[1] - a[1]),
    selfTop: [...self]
      .filter(([key]) => key !== '(idle)')
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 15)
      .map(([key, entry]) => [key, entry.ms, entry.category]),
    inclusiveOurs: [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 10),
  };
}

const share = (value: number, total: number): string => `${((100 * value) / total).toFixed(1)}%`;

function describe(name: string, summary: Summary): string {
  const busy = summary.totalMs - (summary.categories.find(([category]) => category === 'idle')?.[1] ?? 0);
  return [
    `### ${name}`,
    '',
    `${integer(summary.totalMs)} ms sampled, ${integer(busy)} ms busy. Self time by where the code lives (share of busy time):`,
    '',
    table(
      ['Code', 'Self time', 'Share'],
      summary.categories
        .filter(([category]) => category !== 'idle')
        .map(([category, value]) => [category, ms(value), share(value, busy)]),
    ),
    '',
    'Top frames by self time:',
    '',
    table(
      ['Frame', 'Self time', 'Share', 'Code'],
      summary.selfTop.map(([frame, value, category]) => [
        `\`${frame}\``,
        ms(value),
        share(value, busy),
        category,
      ]),
    ),
    '',
    'Our own functions by inclusive time (everything they call included):',
    '',
    table(
      ['Frame', 'Inclusive', 'Share'],
      summary.inclusiveOurs.map(([frame, value]) => [`\`${frame}\``, ms(value), share(value, busy)]),
    ),
  ].join('\n');
}

/** Busy (non-idle) sampled time and the share of it in frames whose name matches. */
function busyOf(summary: Summary): number {
  return summary.totalMs - (summary.categories.find(([category]) => category === 'idle')?.[1] ?? 0);
}

function selfShare(profile: CpuProfile, pattern: RegExp): number {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  let busy = 0;
  let matched = 0;
  profile.samples.forEach((sample, index) => {
    const frame = byId.get(sample)?.callFrame;
    if (!frame || frame.functionName === '(idle)') return;
    const deltaMs = (profile.timeDeltas[index] ?? 0) / 1000;
    busy += deltaMs;
    if (pattern.test(`${frame.functionName} ${frame.url}`)) matched += deltaMs;
  });
  return matched / busy;
}

interface Run {
  load: LoadResult;
  client: CpuProfile;
  server: CpuProfile;
}

async function profileRun(variant: 'as-is' | 'proposed-fix'): Promise<Run> {
  const script = fileURLToPath(new URL('./profile-load.ts', import.meta.url));
  const child = fork(script, [PROFILE_DIRECTORY, variant], {
    execArgv: [
      '--conditions=@mqtt-agents/source',
      '--import',
      import.meta.resolve('tsx'),
      '--enable-source-maps',
    ],
    env: { ...process.env, BENCH_PROFILE: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let load: LoadResult | undefined;
  child.on('message', (message: LoadResult) => (load = message));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0 || !load) throw new Error(`the profiled workload (${variant}) exited with code ${code}`);
  const read = async (side: string): Promise<CpuProfile> =>
    JSON.parse(await readFile(`${PROFILE_DIRECTORY}${side}-${variant}.cpuprofile`, 'utf8')) as CpuProfile;
  return { load, client: await read('client'), server: await read('server') };
}

async function main(): Promise<void> {
  await rm(PROFILE_DIRECTORY, { recursive: true, force: true });
  await mkdir(PROFILE_DIRECTORY, { recursive: true });
  const before = await profileRun('as-is');
  const after = await profileRun('proposed-fix');
  const client = summarise(before.client);
  const server = summarise(before.server);
  const durationMs = Number(process.env.BENCH_PROFILE_MS ?? 5_000);
  const perCall = (summary: Summary, load: LoadResult): string =>
    `${((1000 * busyOf(summary)) / (load.rate * (durationMs / 1000))).toFixed(0)} µs`;
  const pct = (value: number): string => `${(100 * value).toFixed(1)}%`;
  const comparison: string[][] = [
    [
      'Rate during the profile',
      `${integer(before.load.rate)} calls/s`,
      `${integer(after.load.rate)} calls/s`,
    ],
    [
      'p50 / p99',
      `${ms(before.load.p50)} / ${ms(before.load.p99)}`,
      `${ms(after.load.p50)} / ${ms(after.load.p99)}`,
    ],
  ];
  for (const side of ['client', 'server'] as const) {
    const a = summarise(before[side]);
    const b = summarise(after[side]);
    comparison.push(
      [`${side}: CPU per call`, perCall(a, before.load), perCall(b, after.load)],
      [
        `${side}: \`writev\` system calls, share of busy time`,
        pct(selfShare(before[side], /^writev /)),
        pct(selfShare(after[side], /^writev /)),
      ],
      [
        `${side}: \`debug\` (MQTT.js logging), share`,
        pct(selfShare(before[side], /\/debug\//)),
        pct(selfShare(after[side], /\/debug\//)),
      ],
      [
        `${side}: garbage collector, share`,
        pct(selfShare(before[side], /^\(garbage collector\)/)),
        pct(selfShare(after[side], /^\(garbage collector\)/)),
      ],
    );
  }
  const body = [
    machineLines().join('\n'),
    '',
    'MCP `tools/call` over MQTT at concurrency 64 through the embedded broker (in its own process). V8 CPU',
    'profiles (the format `--cpu-prof` writes, sampled every 0.5 ms) of the client process (SDK `Client` +',
    '`createMcpMqttClientHost`) and the server process (`serveMcpOverMqtt`), recorded through `node:inspector`',
    `for ${durationMs / 1000} s of load only, after a 1 s warm-up, positions mapped to the TypeScript sources. Reproduce with`,
    '`node --conditions=@mqtt-agents/source --import tsx bench/src/profile.ts`; the profiles are written to',
    '`bench/profiles/*.cpuprofile` (not committed; open them in Chrome DevTools or speedscope). The packages run',
    "from source through tsx, whose `__name` helper (esbuild's keepNames, on every closure created) does not exist",
    'in the published build.',
    '',
    '### Before and after the proposed `@mqtt-agents/core` change',
    '',
    "The profile's two biggest items that our code can change: every MQTT packet is its own `writev` system call",
    '(mqtt-packet corks and uncorks the socket per packet), and MQTT.js calls the `debug` package on every step.',
    '`bench/src/lib/proposed-core-fix.ts` applies the proposed change from outside (socket corked until the end of',
    'the event-loop turn in which a packet was received or sent; a no-op MQTT.js `log`) to both MQTT connections;',
    'the "proposed core fix" rows of the RPC tables above measure it without the profiler.',
    '',
    table(['Measure', 'As is', 'Proposed core fix'], comparison),
    '',
    describe('Client process (as is)', client),
    '',
    describe('Server process (as is)', server),
  ].join('\n');
  await writeSection('Profile: MCP over MQTT at concurrency 64', body);
  process.stdout.write(`${body}\n`);
}

await main();
