#!/usr/bin/env node
// Checks of the built packages as a user installs them, run by `pnpm check:packages` after `pnpm build`
// (.ci/run: build, then package checks). Each check names the item of issue 18 it keeps fixed.
//
// 1. Tarball and metadata (item 5): LICENSE (the root license) and README.md in every tarball, `repository`
//    with `directory`, `homepage`, `bugs`; README links absolute or to files the tarball has; every package
//    a README snippet imports is on one of its `npm install` lines; the README states the engines minimum.
// 2. CommonJS without require(esm) (item 2): every `require` entry loads in a child
//    `node --no-experimental-require-module` (what Node.js 20.10 to 20.18 and 22.0 to 22.11 do) when the
//    package's `engines` allows such a Node; when it does not, the failure is the documented
//    ERR_REQUIRE_ESM and the entry loads with require(esm). Every `import` entry loads as ESM. The
//    broker's JWT authentication (jose loaded with import()) runs from CJS.
// 3. Names (item 5): exported classes and functions keep their names in both builds (`MqttAgentsError`,
//    not `_MqttAgentsError`), also in a thrown error's stack and `util.inspect`; mcp and a2a re-export
//    core's `MqttAgentsError` itself.
// 4. TypeScript CommonJS consumer (item 3): scripts/fixtures/cts-consumer (a `.cts` file, module node16,
//    skipLibCheck false) type-checks against the built `.d.cts` files; the only diagnostics allowed are
//    the upstream ones listed in UPSTREAM_DIAGNOSTICS.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPOSITORY = 'https://github.com/mqtt-agents/mqtt-agents';
const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8');
const failures = [];
const fail = (where, message) => failures.push(`${where}: ${message}`);

// Diagnostics of other packages' declarations that a CJS consumer with skipLibCheck: false sees; each
// is documented in docs/releasing.md ("What remains upstream").
const UPSTREAM_DIAGNOSTICS = [
  // @modelcontextprotocol/sdk 1.x: dist/cjs/validation/types.d.ts imports the ESM-only json-schema-typed.
  { file: /@modelcontextprotocol\/sdk\/dist\/cjs\/validation\/types\.d\.ts$/, code: 'TS1541' },
];

const packages = readdirSync(join(root, 'packages'))
  .filter((name) => existsSync(join(root, 'packages', name, 'package.json')))
  .map((directory) => {
    const path = join(root, 'packages', directory);
    return { directory, path, manifest: JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) };
  })
  .filter(({ manifest }) => !manifest.private);

// --- helpers ---

function minimumNode(range) {
  const bounds = range.split('||').map((part) => {
    const match = /^\s*(?:>=|\^|~)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(part);
    if (!match) throw new Error(`cannot read engines.node '${range}'`);
    return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
  });
  return bounds.sort(compareVersions)[0];
}
function compareVersions(a, b) {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}
const REQUIRE_ESM_BY_DEFAULT = [20, 19, 0];

function entries(manifest) {
  return Object.entries(manifest.exports)
    .filter(([, target]) => typeof target === 'object')
    .map(([subpath, target]) => ({
      specifier: subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
      require: target.require !== undefined,
      import: target.import !== undefined,
    }));
}

function runNode(args, cwd) {
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function markdownOutsideCode(markdown) {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

// --- 1. tarball and metadata ---

for (const { directory, path, manifest } of packages) {
  const where = manifest.name;
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: path,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  );
  const files = new Set(packed[0].files.map((file) => file.path));
  for (const required of ['LICENSE', 'README.md', 'package.json']) {
    if (!files.has(required)) fail(where, `the tarball has no ${required}`);
  }
  if (existsSync(join(path, 'LICENSE')) && readFileSync(join(path, 'LICENSE'), 'utf8') !== rootLicense) {
    fail(where, 'LICENSE differs from the root LICENSE');
  }
  const repository = manifest.repository ?? {};
  if (repository.url !== `git+${REPOSITORY}.git` || repository.directory !== `packages/${directory}`) {
    fail(where, `repository must be { url: 'git+${REPOSITORY}.git', directory: 'packages/${directory}' }`);
  }
  if (manifest.homepage !== `${REPOSITORY}/tree/main/packages/${directory}#readme`) {
    fail(where, 'homepage must be the package folder on GitHub');
  }
  if (manifest.bugs?.url !== `${REPOSITORY}/issues`) fail(where, 'bugs.url must be the issue tracker');

  if (!existsSync(join(path, 'README.md'))) continue;
  const readme = readFileSync(join(path, 'README.md'), 'utf8');
  const prose = markdownOutsideCode(readme);
  for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const [file] = target.split('#');
    if (/^(https?:|mailto:)/.test(target)) {
      const own = new RegExp(`^${REPOSITORY}/(?:blob|tree)/main/(.+)$`).exec(file);
      if (own && !existsSync(join(root, decodeURIComponent(own[1])))) {
        fail(where, `README links to ${target}, which is not in the repository`);
      }
    } else if (file !== '' && !files.has(relative(path, resolve(path, file)))) {
      fail(
        where,
        `README link '${target}' is relative and the tarball has no such file (use ${REPOSITORY}/...)`,
      );
    }
  }
  // Every package a TypeScript or JavaScript snippet imports is on an `npm install` line (or is this one).
  const installed = new Set([manifest.name]);
  for (const [line] of readme.matchAll(/npm install[^\n`]*/g)) {
    for (const word of line.split(/\s+/)) if (!word.startsWith('-')) installed.add(word);
  }
  for (const [, block] of readme.matchAll(/^```(?:ts|js|mjs|cjs|typescript|javascript)\n([\s\S]*?)^```/gm)) {
    for (const [, specifier] of block.matchAll(/\bfrom '([^']+)'/g)) {
      if (specifier.startsWith('node:') || specifier.startsWith('.')) continue;
      const name = specifier.startsWith('@')
        ? specifier.split('/').slice(0, 2).join('/')
        : specifier.split('/')[0];
      if (!installed.has(name))
        fail(where, `README snippet imports ${name}, which no npm install line lists`);
    }
  }
  if (!/npm install/.test(readme)) fail(where, 'README has no install line');
  for (const line of prose.split('\n')) {
    if (/^\s*>\s*=?\s*\d/.test(line)) fail(where, `README line renders as a blockquote: '${line.trim()}'`);
  }
  const minimum = minimumNode(manifest.engines?.node ?? '0');
  const stated = `Node.js ${minimum[0]}.${minimum[1]}${minimum[2] ? `.${minimum[2]}` : ''}`;
  if (!prose.replace(/\s+/g, ' ').includes(stated)) {
    fail(where, `README does not state the engines minimum ('${stated}', from '${manifest.engines?.node}')`);
  }
}

// --- 2. CommonJS without require(esm), ESM ---

const canRequireEsm = process.features.require_module === true;
// Node.js before 20.17 has no such flag (and no require(esm)): there, a plain child is the same test.
const NO_REQUIRE_ESM = process.allowedNodeEnvironmentFlags.has('--experimental-require-module')
  ? ['--no-experimental-require-module']
  : [];
for (const { path, manifest } of packages) {
  const minimum = minimumNode(manifest.engines.node);
  const needsRequireEsm = compareVersions(minimum, REQUIRE_ESM_BY_DEFAULT) >= 0;
  for (const entry of entries(manifest)) {
    const where = `${entry.specifier} (engines.node '${manifest.engines.node}')`;
    if (entry.require) {
      const code = `require(${JSON.stringify(entry.specifier)})`;
      const plain = runNode([...NO_REQUIRE_ESM, '-e', code], path);
      if (!needsRequireEsm && plain.status !== 0) {
        fail(
          where,
          `require() without require(esm) fails:\n${plain.stderr.split('\n').slice(0, 6).join('\n')}`,
        );
      }
      if (needsRequireEsm) {
        if (plain.status === 0) {
          fail(where, 'require() works without require(esm): engines.node can go down to 20.10');
        } else if (!plain.stderr.includes('ERR_REQUIRE_ESM')) {
          fail(
            where,
            `require() without require(esm) fails for another reason:\n${plain.stderr.slice(0, 600)}`,
          );
        }
        if (canRequireEsm) {
          const withRequireEsm = runNode(['-e', code], path);
          if (withRequireEsm.status !== 0)
            fail(where, `require() fails:\n${withRequireEsm.stderr.slice(0, 600)}`);
        }
      }
    }
    if (entry.import) {
      // ESM needs no require(esm) anywhere in its graph: it runs on every Node.js 20.x.
      const loaded = runNode(
        [...NO_REQUIRE_ESM, '--input-type=module', '-e', `await import(${JSON.stringify(entry.specifier)})`],
        path,
      );
      if (loaded.status !== 0) fail(where, `import() fails:\n${loaded.stderr.slice(0, 600)}`);
    }
  }
}

// The broker's JWT authentication loads jose with import(): it must work from CJS without require(esm).
const broker = packages.find(({ manifest }) => manifest.name === '@mqtt-agents/broker');
const jwtProbe = readFileSync(join(root, 'scripts', 'fixtures', 'cjs-broker-jwt.cjs'), 'utf8');
const jwt = runNode([...NO_REQUIRE_ESM, '-e', jwtProbe], broker.path);
if (jwt.status !== 0 || !jwt.stdout.includes('jwt connect ok') || !jwt.stdout.includes('refused 134')) {
  fail(
    '@mqtt-agents/broker (cjs)',
    `JWT authentication without require(esm) fails:\n${jwt.stdout}${jwt.stderr.slice(0, 600)}`,
  );
}

// --- 3. names ---

// Runs in a child per package and format; prints one JSON array of problems.
const namesProbe = (load) => `
const util = require('node:util');
const problems = [];
(async () => {
  const modules = ${load};
  const core = modules['@mqtt-agents/core'];
  for (const [specifier, module] of Object.entries(modules)) {
    const keys = new Set(Object.keys(module));
    for (const [key, value] of Object.entries(module)) {
      if (typeof value !== 'function') continue;
      // An alias (a deprecated old name) carries the name of the export it aliases; a function made by a
      // factory (\`assertAgentId = asserter('agent-id')\`) has none. What is left is a bundler's rename.
      if (value.name !== '' && value.name !== key && !keys.has(value.name)) {
        problems.push(specifier + ': export ' + key + ' is named ' + JSON.stringify(value.name));
      }
    }
    if (module.MqttAgentsError !== undefined && core && module.MqttAgentsError !== core.MqttAgentsError) {
      problems.push(specifier + ': MqttAgentsError is a copy, not core\\'s class');
    }
  }
  if (core) {
    let error;
    try { core.assertAgentId('a/b'); } catch (caught) { error = caught; }
    const shown = [error && error.name, error && error.constructor.name, util.inspect(error), String(error && error.stack)];
    if (!(error instanceof core.MqttAgentsError)) problems.push('assertAgentId did not throw an MqttAgentsError');
    else if (shown[0] !== 'MqttAgentsError' || shown[1] !== 'MqttAgentsError' || !shown[2].startsWith('MqttAgentsError: ') || !shown[3].startsWith('MqttAgentsError: ') || shown.some((text) => text.includes('_MqttAgentsError'))) {
      problems.push('a thrown MqttAgentsError shows as ' + JSON.stringify(shown.map((text) => text.split('\\n')[0])));
    }
  }
})().catch((error) => problems.push('load failed: ' + error.message)).finally(() => console.log(JSON.stringify(problems)));
`;
const corePath = packages.find(({ manifest }) => manifest.name === '@mqtt-agents/core').path;
for (const { path, manifest } of packages) {
  const specifiers = entries(manifest).map((entry) => entry.specifier);
  // Core's class to compare with, resolved from this package (its dependency) or core itself.
  const all = manifest.name === '@mqtt-agents/core' ? specifiers : [...specifiers, '@mqtt-agents/core'];
  const requireFrom = (specifier) =>
    specifier === '@mqtt-agents/core' && manifest.name !== specifier
      ? `require(require.resolve('@mqtt-agents/core', { paths: [${JSON.stringify(path)}, ${JSON.stringify(corePath)}] }))`
      : `require(${JSON.stringify(specifier)})`;
  const cjs = `({ ${all.map((specifier) => `${JSON.stringify(specifier)}: ${requireFrom(specifier)}`).join(', ')} })`;
  const esm = `Object.fromEntries(await Promise.all(${JSON.stringify(all)}.map(async (s) => [s, await import(s)])))`;
  for (const [format, load] of [
    ['cjs', cjs],
    ['esm', esm],
  ]) {
    const result = runNode(['-e', namesProbe(load)], path);
    let problems;
    try {
      problems = JSON.parse(result.stdout.trim().split('\n').pop());
    } catch {
      problems = [`the names probe failed: ${result.stderr.slice(0, 600)}`];
    }
    for (const problem of problems) fail(`${manifest.name} (${format})`, problem);
  }
}

// --- 4. TypeScript CommonJS consumer ---

const fixture = join(root, 'scripts', 'fixtures', 'cts-consumer');
const linked = join(fixture, 'node_modules', '@mqtt-agents');
rmSync(join(fixture, 'node_modules'), { recursive: true, force: true });
mkdirSync(linked, { recursive: true });
for (const { directory, path } of packages) symlinkSync(path, join(linked, directory), 'dir');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const checked = runNode([tsc, '-p', fixture, '--pretty', 'false'], root);
const diagnostics = `${checked.stdout}\n${checked.stderr}`
  .split('\n')
  .map((line) => /^(.+?)\(\d+,\d+\): error (TS\d+): /.exec(line))
  .filter(Boolean);
for (const [line, file, code] of diagnostics) {
  if (!UPSTREAM_DIAGNOSTICS.some((known) => known.file.test(file) && known.code === code)) {
    fail('cts consumer', line);
  }
}
if (checked.status !== 0 && diagnostics.length === 0) fail('cts consumer', `tsc failed: ${checked.stderr}`);

// --- result ---

if (failures.length > 0) {
  console.error(`check-built-packages: ${failures.length} problem(s)\n\n${failures.join('\n\n')}`);
  process.exit(1);
}
console.log(
  `check-built-packages: ${packages.length} packages: tarballs, metadata, README links and install lines, ` +
    `CommonJS without require(esm) per engines, ESM, export names, a .cts consumer: all fine`,
);
