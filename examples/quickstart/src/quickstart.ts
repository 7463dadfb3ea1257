// quickstart.ts: an MQTT 5 broker, an MCP server a client discovers and calls, and an A2A exchange.
// Run it with `npx tsx quickstart.ts` (TypeScript 5.2 or later for `await using`).
import { Role } from '@a2a-js/sdk';
import type { Message } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { discoverAgents, mqttTransportFactory, serveA2AOverMqtt } from '@mqtt-agents/a2a';
import { startBroker } from '@mqtt-agents/broker';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '@mqtt-agents/mcp';
import { z } from 'zod';

// 1. A broker: the embedded one, on a free port. With your own, use { url: 'mqtt://localhost:1883' }.
await using broker = await startBroker();
const mqtt = { url: broker.url };

// 2. An MCP server on the broker: it announces itself with a retained presence.
await using press = await serveMcpOverMqtt({
  mqtt,
  serverName: 'factory/line-7/press',
  description: 'Press controls',
  createServer: () => {
    const server = new McpServer({ name: 'press', version: '1.0.0' });
    server.registerTool(
      'stop',
      { description: 'Stop the press', inputSchema: { reason: z.string() } },
      async ({ reason }) => ({ content: [{ type: 'text', text: `stopped: ${reason}` }] }),
    );
    return server;
  },
});
console.log(`serving factory/line-7/press as ${press.serverId}`);

// 3. An MCP client discovers the servers under factory/, connects an ordinary SDK Client, calls a tool.
await using clients = await createMcpMqttClientHost({ mqtt, serverNameFilters: ['factory/#'] });
let found: string | undefined;
for await (const change of clients.discover({ signal: AbortSignal.timeout(10_000) })) {
  if (change.type !== 'online') continue;
  console.log(`discovered ${change.server.serverName}: ${change.server.description}`);
  found = change.server.serverName;
  break;
}
if (found === undefined) throw new Error('no MCP server came online');
const client = new Client({ name: 'quickstart', version: '1.0.0' });
await clients.connect(client, found);
const { tools } = await client.listTools();
console.log(`tools: ${tools.map((tool) => tool.name).join(', ')}`);
const result = await client.callTool({ name: 'stop', arguments: { reason: 'jam' } });
console.log('stop ->', result.content);
await client.close();

// 4. An A2A agent: an ordinary @a2a-js/sdk executor, its Agent Card retained on the broker.
const message = (role: Role, text: string, contextId = ''): Message => ({
  messageId: crypto.randomUUID(),
  role,
  parts: [
    { content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: undefined },
  ],
  contextId,
  taskId: '',
  metadata: undefined,
  extensions: [],
  referenceTaskIds: [],
});
const executor: AgentExecutor = {
  async execute(context, bus) {
    const [part] = context.userMessage.parts;
    const asked = part?.content?.$case === 'text' ? part.content.value : '?';
    bus.publish(AgentEvent.message(message(Role.ROLE_AGENT, `planned: ${asked}`, context.contextId)));
    bus.finished();
  },
  async cancelTask() {},
};
await using planner = await serveA2AOverMqtt({
  mqtt,
  org: 'com.acme',
  unit: 'plant-1',
  agentId: 'planner',
  card: { name: 'Planner' },
  executor,
});

// 5. A requester discovers the card and talks to the agent with the official A2A client.
await using agents = await discoverAgents({ mqtt, org: 'com.acme', unit: 'plant-1' });
const { card } = await agents.waitFor('planner', { online: true, timeoutMs: 10_000 });
await using transports = mqttTransportFactory({ mqtt, org: 'com.acme', unit: 'plant-1', agentId: 'ui' });
const a2a = await new ClientFactory({ transports: [transports] }).createFromAgentCard(card);
const answer = await a2a.sendMessage({
  tenant: '',
  message: message(Role.ROLE_USER, 'a die change on line 7'),
  configuration: undefined,
  metadata: undefined,
});
const reply = 'parts' in answer ? answer.parts[0]?.content : undefined;
console.log(`${planner.clientId} says: ${reply?.$case === 'text' ? reply.value : JSON.stringify(answer)}`);
// Leaving the module closes everything `await using` holds, in reverse order.
