// Runs the real `mqtt-agents` command as a user would: a spawned node process on the CLI's source (through
// tsx and the source export condition, so no build is needed), with its stdout and stderr collected.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../..');
const runEntry = join(repoRoot, 'packages/cli/src/run.ts');
const require = createRequire(import.meta.url);

/** `node <server-everything> stdio`: the reference MCP server, run from node_modules (no network). */
export const serverEverything = [
  process.execPath,
  join(dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist/index.js'),
  'stdio',
];

/** How long a spawned command may take to print what a test waits for (tsx compiles on start). */
export const SPAWN_TIMEOUT = 45_000;

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolve with the first match of `pattern` in stdout (or stderr with `{ stream: 'stderr' }`). */
  waitFor(
    pattern: RegExp,
    options?: { stream?: 'stdout' | 'stderr'; timeoutMs?: number },
  ): Promise<RegExpMatchArray>;
  /** The exit code (a signal counts as 128 + its number). */
  readonly exit: Promise<number>;
  /** SIGTERM (like Ctrl-C), then the exit code. */
  stop(): Promise<number>;
  /** `await using`: stops the command if it still runs. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The command line that runs `mqtt-agents <args...>` from source: `[node, ...flags, run.ts, ...args]`. */
export function cliCommand(args: string[]): string[] {
  return [process.execPath, '--conditions=@mqtt-agents/source', '--import', 'tsx', runEntry, ...args];
}

/** Start `mqtt-agents <args...>`. */
export function cli(args: string[], options: { env?: Record<string, string> } = {}): CliProcess {
  const [command, ...commandArgs] = cliCommand(args) as [string, ...string[]];
  const child = spawn(command, commandArgs, {
    cwd: repoRoot,
    env: { ...process.env, MQTT_URL: '', DEBUG: '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const listener of [...listeners]) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    for (const listener of [...listeners]) listener();
  });
  const exit = new Promise<number>((resolveExit) => {
    child.on('close', (code, signal) => {
      for (const listener of [...listeners]) listener();
      resolveExit(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
    });
  });
  let exited = false;
  void exit.then(() => {
    exited = true;
  });
  const handle: CliProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    waitFor(pattern, waitOptions = {}) {
      const read = (): string => (waitOptions.stream === 'stderr' ? err : out);
      return new Promise((resolveMatch, reject) => {
        const check = (): void => {
          const match = read().match(pattern);
          if (match) {
            done();
            resolveMatch(match);
          } else if (exited) {
            done();
            reject(
              new Error(
                `mqtt-agents ${args.join(' ')} exited before printing ${pattern}\nstdout: ${out}\nstderr: ${err}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `timed out waiting for ${pattern} from mqtt-agents ${args.join(' ')}\nstdout: ${out}\nstderr: ${err}`,
            ),
          );
        }, waitOptions.timeoutMs ?? SPAWN_TIMEOUT);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (!exited) child.kill('SIGTERM');
      return exit;
    },
    async [Symbol.asyncDispose]() {
      await handle.stop();
    },
  };
  return handle;
}

/** Run `mqtt-agents <args...>` to completion. */
export async function cliRun(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const process = cli(args, options);
  const code = await process.exit;
  return { code, stdout: process.stdout(), stderr: process.stderr() };
}

/**
 * Run `mqtt-agents <args...>` in this process, with its output captured: for usage errors and other
 * one-line failures, which take the same path through `main` without the cost of a process start.
 */
export async function cliInProcess(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    signal: new AbortController().signal,
    env: {},
  });
  return { code, stdout, stderr };
}

let sequence = 0;
/** A name no other test, file or lane uses. */
export function unique(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}-${Math.random().toString(36).slice(2, 6)}`;
}
