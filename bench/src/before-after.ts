/**
 * Before and after a change: the same harness (this checkout's bench/src) driving two versions of the
 * packages, a base commit checked out in a temporary git worktree and this checkout. Rounds of the overhead
 * measurement (overhead-load.ts: raw MQTT.js, MCP, A2A through the embedded broker and Mosquitto at
 * concurrency 1 and 64) alternate between the two, so drift on a shared machine hits both sides; then both
 * are profiled (profile-load.ts). Writes the study's section in docs/benchmarks.md.
 *
 *   pnpm bench:before-after [study] [base-ref]
 *
 * Studies: `profile-fixes` ("Before and after the profile fixes", base 7db4741) and `architecture` ("Before
 * and after the architecture step", base 40920da). A first argument that names no study is a base ref for
 * `profile-fixes` (BENCH_BASE_REF overrides a study's base too).
 *
 * Needs git and the npm registry (or pnpm's store) to install the base commit's dependencies. Not part of
 * `pnpm bench`, whose 10-minute budget it would break.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib/measure.js';
import {
  PROFILE_MS,
  categoryShare,
  cpuPerCallUs,
  runProfiledLoad,
  selfShare,
  summarise,
  type ProfiledRun,
} from './lib/profile-summary.js';
import { integer, machineLines, ms, table, writeSection } from './lib/report.js';
import type { OverheadSample } from './overhead-load.js';
import { PACKAGES, nodeArgs } from './lib/node-args.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
interface Study {
  title: string;
  base: string;
  /** What changed between the two sides, as Markdown lines. */
  changes: string[];
}

const STUDIES: Record<string, Study> = {
  'profile-fixes': {
    title: 'Before and after the profile fixes',
    base: '7db4741',
    changes: [
      'The fixes, each from the profile:',
      '',
      '- `@mqtt-agents/core`: the socket stays corked until the end of the event-loop turn in which a packet was',
      '  sent or received, so the PUBACKs and replies of one network read leave in one `writev` instead of one',
      '  system call per packet; MQTT.js gets a no-op `log` unless `DEBUG` enables `mqttjs*` (its `debug` calls ran',
      '  on every step); the message dispatcher reuses its handler snapshot until a handler is added or removed.',
      '- `@mqtt-agents/a2a` requester: a JSON reply is fingerprinted for duplicate detection only once a second',
      '  reply arrives for the same request (one pass, 64 bits), each reply is decoded into a typed item once, and',
      '  the folder copies a Task snapshot only when an update follows it.',
      '- `@mqtt-agents/mcp` server host: session topics are routed by slicing the client id out of the topic;',
      '  only an id that belongs to no session is validated.',
    ],
  },
  architecture: {
    title: 'Before and after the architecture step',
    base: '40920da',
    changes: [
      'The change is structural only (issue 13), with no wire behaviour changed:',
      '',
      '- `@mqtt-agents/core`: `connect.ts` and `request-reply.ts` split into `connection/` and `request-reply/`;',
      '  one `mqtt:` option type and `openConnection()` for every package; packet-size maths in one place.',
      '- `@mqtt-agents/broker`: handlers on a narrow context, `connection/`, `session/` and `routing/` folders',
      '  (a router with subscription kinds), no import circle.',
      '- `@mqtt-agents/mcp`: one session core under both `Transport` facades, one inbound router for both hosts.',
      '- `@mqtt-agents/a2a`: responder and requester as pipelines of named stages, security profiles as codecs.',
    ],
  },
};

const [first, second] = process.argv.slice(2);
const STUDY_NAME = first !== undefined && first in STUDIES ? first : 'profile-fixes';
const STUDY = STUDIES[STUDY_NAME]!;
const BASE_REF =
  (first !== undefined && first in STUDIES ? second : first) ?? process.env.BENCH_BASE_REF ?? STUDY.base;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
}

function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with code ${code}`)),
    );
  });
}

async function pnpm(args: string[], cwd: string): Promise<void> {
  const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    packageManager: string;
  };
  await run('npx', ['-y', manifest.packageManager.split('+')[0] as string, ...args], cwd);
}

/** Check out `ref` beside this checkout, with this checkout's harness and the ref's packages, installed. */
async function checkOut(ref: string, directory: string): Promise<void> {
  git('worktree', 'add', '--detach', directory, ref);
  await rm(join(directory, 'bench/src'), { recursive: true, force: true });
  await cp(join(ROOT, 'bench/src'), join(directory, 'bench/src'), { recursive: true });
  try {
    await pnpm(['install', '--frozen-lockfile', '--offline', '--reporter=silent'], directory);
  } catch {
    await pnpm(['install', '--frozen-lockfile', '--reporter=silent'], directory);
  }
  if (PACKAGES === 'dist') await pnpm(['build'], directory);
}

interface Tree {
  label: 'before' | 'after';
  root: string;
  samples: OverheadSample[];
}

async function overheadRound(tree: Tree, scratch: string, round: number): Promise<void> {
  const output = join(scratch, `${tree.label}-${round}.json`);
  process.stdout.write(`\nround ${round}, ${tree.label}:\n`);
  await run(process.execPath, [...nodeArgs(), join(tree.root, 'bench/src/overhead-load.ts')], tree.root, {
    ...process.env,
    BENCH_OUTPUT: output,
  });
  tree.samples.push(...(JSON.parse(await readFile(output, 'utf8')) as OverheadSample[]));
}

/** The median over the rounds of one measure of one pairing at one concurrency. */
function medianOf(tree: Tree, name: string, concurrency: number, measure: 'rate' | 'p50'): number {
  return median(
    tree.samples
      .filter((sample) => sample.name === name && sample.concurrency === concurrency)
      .map((sample) => sample.result[measure]),
  );
}

const pct = (value: number): string => `${(100 * value).toFixed(0)}%`;
const pct1 = (value: number): string => `${(100 * value).toFixed(1)}%`;

function throughputTable(before: Tree, after: Tree): string {
  const rows: string[][] = [];
  for (const broker of ['embedded broker', 'Mosquitto']) {
    for (const what of ['MCP', 'A2A']) {
      for (const concurrency of [1, 64]) {
        const name = `${what}, ${broker}`;
        const raw = `raw MQTT.js, ${broker}`;
        const rateBefore = medianOf(before, name, concurrency, 'rate');
        const rateAfter = medianOf(after, name, concurrency, 'rate');
        rows.push([
          name,
          `${concurrency}`,
          `${integer(rateBefore)} (${pct(rateBefore / medianOf(before, raw, concurrency, 'rate'))})`,
          `${integer(rateAfter)} (${pct(rateAfter / medianOf(after, raw, concurrency, 'rate'))})`,
          `${(rateAfter / rateBefore).toFixed(2)}x`,
          `${ms(medianOf(before, name, concurrency, 'p50'))} / ${ms(medianOf(after, name, concurrency, 'p50'))}`,
        ]);
      }
    }
  }
  return table(
    [
      'Transport, broker',
      'c',
      'Before: calls/s (% of raw)',
      'After: calls/s (% of raw)',
      'After / before',
      'p50 before / after',
    ],
    rows,
  );
}

function profileTable(profiles: Array<[string, ProfiledRun, ProfiledRun]>): string {
  const rows: string[][] = [];
  for (const [workload, before, after] of profiles) {
    rows.push([
      `${workload}: rate while profiled`,
      `${integer(before.load.rate)} calls/s`,
      `${integer(after.load.rate)} calls/s`,
    ]);
    for (const side of ['client', 'server'] as const) {
      const b = summarise(before[side]);
      const a = summarise(after[side]);
      rows.push(
        [
          `${workload} ${side}: CPU per call`,
          `${cpuPerCallUs(b, before.load, PROFILE_MS).toFixed(0)} µs`,
          `${cpuPerCallUs(a, after.load, PROFILE_MS).toFixed(0)} µs`,
        ],
        [
          `${workload} ${side}: our code, share of busy time`,
          pct1(categoryShare(b, /^@mqtt-agents\//)),
          pct1(categoryShare(a, /^@mqtt-agents\//)),
        ],
        [
          `${workload} ${side}: \`writev\` system calls`,
          pct1(selfShare(before[side], /^writev /)),
          pct1(selfShare(after[side], /^writev /)),
        ],
        [
          `${workload} ${side}: \`debug\` (logging in MQTT.js and mqtt-packet)`,
          pct1(selfShare(before[side], /\/debug\//)),
          pct1(selfShare(after[side], /\/debug\//)),
        ],
        [
          `${workload} ${side}: garbage collector`,
          pct1(categoryShare(b, /^GC$/)),
          pct1(categoryShare(a, /^GC$/)),
        ],
      );
    }
  }
  return table(['Measure', 'Before', 'After'], rows);
}

async function main(): Promise<void> {
  const started = performance.now();
  const base = git('rev-parse', '--short', `${BASE_REF}^{commit}`);
  const head = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'packages').length > 0;
  const scratch = await mkdtemp(join(os.tmpdir(), 'mqtt-agents-before-after-'));
  const checkout = join(scratch, 'base');
  const loadAtStart = os.loadavg();
  try {
    await mkdir(join(scratch, 'profiles'));
    process.stdout.write(`checking out ${base} beside this checkout (${head})\n`);
    await checkOut(base, checkout);
    const before: Tree = { label: 'before', root: checkout, samples: [] };
    const after: Tree = { label: 'after', root: ROOT, samples: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? [before, after] : [after, before];
      for (const tree of order) await overheadRound(tree, scratch, round);
    }
    const profiles: Array<[string, ProfiledRun, ProfiledRun]> = [];
    for (const workload of ['mcp', 'a2a'] as const) {
      const runs: ProfiledRun[] = [];
      for (const tree of [before, after]) {
        runs.push(
          await runProfiledLoad(
            join(tree.root, 'bench/src/profile-load.ts'),
            join(scratch, 'profiles'),
            `${tree.label}-${workload}`,
            workload,
          ),
        );
      }
      profiles.push([workload.toUpperCase(), runs[0]!, runs[1]!]);
    }
    const loadAtEnd = os.loadavg();
    const body = [
      machineLines().slice(0, 3).join('\n'),
      `- Load average (1 min): ${loadAtStart[0]!.toFixed(2)} at the start, ${loadAtEnd[0]!.toFixed(2)} at the end; ${((performance.now() - started) / 1000).toFixed(0)} s in all`,
      '',
      `Before: the packages at \`${base}\`; after: \`${head}\`${dirty ? ' with uncommitted changes' : ''}. The same harness drives both`,
      "(this checkout's `bench/src`, copied into a git worktree of the base commit).",
      ...STUDY.changes,
      '',
      `Throughput: ${ROUNDS} alternating rounds per side, medians; "% of raw" is the share of the raw MQTT.js`,
      'request/reply rate measured in the same round on the same side (the target-2 measure).',
      '',
      throughputTable(before, after),
      '',
      `CPU profiles at concurrency 64 through the embedded broker (${PROFILE_MS / 1000} s each; shares of busy time, self time):`,
      '',
      profileTable(profiles),
      '',
      `Reproduce with \`pnpm bench:before-after ${STUDY_NAME} [base-ref]\` (about ${Math.ceil((performance.now() - started) / 60_000)} minutes here).`,
    ].join('\n');
    await writeSection(STUDY.title, body);
    process.stdout.write(`\n${body}\n`);
  } finally {
    try {
      git('worktree', 'remove', '--force', checkout);
    } catch {
      // Not created (the checkout failed early): nothing to remove.
    }
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
