// Many sessions at once: 100 concurrent client sessions on one server host, each with its own SDK server
// object, no cross-talk, one coalesced capability notification for all of them, and a clean shutdown.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '../src/index.js';
import { RawPeer, buildTestServer, json, unique } from './helpers.js';

const SESSIONS = 100;
let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

it(`${SESSIONS} concurrent client sessions on one server host`, { timeout: 60_000 }, async () => {
  const servers: McpServer[] = [];
  await using host = await serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `scale/${unique('press')}`,
    description: 'many sessions',
    createServer: () => {
      const server = buildTestServer();
      servers.push(server);
      return server;
    },
  });
  const observer = await RawPeer.connect(broker.url);
  await observer.subscribe(`$mcp-server/capability/${host.serverId}/${host.serverName}`);
  await using clients = await createMcpMqttClientHost({
    mqtt: { url: broker.url },
    serverNameFilters: ['scale/#'],
  });
  await clients.waitForServer(host.serverName);

  // Each session gets its own connection (its own mcp-client-id), all opened at once.
  const sessions = await Promise.all(
    Array.from({ length: SESSIONS }, async (_, index) => {
      const client = new Client({ name: `client-${index}`, version: '1.0.0' });
      let listChanged = 0;
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
      const transport = await clients.connect(client, host.serverName, { dedicatedConnection: true });
      return { client, transport, listChanged: () => listChanged };
    }),
  );
  expect(host.sessions.size).toBe(SESSIONS);
  expect(servers).toHaveLength(SESSIONS);

  // Concurrent calls, each answered on its own session.
  const results = await Promise.all(
    sessions.map(async ({ client, transport }, index) => {
      const [echo, whoami] = await Promise.all([
        client.callTool({ name: 'echo', arguments: { text: `message ${index}` } }),
        client.callTool({ name: 'whoami', arguments: {} }),
      ]);
      return { echo: echo.content, whoami: whoami.content, id: transport.mcpClientId, index };
    }),
  );
  for (const result of results) {
    expect(result.echo).toEqual([{ type: 'text', text: `message ${result.index}` }]);
    expect(result.whoami).toEqual([{ type: 'text', text: result.id }]);
  }

  // One tool added on every session's server: one publish, every client told.
  for (const server of servers)
    server.registerTool('late', { description: 'late' }, async () => ({ content: [] }));
  await expect
    .poll(() => sessions.every((session) => session.listChanged() === 1), { timeout: 10_000 })
    .toBe(true);
  await host.notifyPromptListChanged();
  await observer.next((message) => json(message)?.method === 'notifications/prompts/list_changed');
  expect(
    observer.messages.filter((message) => json(message)?.method === 'notifications/tools/list_changed'),
  ).toHaveLength(1);

  await Promise.all(sessions.map(({ client }) => client.close()));
  await expect.poll(() => host.sessions.size, { timeout: 10_000 }).toBe(0);
  await observer.close();
});
