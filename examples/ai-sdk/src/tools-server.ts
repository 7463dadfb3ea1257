// The MCP server the agents use: a stock lookup for a factory store, served over MQTT with the official
// MCP SDK's McpServer. Nothing here knows about an AI framework.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { serveMcpOverMqtt } from '@mqtt-agents/mcp';
import type { McpServerHost } from '@mqtt-agents/mcp';
import { z } from 'zod';

export const STORE_SERVER_NAME = 'factory/line-7/store';

const STOCK: Record<string, { count: number; shelf: string }> = {
  'P-102': { count: 42, shelf: 'B3' },
  'P-205': { count: 0, shelf: 'C1' },
};

/** A served store: the MQTT host, and every `stock` call the server ran (for the narration and the tests). */
export interface ServedStore {
  host: McpServerHost;
  calls: string[];
}

/** Serve the store over MQTT: one MQTT connection, one SDK server per client session. */
export async function serveStore(options: { url: string; serverId?: string }): Promise<ServedStore> {
  const calls: string[] = [];
  const host = await serveMcpOverMqtt({
    mqtt: { url: options.url },
    serverName: STORE_SERVER_NAME,
    ...(options.serverId ? { serverId: options.serverId } : {}),
    description: 'Spare parts store of line 7: stock levels by part number',
    createServer: () => {
      const server = new McpServer({ name: 'store', version: '1.0.0' });
      server.registerTool(
        'stock',
        {
          description: 'How many of a spare part are in stock, and on which shelf',
          inputSchema: { part: z.string().describe('the part number, e.g. P-102') },
        },
        async ({ part }) => {
          calls.push(part);
          const entry = STOCK[part];
          const text = entry
            ? `${part}: ${entry.count} in stock on shelf ${entry.shelf}`
            : `${part}: unknown part`;
          return { content: [{ type: 'text', text }] };
        },
      );
      return server;
    },
  });
  return { host, calls };
}
