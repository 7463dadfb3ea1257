import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { serveMcpOverMqtt } from '@mqtt-agents/mcp';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { cli, cliCommand, cliInProcess, repoRoot, unique } from './cli-process.js';
import { buildToolServer } from './fixtures.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((part) => part.text ?? '').join('');
}

/** What a stdio host (Claude Desktop, the Inspector) does: launch `mqtt-agents mcp connect` and speak stdio. */
function stdioHost(args: string[]): {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
} {
  const [command, ...rest] = cliCommand(['mcp', 'connect', ...args]);
  const transport = new StdioClientTransport({
    command: command as string,
    args: rest,
    cwd: repoRoot,
    env: { ...(process.env as Record<string, string>), MQTT_URL: '', DEBUG: '' },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { client: new Client({ name: 'stdio-host', version: '1.0.0' }), transport, stderr: () => stderr };
}

describe.concurrent('mqtt-agents mcp connect', { timeout: 90_000 }, () => {
  it('is a stdio MCP server for any stdio host, relaying to a server discovered on MQTT', async ({
    expect,
  }) => {
    const name = `connect/${unique('tools')}`;
    await using _server = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName: name,
      description: 'tools for the stdio host',
      createServer: () => buildToolServer('mqtt-instance'),
    });
    const host = stdioHost([name, '--url', broker.url]);
    await host.client.connect(host.transport);
    expect(host.client.getServerVersion()).toMatchObject({ name: 'test-tools' });
    expect((await host.client.listTools()).tools.map((tool) => tool.name).sort()).toEqual([
      'add',
      'count',
      'whoami',
    ]);
    expect(textOf(await host.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }))).toBe('3');
    const progress: number[] = [];
    await host.client.callTool({ name: 'count', arguments: { n: 2 } }, undefined, {
      onprogress: (update) => progress.push(update.progress),
    });
    expect(progress).toEqual([1, 2]);
    expect(host.stderr()).toMatch(new RegExp(`relaying stdio to '${name}' \\(instance \\S+\\) on mqtt://`));
    await host.client.close(); // closes stdin: the command ends the MQTT session and exits
  });

  it('answers a script that writes its requests without waiting and closes stdin', async ({ expect }) => {
    const name = `connect/${unique('piped')}`;
    await using _server = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName: name,
      description: 'tools for a pipe',
      createServer: () => buildToolServer('piped'),
    });
    await using connect = cli(['mcp', 'connect', name, '--url', broker.url]);
    const lines = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'sh', version: '1' } },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'add', arguments: { a: 40, b: 2 } } },
    ];
    // All at once, then EOF: tools/call must not overtake initialize, and the answers must come back.
    connect.child.stdin.end(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    expect(await connect.exit).toBe(0);
    const answers = connect
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: number; result: Record<string, unknown> });
    expect(answers.map((answer) => answer.id)).toEqual([1, 2]);
    expect(answers[0]?.result).toMatchObject({ serverInfo: { name: 'test-tools' } });
    expect(answers[1]?.result).toEqual({ content: [{ type: 'text', text: '42' }] });
  });

  it('answers a line of stdin that is not JSON with -32700, and one that is not JSON-RPC with -32600', async ({
    expect,
  }) => {
    const name = `connect/${unique('malformed')}`;
    await using _server = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName: name,
      description: 'tools for a careless script',
      createServer: () => buildToolServer('malformed'),
    });
    await using connect = cli(['mcp', 'connect', name, '--url', broker.url]);
    await connect.waitFor(/relaying stdio/, { stream: 'stderr' });
    connect.child.stdin.write('{"jsonrpc":"2.0","id":1,"method":\n');
    await connect.waitFor(/-32700/);
    connect.child.stdin.write('{"hello":"world"}\n');
    await connect.waitFor(/-32600/);
    // The session goes on: a good request after the bad lines is answered.
    const ping = { jsonrpc: '2.0', id: 7, method: 'ping' };
    connect.child.stdin.end(`${JSON.stringify(ping)}\n`);
    expect(await connect.exit).toBe(0);
    const answers = connect
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(answers[0]).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    expect(answers[1]).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } });
    expect(answers[2]).toMatchObject({ jsonrpc: '2.0', id: 7 });
    expect(connect.stderr()).toContain('a line on stdin is not a JSON-RPC message');
  });

  it('ends, saying so in one line, when the MQTT server goes away and no instance takes the session within --failover', async ({
    expect,
  }) => {
    const name = `connect/${unique('vanishing')}`;
    const server = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName: name,
      description: 'about to go',
      createServer: () => buildToolServer('vanishing'),
    });
    const host = stdioHost([name, '--url', broker.url, '--failover', '500ms']);
    await host.client.connect(host.transport);
    const closed = new Promise<void>((resolve) => {
      host.transport.onclose = () => resolve();
    });
    await server.close();
    await closed;
    expect(host.stderr()).toMatch(
      new RegExp(`mqtt-agents mcp connect: the session with '${name}' \\(instance \\S+\\) ended\\n$`),
    );
  });

  it('fails in one line when the server is not on the broker or the name is invalid', async ({ expect }) => {
    const [missing, invalid] = await Promise.all([
      cliInProcess(['mcp', 'connect', 'connect/nobody-home', '--url', broker.url, '--wait', '300ms']),
      cliInProcess(['mcp', 'connect', 'connect/+/bad', '--url', broker.url]),
    ]);
    expect(missing).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `mqtt-agents mcp connect: server 'connect/nobody-home' not found on ${broker.url}: no instance came online within 300 ms\n`,
    });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^mqtt-agents mcp connect: .*connect\/\+\/bad.*\n$/);
  });
});
