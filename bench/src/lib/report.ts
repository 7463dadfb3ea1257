/**
 * Formatting and the report file: each benchmark replaces its own `## ` section of docs/benchmarks.md, so
 * one benchmark can be rerun alone without losing the others. Sections are kept in SECTION_ORDER.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packagesLine } from './node-args.js';

export const REPORT_FILE = fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url));

/** Section titles (after `## `), in the order they appear in the report. Unknown sections go last. */
export const SECTION_ORDER = [
  'Summary',
  'Notes on the targets',
  'Machine',
  'MCP tools/call: MQTT vs Streamable HTTP',
  'Transport overhead vs the raw MQTT limit',
  'A2A SendMessage: MQTT vs JSON-RPC over HTTP',
  'Discovery at scale',
  'Sessions: one server host, 1,000 client sessions',
  'Profile: MCP and A2A over MQTT at concurrency 64',
  'Before and after the profile fixes',
  'Before and after the architecture step',
  'Broker',
  'Failover: time to recover',
];

export const HEADER = [
  '# Benchmarks',
  '',
  'Recorded runs of the harness in `bench/`: `pnpm bench` runs every benchmark end to end and rewrites this file',
  '(each section can also be rerun alone, see its text). Every benchmark measures its baseline in the same run;',
  'numbers are from one machine and one run, so compare the ratios, not the absolute values. Benchmarks are not',
  'tests and gate nothing.',
  '',
].join('\n');

export const integer = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
export const ms = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)} ms` : 'n/a');
export const kib = (bytes: number): string =>
  Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KiB` : 'n/a';
export const ratio = (a: number, b: number): string =>
  Number.isFinite(a / b) && b !== 0 ? `${(a / b).toFixed(2)}x` : 'n/a';
export const percent = (a: number, b: number): string =>
  Number.isFinite(a / b) && b !== 0 ? `${((100 * a) / b).toFixed(0)}%` : 'n/a';

export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${widths.map((width, column) => (cells[column] ?? '').padEnd(width)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

function splitSections(document: string): { head: string; sections: Map<string, string> } {
  const parts = document.split(/\n(?=## )/);
  const head = parts[0]!.startsWith('## ') ? HEADER : parts.shift()!;
  const sections = new Map<string, string>();
  for (const part of parts) {
    const title = part.slice(3, part.indexOf('\n') === -1 ? undefined : part.indexOf('\n')).trim();
    sections.set(title, part.trimEnd());
  }
  return { head: head.trimEnd(), sections };
}

/**
 * Replace (or add) the section `## {title}` of docs/benchmarks.md with `body` (without the title line). With
 * `header`, the text before the first section is replaced too.
 */
export async function writeSection(title: string, body: string, header?: string): Promise<void> {
  const document = await readFile(REPORT_FILE, 'utf8').catch(() => HEADER);
  const split = splitSections(document);
  const head = header === undefined ? split.head : header.trimEnd();
  const sections = split.sections;
  sections.set(title, `## ${title}\n\n${body.trim()}`);
  const rank = (name: string): number => {
    const index = SECTION_ORDER.indexOf(name);
    return index === -1 ? SECTION_ORDER.length : index;
  };
  const ordered = [...sections.entries()].sort(([a], [b]) => rank(a) - rank(b)).map(([, text]) => text);
  await writeFile(REPORT_FILE, `${[head, ...ordered].join('\n\n')}\n`);
}

export function mosquittoVersion(): string {
  const binary = process.env.MOSQUITTO_BIN ?? 'mosquitto';
  let output = '';
  try {
    output = execFileSync(binary, ['-h'], { encoding: 'utf8' });
  } catch (error) {
    // `mosquitto -h` prints its usage and exits with status 3.
    output = String((error as { stdout?: unknown }).stdout ?? '');
  }
  return /mosquitto version (\S+)/.exec(output)?.[1] ?? 'unknown';
}

export function machineLines(): string[] {
  const cpus = os.cpus();
  return [
    `- CPU: ${cpus[0]?.model.trim() ?? 'unknown'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `- Node.js ${process.version}, Mosquitto ${mosquittoVersion()}, ${os.type()} ${os.release()}`,
    packagesLine(),
    `- Load average when this benchmark started: ${os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(' / ')} (1 / 5 / 15 min)`,
  ];
}

/** One target of issue 8 and how this run did against it. */
export interface TargetResult {
  benchmark: string;
  target: string;
  measured: string;
  met: boolean;
}

/**
 * Record targets for the summary that `run-all.ts` writes. Each benchmark script writes its own file into
 * BENCH_RESULTS_DIR (set by run-all); run alone, the targets are only printed.
 */
export function recordTargets(name: string, targets: TargetResult[]): void {
  for (const target of targets) {
    process.stdout.write(
      `  target ${target.met ? 'met   ' : 'MISSED'} ${target.benchmark}: ${target.target} (measured ${target.measured})\n`,
    );
  }
  const directory = process.env.BENCH_RESULTS_DIR;
  if (!directory) return;
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, `${name}.json`), JSON.stringify(targets, null, 2));
}
