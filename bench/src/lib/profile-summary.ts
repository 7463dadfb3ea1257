/**
 * Reading V8 CPU profiles (the `--cpu-prof` format) recorded by bench/src/profile-load.ts: where the busy time
 * goes by package, the top frames by self time, our own functions by inclusive time, and the share of a few
 * frames the profile fixes aimed at. Used by profile.ts (the current code) and before-after.ts (two commits).
 */
import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallFrame, CpuProfile } from './cpu-profile.js';
import type { LoadResult } from './measure.js';
import { integer, ms, table } from './report.js';
import { nodeArgs } from './node-args.js';

/**
 * The workloads profile-load.ts can run, all at concurrency 64: MCP tools/call or A2A SendMessage over MQTT
 * (embedded broker), or over the official SDKs' HTTP transports (Streamable HTTP with JSON responses, JSON-RPC).
 */
export type ProfiledWorkload = 'mcp' | 'a2a' | 'mcp-http' | 'a2a-http';

/** Where a frame's code lives, coarsely: our packages, the SDKs, MQTT.js, Node.js, V8. */
function categoryOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) {
    if (frame.functionName === '(garbage collector)') return 'GC';
    if (frame.functionName === '(idle)') return 'idle';
    return 'V8 / native';
  }
  for (const name of ['core', 'mcp', 'a2a', 'broker']) {
    if (url.includes(`/packages/${name}/src/`) || url.includes(`/packages/${name}/dist/`)) {
      return `@mqtt-agents/${name}`;
    }
  }
  if (url.includes('@modelcontextprotocol')) return '@modelcontextprotocol/sdk';
  if (url.includes('@a2a-js')) return '@a2a-js/sdk';
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

/** `function file:line`, the file relative to the repository (or to node_modules for dependencies). */
function location(frame: CallFrame): string {
  if (!frame.url) return frame.functionName;
  let file = frame.url.replace(/^file:\/\//, '');
  file = file.replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '');
  file = file.replace(/^.*?\/((packages|bench)\/)/, '$1');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  categories: Array<[string, number]>;
  selfTop: Array<[string, number, string]>;
  inclusiveOurs: Array<[string, number]>;
}

export function summarise(profile: CpuProfile): ProfileSummary {
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
  const idle = categories.get('idle') ?? 0;
  return {
    totalMs,
    busyMs: totalMs - idle,
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

/** The share of busy time spent in frames of one category (`@mqtt-agents/core`, `GC`, ...). */
export function categoryShare(summary: ProfileSummary, pattern: RegExp): number {
  let matched = 0;
  for (const [category, value] of summary.categories) if (pattern.test(category)) matched += value;
  return matched / summary.busyMs;
}

/** The share of busy time spent in frames (self time) whose `name url` matches. */
export function selfShare(profile: CpuProfile, pattern: RegExp): number {
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

/** Busy CPU time per call of a profiled load, in µs. */
export function cpuPerCallUs(summary: ProfileSummary, load: LoadResult, durationMs: number): number {
  return (1000 * summary.busyMs) / (load.rate * (durationMs / 1000));
}

/** Markdown: the categories, the top frames and our own functions of one process's profile. */
export function describeProfile(name: string, summary: ProfileSummary): string {
  const busy = summary.busyMs;
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

export interface ProfiledRun {
  load: LoadResult;
  client: CpuProfile;
  server: CpuProfile;
}

/** How long profile-load.ts records, in ms (`BENCH_PROFILE_MS`). */
export const PROFILE_MS = Number(process.env.BENCH_PROFILE_MS ?? 5_000);

/**
 * Run `script` (a profile-load.ts, this tree's or another checkout's) for one workload and read the client and
 * server profiles it writes to `directory`.
 */
export async function runProfiledLoad(
  script: string,
  directory: string,
  label: string,
  workload: ProfiledWorkload,
): Promise<ProfiledRun> {
  const child = fork(script, [directory, label, workload], {
    execArgv: nodeArgs('--enable-source-maps'),
    env: { ...process.env, BENCH_PROFILE: '1', BENCH_PROFILE_MS: String(PROFILE_MS) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let load: LoadResult | undefined;
  child.on('message', (message: LoadResult) => (load = message));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0 || !load)
    throw new Error(`the profiled ${workload} load (${label}) exited with code ${code}`);
  const read = async (side: string): Promise<CpuProfile> =>
    JSON.parse(await readFile(join(directory, `${side}-${label}.cpuprofile`), 'utf8')) as CpuProfile;
  return { load, client: await read('client'), server: await read('server') };
}
