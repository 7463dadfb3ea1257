import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { serveMcpOverMqtt } from '@mqtt-agents/mcp';
import type { McpServerHost } from '@mqtt-agents/mcp';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { cli, unique } from './cli-process.js';
import type { CliProcess } from './cli-process.js';
import { buildToolServer } from './fixtures.js';

let broker: TestBroker;
let bridge: CliProcess;
let baseUrl: string;
const servers: McpServerHost[] = [];
const prefix = unique('http');

function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((part) => part.text ?? '').join('');
}

async function serve(name: string, instance: string): Promise<McpServerHost> {
  const host = await serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: name,
    serverId: instance,
    description: `tools (${instance})`,
    createServer: () => buildToolServer(instance),
  });
  servers.push(host);
  return host;
}

function httpClient(path: string): { client: Client; transport: StreamableHTTPClientTransport } {
  return {
    client: new Client({ name: 'http-client', version: '1.0.0' }),
    transport: new StreamableHTTPClientTransport(new URL(path, baseUrl)),
  };
}

beforeAll(async () => {
  broker = await startTestBroker();
  await serve(`${prefix}/tools`, `${prefix}-a`);
  bridge = cli([
    'mcp',
    'http',
    '--port',
    '0',
    '--url',
    broker.url,
    '--filter',
    `${prefix}/#`,
    '--failover',
    'off',
  ]);
  baseUrl = (await bridge.waitFor(/listening on (http:\/\/\S+),/))[1] as string;
  await bridge.waitFor(/\+ \S+\/mcp\/\S+\/tools/);
}, 60_000);

afterAll(async () => {
  await bridge?.stop();
  await Promise.all(servers.map((server) => server.close()));
  await broker?.close();
});

describe.concurrent('mqtt-agents mcp http', { timeout: 30_000 }, () => {
  it('lets the SDK Streamable HTTP client use an MQTT server: tools, progress, one session per client', async ({
    expect,
  }) => {
    const { client, transport } = httpClient(`/mcp/${prefix}/tools`);
    await client.connect(transport);
    const sessionId = transport.sessionId;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(client.getServerVersion()).toMatchObject({ name: 'test-tools' });
    const tools = await client.listTools();
    expect(tools.tools.map((tool) => tool.name).sort()).toEqual(['add', 'count', 'whoami']);
    expect(textOf(await client.callTool({ name: 'add', arguments: { a: 20, b: 22 } }))).toBe('42');

    const progress: number[] = [];
    const counted = await client.callTool({ name: 'count', arguments: { n: 3 } }, undefined, {
      onprogress: (update) => progress.push(update.progress),
    });
    expect(textOf(counted)).toBe('counted to 3');
    expect(progress).toEqual([1, 2, 3]);

    // A second HTTP client gets a session of its own with the same MQTT server instance.
    const other = httpClient(`/mcp/${prefix}/tools`);
    await other.client.connect(other.transport);
    expect(other.transport.sessionId).not.toBe(transport.sessionId);
    expect(textOf(await other.client.callTool({ name: 'whoami', arguments: {} }))).toBe(`${prefix}-a`);
    await other.transport.terminateSession();
    await other.client.close();
    await transport.terminateSession();
    await client.close();
    await bridge.waitFor(new RegExp(`session ${sessionId}: closed`));
  });

  it('lists the servers it bridges at GET /mcp, with their HTTP urls', async ({ expect }) => {
    const response = await fetch(new URL('/mcp', baseUrl));
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      servers: Array<{ name: string; url: string; instances: unknown[] }>;
    };
    expect(body.servers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: `${prefix}/tools`,
          url: `${baseUrl}/mcp/${prefix}/tools`,
          instances: [expect.objectContaining({ serverId: `${prefix}-a` })],
        }),
      ]),
    );
  });

  it('answers 404 for a server that is not on the broker, and for an unknown session', async ({ expect }) => {
    const { client, transport } = httpClient(`/mcp/${prefix}/nothing-here`);
    await expect(client.connect(transport)).rejects.toThrow(/404|not found|no MCP server/i);
    const unknown = await fetch(new URL(`/mcp/${prefix}/tools`, baseUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': 'no-such-session',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(unknown.status).toBe(404);
  });

  it('follows presence: a server that comes online gets an endpoint, one that stops ends its sessions', async ({
    expect,
  }) => {
    const name = `${prefix}/late`;
    const late = await serve(name, `${prefix}-late`);
    await bridge.waitFor(new RegExp(`\\+ \\S+/mcp/${name} `));
    const { client, transport } = httpClient(`/mcp/${name}`);
    await client.connect(transport);
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toBe(`${prefix}-late`);
    const closed = new Promise<void>((resolve) => {
      client.onclose = () => resolve();
    });
    await late.close();
    await bridge.waitFor(new RegExp(`- \\S+/mcp/${name} `));
    await bridge.waitFor(new RegExp(`session ${transport.sessionId}: closed by the server`));
    // The next request on the dead session is refused; the client learns it has to start over.
    await expect(client.callTool({ name: 'whoami', arguments: {} })).rejects.toThrow();
    await client.close();
    await closed;
  });
});
