// docs/quickstart.md as a reader runs it: the TypeScript and the JavaScript program, each a spawned node
// process on the embedded broker, must discover the MCP server, call its tool, talk to the A2A agent and
// end by themselves with exit 0. (check-snippets proves the doc shows exactly these files.)
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // tsx only to load the workspace packages from their TypeScript sources (a user gets their dist).
  const child = spawn(process.execPath, ['--conditions=@mqtt-agents/source', '--import', 'tsx', file], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

function expectTheWholeTour(stdout: string): void {
  expect(stdout).toContain('discovered factory/line-7/press: Press controls');
  expect(stdout).toMatch(/serving factory\/line-7\/press as \S+/);
  expect(stdout).toContain('tools: stop');
  expect(stdout).toContain("stop -> [ { type: 'text', text: 'stopped: jam' } ]");
  expect(stdout).toContain('com.acme/plant-1/planner says: planned: a die change on line 7');
}

describe('the quick start', () => {
  it('TypeScript: discovers and calls the MCP tool, then has an A2A exchange, and exits 0', async () => {
    const { code, stdout, stderr } = await run('src/quickstart.ts');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expectTheWholeTour(stdout);
  });

  it('JavaScript: the same on plain Node, which parses it as written (no `await using`)', async () => {
    const file = resolve(root, 'src/quickstart.mjs');
    // Node's own parser, without tsx: this is what `node quickstart.mjs` reads on Node 20.
    expect(() => execFileSync(process.execPath, ['--check', file], { stdio: 'pipe' })).not.toThrow();
    expect(readFileSync(file, 'utf8')).not.toMatch(/^\s*await using\b/m);
    const { code, stdout, stderr } = await run('src/quickstart.mjs');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expectTheWholeTour(stdout);
  });
});
