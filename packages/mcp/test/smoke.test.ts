import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '../src/index.js';
import { buildTestServer, unique } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

it('smoke: a tool call over mqtt', async () => {
  const serverName = `smoke/${unique('press')}`;
  await using server = await serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName,
    description: 'smoke',
    createServer: () => buildTestServer(),
  });
  await using clients = await createMcpMqttClientHost({ mqtt: { url: broker.url }, serverNameFilters: ['smoke/#'] });
  const client = new Client({ name: 'smoke', version: '1.0.0' });
  await clients.connect(client, serverName);
  const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
  expect(result.content).toEqual([{ type: 'text', text: 'hi' }]);
  expect(server.sessions.size).toBe(1);
  await client.close();
});
