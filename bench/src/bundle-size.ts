/**
 * The browser bundle-size check of issue 18 (item 4), run by CI after `pnpm build`: what `@mqtt-agents/mcp`
 * and `@mqtt-agents/core` add to a browser app that already bundles the MCP SDK `Client` and MQTT.js.
 *
 *   node --import tsx bench/src/bundle-size.ts [--source] [--write]
 *
 * For each SDK major it bundles two apps of `bundle-apps/` with esbuild (`platform: 'browser'`, ESM,
 * minified): the SDK `Client` with MQTT.js alone, and the same with an MCP client host over MQTT. Both are
 * gzipped (level 9); the difference is what our packages add. Unlike the benchmarks, this one gates: it exits
 * 1 when the difference is over BUDGET_BYTES, when a bundle holds what a browser client must never carry (the
 * broker, the A2A or CLI packages, MQTT.js's Node build, zod's locales beyond English), or when the number in
 * the README is more than README_TOLERANCE_BYTES off (rerun with `--write`, which rewrites the README line and
 * the "Browser bundle size" section of docs/benchmarks.md).
 *
 * By default it bundles the published build (`dist/`, so `pnpm build` first); `--source` bundles the
 * TypeScript sources through the `@mqtt-agents/source` condition instead (no build needed).
 */
import { build, type Metafile } from 'esbuild';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { kib, table, writeSection } from './lib/report.js';

/** Issue 18's goal: what our packages add stays under 60 KiB gzipped. */
const BUDGET_BYTES = 60 * 1024;
/** How far the README's number may drift from the measured one before the check asks for `--write`. */
const README_TOLERANCE_BYTES = 2 * 1024;
/** Main before issue 18 (`import { z } from 'zod'` in core pulled all of zod with its locales). */
const BEFORE = '86.2 KiB with SDK 1.x and 85.2 KiB with SDK 2.x';

const README_FILE = fileURLToPath(new URL('../../README.md', import.meta.url));
const README_MARKER = '<!-- bundle-size -->';
const SECTION = 'Browser bundle size';

/** Inputs that must never reach a browser MCP client bundle, and why. */
const FORBIDDEN: ReadonlyArray<{ pattern: RegExp; why: string }> = [
  {
    pattern: /packages\/(broker|a2a|cli)\/|@mqtt-agents\/(broker|a2a|cli)\//,
    why: 'not an MCP client package',
  },
  { pattern: /node_modules\/mqtt\/build\//, why: "MQTT.js's Node build instead of its browser bundle" },
  { pattern: /zod\/v4\/locales\/(?!en\.js)/, why: "zod's locales (only English is ever used)" },
];

interface Sdk {
  name: string;
  baseline: string;
  client: string;
}

const SDKS: readonly Sdk[] = [
  { name: 'SDK 1.x', baseline: 'sdk-v1-baseline.ts', client: 'sdk-v1-client.ts' },
  { name: 'SDK 2.x', baseline: 'sdk-v2-baseline.ts', client: 'sdk-v2-client.ts' },
];

interface Bundle {
  minified: number;
  gzipped: number;
  metafile: Metafile;
}

interface Measurement {
  sdk: Sdk;
  baseline: Bundle;
  client: Bundle;
  /** Minified bytes per package that the client bundle holds beyond the baseline. */
  added: Array<[string, number]>;
  forbidden: string[];
}

async function bundle(app: string, source: boolean): Promise<Bundle> {
  const hint = source ? '' : ' (it bundles dist/: run `pnpm build` first, or pass --source)';
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`./bundle-apps/${app}`, import.meta.url))],
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: source ? ['@mqtt-agents/source'] : [],
    write: false,
    metafile: true,
    logLevel: 'silent',
  }).catch((error: unknown) => {
    throw new Error(`bundling ${app} failed${hint}`, { cause: error });
  });
  const code = result.outputFiles[0]!.contents;
  return {
    minified: code.byteLength,
    gzipped: gzipSync(code, { level: 9 }).byteLength,
    metafile: result.metafile,
  };
}

/** The package an input path belongs to (`zod`, `@mqtt-agents/mcp`), or the path itself. */
function packageOf(path: string): string {
  const workspace = /(?:^|\/)packages\/([^/]+)\//.exec(path);
  if (workspace && !path.includes('node_modules/')) return `@mqtt-agents/${workspace[1]}`;
  const rest = path.split('node_modules/').pop()!;
  const parts = rest.split('/');
  return rest.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

function bytesByPackage(metafile: Metafile): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      if (path.includes('bundle-apps/')) continue;
      const name = packageOf(path);
      sizes.set(name, (sizes.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return sizes;
}

async function measure(sdk: Sdk, source: boolean): Promise<Measurement> {
  const baseline = await bundle(sdk.baseline, source);
  const client = await bundle(sdk.client, source);
  const before = bytesByPackage(baseline.metafile);
  const added = [...bytesByPackage(client.metafile)]
    .map(([name, bytes]): [string, number] => [name, bytes - (before.get(name) ?? 0)])
    .filter(([, bytes]) => bytes > 0)
    .sort((a, b) => b[1] - a[1]);
  const bundled = Object.values(client.metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs)
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([path]) => path),
  );
  const forbidden = FORBIDDEN.flatMap(({ pattern, why }) => {
    const paths = bundled.filter((path) => pattern.test(path));
    return paths.length === 0
      ? []
      : [`${paths[0]}${paths.length > 1 ? ` and ${paths.length - 1} more` : ''}: ${why}`];
  });
  return { sdk, baseline, client, added, forbidden };
}

const addedBytes = (measurement: Measurement): number =>
  measurement.client.gzipped - measurement.baseline.gzipped;

function readmeLine(worst: number): string {
  return (
    `An MCP client over MQTT adds ${kib(worst)} gzipped to a browser bundle of the MCP SDK \`Client\` and ` +
    `MQTT.js (esbuild, minified; [checked in CI](docs/benchmarks.md#browser-bundle-size), budget ${kib(BUDGET_BYTES)}).`
  );
}

function report(measurements: readonly Measurement[], source: boolean): string {
  const what = source
    ? 'the TypeScript sources (`--source`: the `@mqtt-agents/source` condition)'
    : 'the published build (`dist/`, after `pnpm build`)';
  return [
    'What `@mqtt-agents/mcp` and `@mqtt-agents/core` add to a browser app that already bundles the MCP SDK',
    '`Client` and MQTT.js: the gzipped size of an app with an MCP client host over MQTT',
    '(`bench/src/bundle-apps/sdk-v*-client.ts`) minus that of the same app with the SDK `Client` and MQTT.js',
    "alone (`sdk-v*-baseline.ts`). esbuild, `platform: 'browser'`, ESM, minified, gzip level 9, bundling",
    `${what}.`,
    '',
    'This is a check, not a benchmark: CI runs `pnpm check:size` after the build and fails when our packages',
    `add ${kib(BUDGET_BYTES)} or more, when a bundle holds the broker, the A2A or CLI packages, MQTT.js's Node build or`,
    "zod's locales, or when the README's number is stale (`pnpm check:size --write` rewrites it and this",
    'section).',
    '',
    'Before issue 18, core imported `{ z }` from `zod`, a value that bundles all of zod with its locales (258 KiB',
    `minified): our packages added ${BEFORE}.`,
    'Core now imports `zod/v4` as a namespace (the SDKs import the same modules, so the bundle shares them) and',
    'builds its exported schemas in pure-marked closures, dropped by a bundle that does not use them.',
    '',
    table(
      ['Bundle', 'SDK + MQTT.js alone', 'With an MCP client over MQTT', 'Added by our packages', 'Budget'],
      measurements.map((measurement) => [
        measurement.sdk.name,
        `${kib(measurement.baseline.gzipped)} (${kib(measurement.baseline.minified)} minified)`,
        `${kib(measurement.client.gzipped)} (${kib(measurement.client.minified)} minified)`,
        `**${kib(addedBytes(measurement))}**`,
        kib(BUDGET_BYTES),
      ]),
    ),
    '',
    'Minified bytes in the client bundle beyond the baseline, by package:',
    '',
    table(
      ['Package', ...measurements.map((measurement) => measurement.sdk.name)],
      [...new Set(measurements.flatMap((measurement) => measurement.added.map(([name]) => name)))].map(
        (name) => [
          `\`${name}\``,
          ...measurements.map((measurement) =>
            kib(measurement.added.find(([added]) => added === name)?.[1] ?? 0),
          ),
        ],
      ),
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const source = process.argv.includes('--source');
  const write = process.argv.includes('--write');
  const measurements: Measurement[] = [];
  for (const sdk of SDKS) measurements.push(await measure(sdk, source));
  const body = report(measurements, source);
  process.stdout.write(`${body}\n\n`);

  const problems: string[] = [];
  for (const measurement of measurements) {
    const added = addedBytes(measurement);
    if (added >= BUDGET_BYTES) {
      problems.push(
        `${measurement.sdk.name}: our packages add ${kib(added)}, over the budget of ${kib(BUDGET_BYTES)}`,
      );
    }
    for (const input of measurement.forbidden)
      problems.push(`${measurement.sdk.name}: bundle holds ${input}`);
  }

  const worst = Math.max(...measurements.map(addedBytes));
  const readme = await readFile(README_FILE, 'utf8');
  const lines = readme.split('\n');
  // The line the number is on: the first non-blank one after the marker (prettier puts a blank between).
  const marker = lines.indexOf(README_MARKER);
  const at = marker === -1 ? -1 : lines.findIndex((line, index) => index > marker && line.trim() !== '');
  if (at === -1) {
    problems.push(`README.md has no '${README_MARKER}' line followed by the bundle size`);
  } else if (write) {
    lines[at] = readmeLine(worst);
    await writeFile(README_FILE, lines.join('\n'));
    await writeSection(SECTION, body);
  } else {
    const stated = /adds (\d+(?:\.\d+)?) KiB/.exec(lines[at]!)?.[1];
    if (stated === undefined || Math.abs(Number(stated) * 1024 - worst) > README_TOLERANCE_BYTES) {
      problems.push(
        `README.md says ${stated === undefined ? 'no size' : `${stated} KiB`} where ${kib(worst)} was measured: ` +
          'run `pnpm check:size --write`',
      );
    }
  }

  if (problems.length > 0) {
    process.stderr.write(
      `bundle size check failed:\n${problems.map((problem) => `- ${problem}`).join('\n')}\n`,
    );
    process.exitCode = 1;
  } else {
    process.stdout.write(`bundle size check passed: our packages add at most ${kib(worst)}\n`);
  }
}

await main();
