import { randomUUID } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  hostHeaderValidation,
  localhostHostValidation,
} from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { isValidIdentifier } from '@mqtt-agents/core';
import { createMcpMqttClientHost } from '@mqtt-agents/mcp';
import express from 'express';
import type { Request, Response } from 'express';
import { cliLogger } from '../cli-logger.js';
import { failoverHelp, parseFailover } from '../mcp/failover-flag.js';
import type { Command, CommandContext } from '../command.js';
import { serveUntilAborted } from '../command.js';
import { mcpServerEntry } from '../discovery/inventory.js';
import { brokerUrl, listenAddress, listenOptions, parseFlags, urlOption } from '../flags.js';
import { listen } from '../http/listen.js';
import { RelayGroup, relayTransports } from '../mcp/relay.js';
import type { Relay } from '../mcp/relay.js';

export const mcpHttpHelp = `Usage: mqtt-agents mcp http [options]

Serve every MCP server discovered on MQTT over Streamable HTTP, at /mcp/<server-name>, so HTTP-only MCP
clients (and test suites) reach MQTT servers. Each HTTP session is one MCP session with one instance of
the server, on an MQTT connection of its own. GET /mcp lists the servers.

Example:
  mqtt-agents mcp http --port 3000
  # then point an MCP client at http://127.0.0.1:3000/mcp/factory/line-7/press

Options:
  --port <port>          HTTP port (default 3000; 0 picks a free one)
  --host <host>          interface to listen on (default 127.0.0.1)
  --allowed-host <name>  accepted Host header (repeatable); default: localhost names when --host is local
  --filter <filter>      only servers matching this server name filter (default '#')
${failoverHelp}
  --url <url>            broker url (default: $MQTT_URL, else mqtt://localhost:1883)
  -h, --help             show this help
`;

function jsonRpcError(response: Response, status: number, code: number, message: string): void {
  if (response.headersSent) return;
  response.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

interface HttpSession {
  serverName: string;
  transport: StreamableHTTPServerTransport;
  relay: Relay;
}

async function mcpHttpCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values } = parseFlags(argv, {
    options: {
      ...urlOption,
      ...listenOptions,
      'allowed-host': { type: 'string', multiple: true },
      filter: { type: 'string' },
      failover: { type: 'string' },
    },
  });
  const { port, host: bindHost } = listenAddress(values, 3000);
  const url = brokerUrl(values.url, context);
  const prefix = 'mqtt-agents mcp http';
  const logger = cliLogger(context, prefix, context.debug);

  const host = await createMcpMqttClientHost({
    mqtt: { url, connectTimeoutMs: 5_000 },
    serverNameFilters: [values.filter ?? '#'],
    failover: parseFailover(values.failover),
    logger,
    signal: context.signal,
  });
  logger.ready();
  const sessions = new Map<string, HttpSession>();
  const relays = new RelayGroup();
  let baseUrl = '';

  const app = express();
  app.disable('x-powered-by');
  if (values['allowed-host']) app.use(hostHeaderValidation(values['allowed-host']));
  else if (['127.0.0.1', 'localhost', '::1'].includes(bindHost)) app.use(localhostHostValidation());
  app.use(express.json({ limit: '16mb' }));

  app.get('/mcp', (_request, response) => {
    const servers = [...host.servers()]
      .filter(([, instances]) => instances.length > 0)
      .map(([name, instances]) => ({ ...mcpServerEntry(name, instances), url: `${baseUrl}/mcp/${name}` }))
      .sort((a, b) => a.name.localeCompare(b.name));
    response.json({ servers });
  });

  app.all('/mcp/{*serverName}', async (request: Request, response: Response) => {
    const serverName = decodeURIComponent(request.path.slice('/mcp/'.length).replace(/\/+$/, ''));
    if (!isValidIdentifier('server-name', serverName)) {
      jsonRpcError(response, 404, -32001, `invalid server name '${serverName}'`);
      return;
    }
    const sessionId = request.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      if (!session || session.serverName !== serverName) {
        jsonRpcError(response, 404, -32001, 'session not found: initialize a new session');
        return;
      }
      await session.transport.handleRequest(request, response, request.body);
      return;
    }
    if (request.method !== 'POST' || !isInitializeRequest(request.body)) {
      jsonRpcError(
        response,
        400,
        -32000,
        'bad request: no mcp-session-id header, and not an initialize request',
      );
      return;
    }
    if (host.instancesOf(serverName).length === 0) {
      jsonRpcError(response, 404, -32001, `no MCP server '${serverName}' is online on ${url}`);
      return;
    }
    let mqttTransport;
    try {
      mqttTransport = await host.createTransport(serverName, {
        dedicatedConnection: true,
        waitTimeoutMs: 2_000,
      });
    } catch (error) {
      jsonRpcError(response, 502, -32603, `cannot reach server '${serverName}': ${(error as Error).message}`);
      return;
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { serverName, transport, relay });
        context.stdout(`session ${id}: ${serverName} (instance ${mqttTransport.serverId})\n`);
      },
    });
    const relay = relayTransports(transport, mqttTransport, {
      onclose: (end) => {
        const id = transport.sessionId;
        if (id !== undefined && sessions.get(id)?.transport === transport) {
          sessions.delete(id);
          context.stdout(`session ${id}: closed${end === 'server' ? ' by the server' : ''}\n`);
        }
      },
      onerror: (error, side) => {
        if (context.debug) context.stderr(`${prefix}: ${side} error: ${error.message}\n`);
      },
    });
    try {
      await relays.start(relay);
    } catch (error) {
      jsonRpcError(response, 502, -32603, `cannot reach server '${serverName}': ${(error as Error).message}`);
      return;
    }
    await transport.handleRequest(request, response, request.body);
  });

  let http;
  try {
    http = await listen(app, bindHost, port);
  } catch (error) {
    await host.close();
    throw error;
  }
  baseUrl = http.baseUrl;
  context.stdout(`mqtt-agents mcp http listening on ${baseUrl}, relaying to MCP servers on ${url}\n`);
  const discovery = (async () => {
    for await (const change of host.discover({ signal: context.signal })) {
      const name = change.server.serverName;
      context.stdout(
        change.type === 'online'
          ? `+ ${baseUrl}/mcp/${name}  (instance ${change.server.serverId} online)\n`
          : `- ${baseUrl}/mcp/${name}  (instance ${change.server.serverId} offline)\n`,
      );
    }
  })();

  return serveUntilAborted(context, 'mcp http', [relays, http, host], discovery);
}

export const mcpHttp: Command = {
  help: mcpHttpHelp,
  run: mcpHttpCommand,
};
