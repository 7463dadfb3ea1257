// The example as a user runs it (`pnpm start`): a spawned node process on the sources, on the embedded
// broker, which must end by itself with exit 0 and print both answers.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function run(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@mqtt-agents/source', '--import', 'tsx', 'src/main.ts'],
    {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolveRun) => child.on('close', (code) => resolveRun({ code, stdout, stderr })));
}

describe('the AI SDK example', () => {
  it('ends by itself with exit 0 after the AI SDK and the A2A agent answered with the MQTT tool', async () => {
    const { code, stdout, stderr } = await run();
    expect(stderr).not.toContain('example failed');
    expect(code).toBe(0);
    expect(stdout).toContain(
      'generateText called stock over MQTT and said: The store says: P-102: 42 in stock on shelf B3',
    );
    expect(stdout).toContain(
      'the storekeeper answered over A2A: The store says: P-205: 0 in stock on shelf C1',
    );
    expect(stdout).toContain('the store ran stock for: P-102, P-205');
  });
});
