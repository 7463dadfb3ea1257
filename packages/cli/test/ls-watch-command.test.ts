import { serveA2AOverMqtt } from '@mqtt-agents/a2a';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { serveMcpOverMqtt } from '@mqtt-agents/mcp';
import type { McpServerHost } from '@mqtt-agents/mcp';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { cli, cliInProcess, cliRun, unique } from './cli-process.js';
import { EchoExecutor, StepsExecutor, buildToolServer } from './fixtures.js';

let broker: TestBroker;
const org = unique('org');
const prefix = unique('ls');
const closers: Array<() => Promise<void>> = [];

async function mcpServer(name: string, serverId: string, roles: string[] = []): Promise<McpServerHost> {
  const host = await serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: name,
    serverId,
    description: `${name} tools`,
    ...(roles.length > 0 ? { rbac: { roles: roles.map((role) => ({ name: role })) } } : {}),
    createServer: () => buildToolServer(serverId),
  });
  closers.push(() => host.close());
  return host;
}

beforeAll(async () => {
  broker = await startTestBroker();
  // Two instances of one server, another server with roles, and two agents (one streaming).
  await mcpServer(`${prefix}/plant/press`, `${prefix}-press-1`);
  await mcpServer(`${prefix}/plant/press`, `${prefix}-press-2`);
  await mcpServer(`${prefix}/plant/camera`, `${prefix}-camera`, ['operator', 'viewer']);
  const echo = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'plant',
    agentId: 'echo',
    card: { name: 'Echo', description: 'says it back', skills: [{ id: 'echo', name: 'Echo' }] },
    executor: new EchoExecutor(),
  });
  const steps = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'plant',
    agentId: 'steps',
    card: {
      name: 'Steps',
      capabilities: { streaming: true, pushNotifications: false, extensions: [] },
      skills: [{ id: 'steps', name: 'Steps' }],
    },
    executor: new StepsExecutor(),
  });
  closers.push(
    () => echo.close(),
    () => steps.close(),
  );
});

afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await broker.close();
});

describe.concurrent('mqtt-agents ls and watch', { timeout: 90_000 }, () => {
  it('ls --json lists servers with their instances and roles, and agents with status and skills', async ({
    expect,
  }) => {
    const result = await cliRun([
      'ls',
      '--json',
      '--url',
      broker.url,
      '--filter',
      `${prefix}/plant/#`,
      '--org',
      org,
      '--unit',
      'plant',
    ]);
    expect(result.code).toBe(0);
    const listed = JSON.parse(result.stdout) as {
      mcpServers: Array<{ name: string; instances: Array<{ serverId: string }>; roles: string[] }>;
      a2aAgents: Array<Record<string, unknown>>;
    };
    expect(listed.mcpServers.map((server) => [server.name, server.instances.length, server.roles])).toEqual([
      [`${prefix}/plant/camera`, 1, ['operator', 'viewer']],
      [`${prefix}/plant/press`, 2, []],
    ]);
    expect(listed.a2aAgents).toEqual([
      expect.objectContaining({
        id: `${org}/plant/echo`,
        name: 'Echo',
        status: 'online',
        streaming: false,
        skills: [{ id: 'echo', name: 'Echo' }],
      }),
      expect.objectContaining({ id: `${org}/plant/steps`, name: 'Steps', status: 'online', streaming: true }),
    ]);
  });

  it('ls prints a table per kind', async ({ expect }) => {
    const result = await cliRun([
      'ls',
      '--url',
      broker.url,
      '--filter',
      `${prefix}/plant/#`,
      '--org',
      org,
      '--unit',
      'plant',
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('MCP servers (2)');
    expect(lines[1]).toMatch(/^ {2}NAME +INSTANCES +ROLES +DESCRIPTION$/);
    expect(lines[2]).toMatch(
      new RegExp(`^  ${prefix}/plant/camera +1 +operator,viewer +${prefix}/plant/camera tools$`),
    );
    expect(lines[3]).toMatch(new RegExp(`^  ${prefix}/plant/press +2 +- +${prefix}/plant/press tools$`));
    expect(result.stdout).toContain('A2A agents (2)');
    expect(result.stdout).toMatch(new RegExp(`${org}/plant/steps +Steps +online +steps \\(streaming\\)`));
  });

  it('watch --json reports the current state, then servers and agents as they come and go', async ({
    expect,
  }) => {
    // The watch sees the whole org; the ls tests running alongside look at unit 'plant' only.
    await using watch = cli([
      'watch',
      '--json',
      '--url',
      broker.url,
      '--filter',
      `${prefix}/#`,
      '--org',
      org,
    ]);
    await watch.waitFor(/"type":"ready"/);
    const initial = watch
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(initial.filter((event) => event.type === 'mcp-server-online')).toHaveLength(3);
    expect(initial.filter((event) => event.type === 'a2a-agent-added')).toHaveLength(2);
    expect(initial.at(-1)).toMatchObject({ type: 'ready', mcpServers: 2, a2aAgents: 2 });

    const lamp = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName: `${prefix}/night/lamp`,
      serverId: `${prefix}-lamp`,
      description: 'a lamp',
      createServer: () => buildToolServer('lamp'),
    });
    await watch.waitFor(
      new RegExp(
        `"type":"mcp-server-online","serverName":"${prefix}/night/lamp","serverId":"${prefix}-lamp"`,
      ),
    );
    await lamp.close();
    await watch.waitFor(new RegExp(`"type":"mcp-server-offline","serverName":"${prefix}/night/lamp"`));

    const late = await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org,
      unit: 'night-shift',
      agentId: 'late',
      card: { name: 'Late' },
      executor: new EchoExecutor(),
    });
    await watch.waitFor(
      new RegExp(
        `"type":"a2a-agent-added","agent":"${org}/night-shift/late","name":"Late","status":"online"`,
      ),
    );
    await late.close();
    await watch.waitFor(
      new RegExp(
        `"type":"a2a-agent-updated","agent":"${org}/night-shift/late","name":"Late","status":"offline"`,
      ),
    );
    expect(await watch.stop()).toBe(0);
  });

  it('watch prints one line per change when stdout is not a terminal', async ({ expect }) => {
    await using watch = cli([
      'watch',
      '--url',
      broker.url,
      '--filter',
      `${prefix}/plant/camera`,
      '--org',
      org,
      '--unit',
      'nobody',
    ]);
    await watch.waitFor(/watching mqtt:\/\/\S+: 1 MCP server, 0 A2A agents \(Ctrl-C to stop\)/);
    expect(watch.stdout()).toMatch(
      new RegExp(
        `\\d\\d:\\d\\d:\\d\\d \\+ mcp  ${prefix}/plant/camera  \\(instance ${prefix}-camera online\\)  ${prefix}/plant/camera tools`,
      ),
    );
  });

  it('fails in one line when the broker cannot be reached or a flag is wrong', async ({ expect }) => {
    const [unreachable, badUrl, unitOnly] = await Promise.all([
      cliInProcess(['ls', '--url', 'mqtt://127.0.0.1:1']),
      cliInProcess(['watch', '--url', 'http://example.com']),
      cliInProcess(['ls', '--url', broker.url, '--unit', 'x']),
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(
      /^mqtt-agents ls: cannot reach the broker at mqtt:\/\/127\.0\.0\.1:1: connection refused.*\n$/,
    );
    expect(badUrl).toMatchObject({
      code: 2,
      stderr:
        "mqtt-agents watch: invalid --url 'http://example.com': expected an mqtt://, mqtts://, ws:// or wss:// url\n",
    });
    expect(unitOnly).toMatchObject({ code: 2, stderr: 'mqtt-agents ls: --unit needs --org\n' });
  });
});
