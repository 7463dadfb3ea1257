// An MCP server host in its own process, for resource ceilings measured from outside (RSS from the OS, not
// the test runner's heap). Started by mcp-sessions.test.ts:
//
//   mcp-server-child.ts <broker url> <server name> <options as JSON>
//
// Prints one JSON line `{ serverId, serverName }` once it serves, then answers every line on stdin:
// `stats` -> `{ sessions, rss, heapUsed }` (after a full GC), `close` -> closes the host and exits.
import { createInterface } from 'node:readline';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { serveMcpOverMqtt } from '@mqtt-agents/mcp';
import type { ServeMcpOverMqttOptions } from '@mqtt-agents/mcp';

const [url, serverName, optionsText] = process.argv.slice(2) as [string, string, string];
const extra = JSON.parse(optionsText) as Partial<ServeMcpOverMqttOptions>;

const host = await serveMcpOverMqtt({
  mqtt: { url },
  serverName,
  description: 'a server under a session flood',
  createServer: () => {
    const server = new McpServer({ name: 'flooded', version: '1.0.0' });
    server.registerTool('echo', { description: 'echo' }, async () => ({ content: [] }));
    return server;
  },
  ...extra,
});

function stats(): Record<string, number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let pass = 0; pass < 3; pass++) gc?.();
  const memory = process.memoryUsage();
  return { sessions: host.sessions.size, rss: memory.rss, heapUsed: memory.heapUsed };
}

process.stdout.write(`${JSON.stringify({ serverId: host.serverId, serverName: host.serverName })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stats') process.stdout.write(`${JSON.stringify(stats())}\n`);
  if (line === 'close') break;
}
await host.close();
process.exit(0);
