import { describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import type { CliIo } from '../src/index.js';
import packageJson from '../package.json' with { type: 'json' };
import { cliRun } from './cli-process.js';

function captureIo(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (text) => void (out += text),
    stderr: (text) => void (err += text),
    signal: new AbortController().signal,
    env: {},
    out: () => out,
    err: () => err,
  };
}

const commands = [
  'broker',
  'ls',
  'watch',
  'mcp serve',
  'mcp connect',
  'mcp http',
  'a2a send',
  'a2a get',
  'a2a cancel',
  'a2a http',
];

describe('mqtt-agents help and usage errors', () => {
  it.each(commands)('%s --help prints the usage of the command and exits 0', async (command) => {
    const io = captureIo();
    expect(await main([...command.split(' '), '--help'], io)).toBe(0);
    expect(io.out()).toMatch(new RegExp(`^Usage: mqtt-agents ${command} `));
    expect(io.err()).toBe('');
    if (command !== 'broker') expect(io.out()).toContain('--url <url>');
  });

  it('prints the command list for the groups, and one line for unknown commands', async () => {
    const io = captureIo();
    expect(await main(['mcp', '--help'], io)).toBe(0);
    expect(io.out()).toMatch(/serve +publish a stdio MCP server on MQTT/);
    expect(await main(['a2a', 'fly'], io)).toBe(2);
    expect(io.err()).toBe("mqtt-agents a2a: unknown command 'fly' (see mqtt-agents a2a --help)\n");
  });

  it('--version prints the version of the package and exits 0', async () => {
    for (const flag of ['--version', '-V']) {
      const io = captureIo();
      expect(await main([flag], io)).toBe(0);
      expect(io.out()).toBe(`${packageJson.version}\n`);
      expect(io.err()).toBe('');
    }
  });

  it('no command, or a group without its command, is a usage error: the help on stderr, exit 2', async () => {
    for (const args of [[], ['mcp'], ['a2a']]) {
      const io = captureIo();
      expect(await main(args, io)).toBe(2);
      expect(io.out()).toBe('');
      expect(io.err()).toMatch(/^Usage: mqtt-agents /);
    }
  });

  it('--help after -- belongs to the served command, not to mcp serve', async () => {
    const io = captureIo();
    expect(await main(['mcp', 'serve', '--url', 'mqtt://127.0.0.1:1', '--', 'node', '--help'], io)).toBe(2);
    expect(io.err()).toBe('mqtt-agents mcp serve: missing --name <server-name>\n');
  });

  it(
    'the real command: --help exits 0, an unknown command exits 2 with one line',
    { timeout: 60_000 },
    async () => {
      const [help, unknown, bare, version] = await Promise.all([
        cliRun(['--help']),
        cliRun(['teleport']),
        cliRun([]),
        cliRun(['--version']),
      ]);
      expect(bare.code).toBe(2);
      expect(bare.stderr).toMatch(/^Usage: mqtt-agents <command> \[options\]/);
      expect(version).toEqual({ code: 0, stdout: `${packageJson.version}\n`, stderr: '' });
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: mqtt-agents <command> \[options\]/);
      expect(help.stdout).toMatch(/mcp serve +publish a stdio MCP server on MQTT/);
      expect(unknown).toEqual({
        code: 2,
        stdout: '',
        stderr: "mqtt-agents: unknown command 'teleport' (see mqtt-agents --help)\n",
      });
    },
  );
});
