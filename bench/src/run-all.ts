/**
 * `pnpm bench`: every benchmark of issue 8, end to end, each in its own process, then the summary of the
 * targets and the machine into docs/benchmarks.md. Budget: under 10 minutes on 2 cores; each step has its
 * own limit and a step that fails or overruns is reported, not fatal to the others.
 *
 *   node --import tsx bench/src/run-all.ts [step ...]
 *
 * Steps: rpc (benchmarks 1-3), discovery (4), sessions (5), profile, broker (6), failover (issue 14).
 * Default: all of them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HEADER,
  machineLines,
  mosquittoVersion,
  table,
  writeSection,
  type TargetResult,
} from './lib/report.js';
import { nodeArgs } from './lib/node-args.js';

interface Step {
  name: string;
  script: string;
  what: string;
  limitMs: number;
}

const STEPS: Step[] = [
  {
    name: 'rpc',
    script: 'rpc.ts',
    what: '1-3: MCP and A2A vs HTTP and the raw MQTT limit',
    limitMs: 240_000,
  },
  { name: 'discovery', script: 'discovery.ts', what: '4: discovery at scale', limitMs: 180_000 },
  { name: 'sessions', script: 'sessions.ts', what: '5: 1,000 sessions on one server host', limitMs: 180_000 },
  {
    name: 'profile',
    script: 'profile.ts',
    what: 'CPU profiles of MCP and A2A over MQTT at concurrency 64',
    limitMs: 120_000,
  },
  { name: 'broker', script: 'broker.ts', what: '6: embedded broker vs Mosquitto', limitMs: 150_000 },
  {
    name: 'failover',
    script: 'failover.ts',
    what: 'failover (issue 14): time to recover from a crashed or drained instance',
    limitMs: 180_000,
  },
];

interface StepResult {
  step: Step;
  ok: boolean;
  seconds: number;
  detail: string;
}

function run(step: Step, resultsDirectory: string): Promise<StepResult> {
  const script = fileURLToPath(new URL(`./${step.script}`, import.meta.url));
  const started = performance.now();
  process.stdout.write(`\n=== ${step.name}: benchmark ${step.what}\n`);
  const child = spawn(process.execPath, [...nodeArgs(), script], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_RESULTS_DIR: resultsDirectory },
  });
  return new Promise((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, step.limitMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const detail = timedOut
        ? `stopped after its limit of ${step.limitMs / 1000} s`
        : code === 0
          ? 'ok'
          : `failed (${signal ?? `exit code ${code}`})`;
      resolve({ step, ok: code === 0 && !timedOut, seconds, detail });
    });
  });
}

/** The share of all cores' time spent busy during one second in which this process only waits. */
async function othersBusyShare(): Promise<number> {
  const sample = (): { idle: number; total: number } => {
    let idle = 0;
    let total = 0;
    for (const cpu of os.cpus()) {
      const times = cpu.times;
      idle += times.idle;
      total += times.user + times.nice + times.sys + times.idle + times.irq;
    }
    return { idle, total };
  };
  const before = sample();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const after = sample();
  const total = after.total - before.total;
  return total > 0 ? 1 - (after.idle - before.idle) / total : 0;
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = os.loadavg();
  const othersAtStart = await othersBusyShare();
  const selected = process.argv.slice(2);
  const steps = selected.length > 0 ? STEPS.filter((step) => selected.includes(step.name)) : STEPS;
  const resultsDirectory = await mkdtemp(join(os.tmpdir(), 'mqtt-agents-bench-'));
  const results: StepResult[] = [];
  try {
    for (const step of steps) results.push(await run(step, resultsDirectory));
    const targets: TargetResult[] = [];
    for (const file of (await readdir(resultsDirectory)).sort()) {
      targets.push(...(JSON.parse(await readFile(join(resultsDirectory, file), 'utf8')) as TargetResult[]));
    }
    targets.sort((a, b) => a.benchmark.localeCompare(b.benchmark, 'en', { numeric: true }));
    const totalSeconds = (performance.now() - started) / 1000;
    const loadAtEnd = os.loadavg();
    const cores = os.cpus().length;
    // Whether others share the machine is judged before the first step, while this process only waits: the
    // load average lags (it still counts the build that precedes `pnpm bench`) and, by the end, mostly counts
    // the benchmark's own processes.
    const busy = othersAtStart > 0.25;

    const summary = [
      `\`pnpm bench\` ran ${steps.map((step) => step.name).join(', ')} in ${totalSeconds.toFixed(0)} s on ${new Date().toISOString().slice(0, 10)}.`,
      ...(busy
        ? [
            '',
            `**The machine was shared while this ran** (${(100 * othersAtStart).toFixed(0)}% of its ${cores} cores busy with other work in`,
            'the second before the first benchmark): absolute numbers are low and noisy, and so are the ratios',
            'of measurements taken a few seconds apart. Rerun `pnpm bench` on a quiet machine before quoting them.',
          ]
        : []),
      '',
      table(
        ['Target (issue 8)', 'Requirement', 'Measured', 'Met'],
        targets.map((target) => [
          target.benchmark,
          target.target,
          target.measured,
          target.met ? 'yes' : '**no**',
        ]),
      ),
      '',
      table(
        ['Step', 'Benchmark', 'Time', 'Outcome'],
        results.map((result) => [
          result.step.name,
          result.step.what,
          `${result.seconds.toFixed(0)} s`,
          result.detail,
        ]),
      ),
    ].join('\n');
    const machine = [
      ...machineLines().slice(0, 3),
      `- Other work on the machine before the first benchmark: ${(100 * othersAtStart).toFixed(0)}% of the cores' time`,
      `- Load average (1 / 5 / 15 min): ${loadAtStart.map((value) => value.toFixed(2)).join(' / ')} at the start, ${loadAtEnd
        .map((value) => value.toFixed(2))
        .join(' / ')} at the end`,
      `- Mosquitto ${mosquittoVersion()} started by \`startMosquitto()\` (\`set_tcp_nodelay true\` unless a row says Nagle);`,
      '  the embedded broker in a child process; servers in a peer process; clients in the benchmark process.',
    ].join('\n');
    await writeSection('Machine', machine, HEADER);
    await writeSection('Summary', summary);
    process.stdout.write(`\n${summary}\n\nall benchmarks done in ${totalSeconds.toFixed(0)} s\n`);
    if (results.some((result) => !result.ok)) process.exitCode = 1;
  } finally {
    await rm(resultsDirectory, { recursive: true, force: true });
  }
}

await main();
