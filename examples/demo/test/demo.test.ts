// The README's demo as a user runs it (`pnpm demo`): a spawned node process on the sources, which must end
// by itself with exit 0 and narrate what each scene promises. The demo checks its own scenes too (it
// throws, and exits 1, when the impostor gets through or a session does not move), so this asserts what a
// reader of the output would notice.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const demoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@mqtt-agents/source', '--import', 'tsx', 'src/main.ts'],
    { cwd: demoRoot, env: { ...process.env, NO_COLOR: '1', DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolveRun) => child.on('close', (code) => resolveRun({ code, stdout, stderr })));
}

describe('the demo', () => {
  it('ends by itself with exit 0 and narrates every scene, the failovers included', async () => {
    const { code, stdout, stderr } = await runDemo();
    expect(stderr).not.toContain('demo failed');
    expect(code).toBe(0);
    // Scene 4: one session per press instance (round-robin).
    expect(stdout).toContain('» sessions with press-a and press-b');
    // Scene 5: every attempt of the impostor is refused.
    expect(stdout).toMatch(/connect with client id "#": 0x85/);
    // Scene 6: the planner's task completes with the report.
    expect(stdout).toContain('Verdict: rework P-102');
    // Scene 7: press-a dies without DISCONNECT; the broker's will clears its presence; the session moves.
    expect(stdout).toMatch(
      /\$mcp-server\/presence\/press-a\/factory\/line-7\/press {2}\[q1 retained\] from press-a\n\s+\(empty\)/,
    );
    expect(stdout).toContain('» discovery: press-a of factory/line-7/press went offline (its will)');
    expect(stdout).toMatch(
      /» failover: press-a → press-b \(reason: offline, moved in [\d.]+ ms, 0 retried, 0 failed\)/,
    );
    expect(stdout).toContain(
      '» the same SDK Client asks again: press press-b: 3 strokes (session on press-b, 1 failover)',
    );
    // Scene 8: press-b drains; the session moves to press-c while press-b finishes the call it holds.
    expect(stdout).toContain('server online, draining (no new sessions)');
    expect(stdout).toMatch(
      /» failover: press-b → press-c \(reason: draining, moved in [\d.]+ ms, 0 retried, 0 failed\)/,
    );
    expect(stdout).toContain(
      '» the same SDK Client, while the die change is still in flight: press press-c: 0 strokes',
    );
    expect(stdout).toContain(
      '» the operator confirms; the call in flight completes: press press-b: die D-7 mounted',
    );
    expect(stdout).toContain(
      '» press-b drained: 1 session(s) at the start, 1 left by their client, 0 closed',
    );
    expect(stdout).toContain('now has 1 instance: press-c; the session moved 2 times and is on press-c');
    // In that order: the status answered by press-c comes before the die change completes on press-b.
    expect(stdout.indexOf('press press-c: 0 strokes')).toBeLessThan(stdout.indexOf('die D-7 mounted'));
    expect(stdout).toMatch(/Done in [\d.]+ s: \d+ MCP and \d+ A2A messages crossed the broker\./);
  });
});
