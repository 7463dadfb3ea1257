import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { createMcpMqttClientHost, sessionRefusalReason } from '@mqtt-agents/mcp';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { cli, cliInProcess, serverEverything, unique } from './cli-process.js';

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

describe.concurrent('mqtt-agents mcp serve', { timeout: 90_000 }, () => {
  it('publishes server-everything on MQTT, one process per session, for SDK clients over MQTT', async ({
    expect,
  }) => {
    const name = `cli/${unique('everything')}`;
    await using serve = cli(['mcp', 'serve', '--url', broker.url, '--name', name, '--', ...serverEverything]);
    await serve.waitFor(/serving '.+' on mqtt:\/\/\S+ as (\S+) \(one process per session\)/);

    await using host = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['cli/#'],
    });
    const [instance] = await host.waitForServer(name, { timeoutMs: 10_000 });
    expect(instance?.description).toBe('index.js (stdio MCP server)');

    const first = new Client({ name: 'first', version: '1.0.0' });
    await host.connect(first, name);
    const second = new Client({ name: 'second', version: '1.0.0' });
    await host.connect(second, name, { dedicatedConnection: true });

    expect(first.getServerVersion()?.name).toMatch(/everything/);
    const tools = await first.listTools();
    expect(tools.tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    expect(textOf(await first.callTool({ name: 'echo', arguments: { message: 'over mqtt' } }))).toBe(
      'Echo: over mqtt',
    );
    expect(textOf(await second.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } }))).toContain('42');

    // Two sessions, two child processes.
    const pids = [...serve.stdout().matchAll(/started process (\d+)/g)].map((match) => match[1]);
    expect(new Set(pids).size).toBe(2);

    await first.close();
    await serve.waitFor(/closed\n/);
    await second.close();
    expect(await serve.stop()).toBe(0);
    // A graceful stop clears the retained presence.
    await expect.poll(() => host.instancesOf(name).length).toBe(0);
  });

  it('--shared runs one process for every session and keeps their request ids apart', async ({ expect }) => {
    const name = `cli/${unique('shared')}`;
    await using serve = cli([
      'mcp',
      'serve',
      '--shared',
      '--url',
      broker.url,
      '--name',
      name,
      '--',
      ...serverEverything,
    ]);
    await serve.waitFor(/one shared process/);
    await using host = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['cli/#'],
    });
    await host.waitForServer(name, { timeoutMs: 10_000 });
    const clients = [new Client({ name: 'a', version: '1' }), new Client({ name: 'b', version: '1' })];
    await host.connect(clients[0] as Client, name);
    await host.connect(clients[1] as Client, name, { dedicatedConnection: true });
    // Both SDK clients number their requests from the same start: the child must still answer each one.
    const answers = await Promise.all(
      [0, 1, 2, 3].map((index) =>
        (clients[index % 2] as Client).callTool({ name: 'echo', arguments: { message: `m${index}` } }),
      ),
    );
    expect(answers.map(textOf)).toEqual(['Echo: m0', 'Echo: m1', 'Echo: m2', 'Echo: m3']);
    expect(serve.stderr().match(/Starting default \(STDIO\) server/g)).toHaveLength(1);
    for (const client of clients) await client.close();
    expect(await serve.stop()).toBe(0);
  });

  it('leaves a will: a killed bridge goes offline for clients', async ({ expect }) => {
    const name = `cli/${unique('killed')}`;
    await using serve = cli([
      'mcp',
      'serve',
      '--shared',
      '--url',
      broker.url,
      '--name',
      name,
      '--',
      ...serverEverything,
    ]);
    await serve.waitFor(/serving/);
    await using host = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['cli/#'],
    });
    await host.waitForServer(name, { timeoutMs: 10_000 });
    serve.child.kill('SIGKILL');
    await serve.exit;
    await expect.poll(() => host.instancesOf(name).length, { timeout: 10_000 }).toBe(0);
  });

  it('SIGTERM drains: presence says draining, new sessions are refused, the open one is served until its client leaves, exit 0', async ({
    expect,
  }) => {
    const name = `cli/${unique('drain')}`;
    await using serve = cli([
      'mcp',
      'serve',
      '--drain-grace',
      '600000',
      '--url',
      broker.url,
      '--name',
      name,
      '--',
      ...serverEverything,
    ]);
    const [, serverId] = (await serve.waitFor(/serving '.+' on \S+ as (\S+) /)) as unknown as [
      string,
      string,
    ];
    await using host = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['cli/#'],
    });
    await host.waitForServer(name, { timeoutMs: 10_000 });
    const client = new Client({ name: 'stays', version: '1.0.0' });
    await host.connect(client, name);
    await serve.waitFor(/initialized/);

    serve.child.kill('SIGTERM');
    await serve.waitFor(/draining: 1 session open, 600000 ms to move/, { stream: 'stderr' });
    await expect.poll(() => host.instancesOf(name)[0]?.draining, { timeout: 10_000 }).toBe(true);
    const refused = await host
      .connect(new Client({ name: 'late', version: '1.0.0' }), name, {
        serverId,
        dedicatedConnection: true,
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(sessionRefusalReason(refused)).toBe('draining');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'still' } }))).toBe(
      'Echo: still',
    );

    await client.close();
    expect(await serve.exit).toBe(0);
    expect(serve.stderr()).toMatch(
      /drained: 1 of 1 sessions left by their clients, 0 closed at the deadline with 0 requests in flight/,
    );
    await expect.poll(() => host.instancesOf(name).length).toBe(0);
  });

  it('a session that stays is closed when --drain-grace runs out; a second signal exits at once', async ({
    expect,
  }) => {
    const graceName = `cli/${unique('grace')}`;
    const stuckName = `cli/${unique('stuck')}`;
    const args = (name: string, grace: string) => [
      'mcp',
      'serve',
      '--drain-grace',
      grace,
      '--url',
      broker.url,
      '--name',
      name,
      '--',
      ...serverEverything,
    ];
    await using grace = cli(args(graceName, '100'));
    await using stuck = cli(args(stuckName, '600000'));
    await Promise.all([grace.waitFor(/serving/), stuck.waitFor(/serving/)]);
    await using host = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['cli/#'],
    });
    await Promise.all([
      host.waitForServer(graceName, { timeoutMs: 10_000 }),
      host.waitForServer(stuckName, { timeoutMs: 10_000 }),
    ]);
    const first = new Client({ name: 'a', version: '1.0.0' });
    await host.connect(first, graceName);
    const second = new Client({ name: 'b', version: '1.0.0' });
    await host.connect(second, stuckName);
    await Promise.all([grace.waitFor(/initialized/), stuck.waitFor(/initialized/)]);

    grace.child.kill('SIGTERM');
    expect(await grace.exit).toBe(0);
    expect(grace.stderr()).toMatch(
      /drained: 0 of 1 sessions left by their clients, 1 closed at the deadline/,
    );

    stuck.child.kill('SIGTERM');
    await stuck.waitFor(/draining: 1 session open/, { stream: 'stderr' });
    stuck.child.kill('SIGTERM');
    expect(await stuck.exit).toBe(143);
    expect(stuck.stderr()).not.toMatch(/drained:/);
    // Its will takes the presence away.
    await expect.poll(() => host.instancesOf(stuckName).length, { timeout: 10_000 }).toBe(0);
  });

  it('fails in one line: missing name, missing command, command not found, broker unreachable', async ({
    expect,
  }) => {
    const [noName, noCommand, notFound, unreachable, badGrace] = await Promise.all([
      cliInProcess(['mcp', 'serve', '--url', broker.url, '--', 'node']),
      cliInProcess(['mcp', 'serve', '--url', broker.url, '--name', 'x/y']),
      cliInProcess([
        'mcp',
        'serve',
        '--shared',
        '--url',
        broker.url,
        '--name',
        'x/y',
        '--',
        'no-such-command-4711',
      ]),
      cliInProcess([
        'mcp',
        'serve',
        '--url',
        'mqtt://127.0.0.1:1',
        '--name',
        'x/y',
        '--',
        ...serverEverything,
      ]),
      cliInProcess(['mcp', 'serve', '--drain-grace', '1.5s', '--name', 'x/y', '--', 'node']),
    ]);
    expect(badGrace).toMatchObject({
      code: 2,
      stderr: "mqtt-agents mcp serve: invalid --drain-grace '1.5s': expected a number of milliseconds\n",
    });
    expect(noName).toMatchObject({
      code: 2,
      stderr: 'mqtt-agents mcp serve: missing --name <server-name>\n',
    });
    expect(noCommand.code).toBe(2);
    expect(noCommand.stderr).toMatch(/^mqtt-agents mcp serve: missing the server command: .*\n$/);
    expect(notFound).toMatchObject({
      code: 1,
      stderr: "mqtt-agents mcp serve: cannot start 'no-such-command-4711': command not found\n",
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(
      'mqtt-agents mcp serve: cannot reach the broker at mqtt://127.0.0.1:1: connection refused (is a broker running there? `mqtt-agents broker` starts one)\n',
    );
  });
});
