/**
 * One MCP server instance alone in its own process, for the failover benchmark's kill -9 trials
 * (bench/src/failover.ts): the benchmark SIGKILLs this process, the kernel closes its socket, and the broker
 * publishes its will. Arguments: broker URL, server name, server-id, keep-alive in seconds. Message out once
 * the instance is online: `{ type: 'ready' }`.
 */
import { serveMcpOverMqtt } from '@mqtt-agents/mcp';
import { createWhereMcpServer } from './lib/fixtures.js';

const [url, serverName, serverId, keepalive] = process.argv.slice(2) as [string, string, string, string];

const host = await serveMcpOverMqtt({
  mqtt: { url, reconnectPeriodMs: 0, keepalive: Number(keepalive) },
  serverName,
  serverId,
  description: 'bench failover instance (own process)',
  createServer: () => createWhereMcpServer(serverId),
});

process.on('disconnect', () => void host.close().then(() => process.exit(0)));
process.send?.({ type: 'ready' });
