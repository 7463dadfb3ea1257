// `mcp serve` and a server command that does not work: it is not announced when it cannot start, and a
// session whose process fails gets the reason as an MCP error at once, not a closed connection or a wait.
import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { createMcpMqttClientHost } from '@mqtt-agents/mcp';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { main } from '../src/index.js';
import { cli, cliRun, unique } from './cli-process.js';

const flakySource = join(dirname(fileURLToPath(import.meta.url)), 'servers/flaky-server.mjs');
let broker: TestBroker;
let scratch: string;
beforeAll(async () => {
  broker = await startTestBroker();
  scratch = await mkdtemp(join(tmpdir(), 'mqtt-agents-serve-'));
});
afterAll(async () => {
  await broker.close();
  await rm(scratch, { recursive: true, force: true });
});

/** An executable copy of the flaky server, so that deleting it makes the next spawn fail with ENOENT. */
async function flakyCommand(later: 'garbage' | 'exit'): Promise<{ path: string; args: string[] }> {
  const path = join(scratch, `${unique('flaky')}.mjs`);
  await copyFile(flakySource, path);
  await chmod(path, 0o755);
  return { path, args: [path, `${path}.runs`, later] };
}

/** Open an MCP session with the served server; resolves with the error the client got, if any. */
async function sessionError(name: string): Promise<Error | undefined> {
  await using host = await createMcpMqttClientHost({ mqtt: { url: broker.url }, serverNameFilters: [name] });
  await host.waitForServer(name, { timeoutMs: 20_000 });
  const client = new Client({ name: 'probe', version: '1.0.0' });
  try {
    await host.connect(client, name);
    await client.close();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

describe.concurrent(
  'mqtt-agents mcp serve and a server command that does not work',
  { timeout: 90_000 },
  () => {
    it('a command that cannot start, or prints something else than JSON-RPC, is never announced', async ({
      expect,
    }) => {
      const [notFound, notMcp] = await Promise.all([
        cliRun([
          'mcp',
          'serve',
          '--url',
          broker.url,
          '--name',
          'start/missing',
          '--',
          'no-such-command-4711',
        ]),
        cliRun([
          'mcp',
          'serve',
          '--url',
          broker.url,
          '--name',
          'start/not-mcp',
          '--',
          process.execPath,
          '-e',
          "console.log('hello, I am not an MCP server'); setInterval(() => {}, 60000)",
        ]),
      ]);
      expect(notFound).toEqual({
        code: 1,
        stdout: '',
        stderr: "mqtt-agents mcp serve: cannot start 'no-such-command-4711': command not found\n",
      });
      expect(notMcp.code).toBe(1);
      expect(notMcp.stdout).toBe('');
      expect(notMcp.stderr).toMatch(
        /^mqtt-agents mcp serve: '.+' printed a line that is not JSON \(.*\) on stdout: it is not a stdio MCP server\n$/,
      );
    });

    it('a session whose process cannot start gets the reason as an MCP error', async ({ expect }) => {
      const name = `start/${unique('vanishing')}`;
      const flaky = await flakyCommand('exit');
      await using serve = cli([
        'mcp',
        'serve',
        '--url',
        broker.url,
        '--name',
        name,
        '--',
        flaky.path,
        ...flaky.args.slice(1),
      ]);
      await serve.waitFor(/serving '/);
      await rm(flaky.path);
      const error = await sessionError(name);
      expect(error?.message).toMatch(/-32603/);
      expect(error?.message).toContain(`cannot start '${flaky.path}': command not found`);
      await serve.waitFor(/command not found/, { stream: 'stderr' });
    });

    it('a session whose process exits, or prints non-JSON, before initialize gets the reason at once', async ({
      expect,
    }) => {
      const [exits, garbage] = await Promise.all([flakyCommand('exit'), flakyCommand('garbage')]);
      const exitsName = `start/${unique('exits')}`;
      const garbageName = `start/${unique('garbage')}`;
      await using serveExits = cli([
        'mcp',
        'serve',
        '--url',
        broker.url,
        '--name',
        exitsName,
        '--',
        process.execPath,
        ...exits.args,
      ]);
      await using serveGarbage = cli([
        'mcp',
        'serve',
        '--url',
        broker.url,
        '--name',
        garbageName,
        '--',
        process.execPath,
        ...garbage.args,
      ]);
      await Promise.all([serveExits.waitFor(/serving '/), serveGarbage.waitFor(/serving '/)]);
      const [exitError, garbageError] = await Promise.all([
        sessionError(exitsName),
        sessionError(garbageName),
      ]);
      expect(exitError?.message).toMatch(/-32603.*the server process exited before it answered/);
      expect(garbageError?.message).toMatch(
        /-32603.*the server process printed a line that is not JSON .* before it answered initialize/,
      );
      // The line is logged, not dropped in silence.
      await serveGarbage.waitFor(/warning: the server process printed a line that is not JSON/, {
        stream: 'stderr',
      });
    });

    it('--shared: a line of the shared process that is not JSON-RPC is logged', async ({ expect }) => {
      await using serve = cli([
        'mcp',
        'serve',
        '--shared',
        '--url',
        broker.url,
        '--name',
        `start/${unique('shared-banner')}`,
        '--',
        process.execPath,
        '-e',
        "console.log('a banner on stdout'); setInterval(() => {}, 60000)",
      ]);
      await serve.waitFor(/warning: the server process printed a line that is not JSON/, {
        stream: 'stderr',
      });
      const code = await serve.stop();
      expect(code, serve.stderr()).toBe(0);
    });

    it('--shared: a stop before the instance is serving (still connecting) exits 0, with no error', async ({
      expect,
    }) => {
      // A "broker" that takes the connection and never answers CONNECT: the stop always lands in connect.
      const sockets = new Set<Socket>();
      const silent = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => {});
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as { port: number };
      const stop = new AbortController();
      let stdout = '';
      let stderr = '';
      try {
        const code = await main(
          [
            'mcp',
            'serve',
            '--shared',
            '--url',
            `mqtt://127.0.0.1:${port}`,
            '--name',
            `start/${unique('stop-while-connecting')}`,
            '--',
            process.execPath,
            '-e',
            "console.log('a banner on stdout'); setInterval(() => {}, 60000)",
          ],
          {
            stdout: (text) => void (stdout += text),
            stderr: (text) => {
              stderr += text;
              // The banner is logged once the shared process runs, before the connect can finish.
              if (/not JSON/.test(stderr)) stop.abort();
            },
            signal: stop.signal,
            env: {},
          },
        );
        expect(code, stderr).toBe(0);
        expect(stderr).not.toMatch(/abort|error/);
        expect(stdout).toMatch(/shutting down/);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });
  },
);
