import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { MqttAgentsError, assertServerName } from '@mqtt-agents/core';
import { createMcpMqttClientHost } from '@mqtt-agents/mcp';
import { cliLogger } from '../cli-logger.js';
import { failoverHelp, parseFailover } from '../mcp/failover-flag.js';
import type { Command, CommandContext } from '../command.js';
import { brokerUrl, parseDuration, parseFlags, urlOption } from '../flags.js';
import { CommandError, UsageError } from '../io.js';
import { malformedLineAnswer } from '../mcp/malformed-line.js';
import { relayTransports } from '../mcp/relay.js';
import type { RelayEnd } from '../mcp/relay.js';

export const mcpConnectHelp = `Usage: mqtt-agents mcp connect <server-name> [options]

A stdio MCP server that relays to an MCP server on MQTT: point any stdio host (Claude Desktop, an IDE,
the MCP Inspector) at this command and it talks to the server discovered on the broker. JSON-RPC goes
on stdout; messages for humans go to stderr. Ends when stdin closes.

Example (Claude Desktop's claude_desktop_config.json):
  { "mcpServers": { "press": { "command": "mqtt-agents",
      "args": ["mcp", "connect", "factory/line-7/press", "--url", "mqtt://broker:1883"] } } }

Options:
  --server-id <id>       talk to this instance (default: a random online instance)
  --wait <duration>      how long to wait for the server to come online (default 10s)
${failoverHelp}
  --url <url>            broker url (default: $MQTT_URL, else mqtt://localhost:1883)
  -h, --help             show this help
`;

async function mcpConnectCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    allowPositionals: true,
    options: {
      ...urlOption,
      'server-id': { type: 'string' },
      wait: { type: 'string' },
      failover: { type: 'string' },
    },
  });
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'missing <server-name>'
        : `expected one <server-name>, got ${positionals.length}`,
    );
  }
  const serverName = assertServerName(positionals[0] as string);
  const wait = parseDuration('wait', values.wait, 10_000);
  const url = brokerUrl(values.url, context);
  const prefix = 'mqtt-agents mcp connect';

  const logger = cliLogger(context, prefix, context.debug);
  const host = await createMcpMqttClientHost({
    mqtt: { url, connectTimeoutMs: 5_000 },
    serverNameFilters: [serverName],
    // A stdio host may sit idle for hours; server hosts close sessions silent for 30 min by default.
    healthCheck: { intervalMs: 5 * 60_000, timeoutMs: 60_000 },
    failover: parseFailover(values.failover),
    logger,
    signal: context.signal,
  });
  logger.ready();
  try {
    try {
      await host.waitForServer(serverName, { timeoutMs: wait, signal: context.signal });
    } catch (error) {
      if (MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT')) {
        throw new CommandError(
          `server '${serverName}' not found on ${url}: no instance came online within ${wait} ms`,
        );
      }
      throw error;
    }
    const { stdin, stdoutStream } = context;
    if (!stdin || !stdoutStream) throw new CommandError('mcp connect needs the process stdin and stdout');
    const mqttTransport = await host.createTransport(serverName, {
      ...(values['server-id'] === undefined ? {} : { serverId: values['server-id'] }),
      signal: context.signal,
    });
    const stdio = new StdioServerTransport(stdin, stdoutStream);
    const relay = relayTransports(stdio, mqttTransport, {
      onerror: (error, side) => {
        // A line on stdin that is not a JSON-RPC message: the SDK drops it, the host gets its answer.
        const answer = side === 'client' ? malformedLineAnswer(error) : undefined;
        if (answer) {
          context.stderr(`${prefix}: a line on stdin is not a JSON-RPC message: ${error.message}\n`);
          stdio.send(answer).catch(() => {});
          return;
        }
        if (context.debug) context.stderr(`${prefix}: ${side} error: ${error.message}\n`);
      },
    });
    await relay.start();
    context.stderr(
      `${prefix}: relaying stdio to '${serverName}' (instance ${mqttTransport.serverId}) on ${url}\n`,
    );
    const ended = new Promise<RelayEnd | 'stdin' | 'signal'>((resolve) => {
      stdin.once('end', () => resolve('stdin'));
      stdin.once('close', () => resolve('stdin'));
      context.signal.addEventListener('abort', () => resolve('signal'), { once: true });
      void relay.closed.then(resolve);
    });
    const end = await ended;
    // stdin closed right after the last request (a pipe, a script): let the answers come back first.
    if (end === 'stdin') await relay.drain(5_000);
    await relay.close();
    if (end === 'server') {
      throw new CommandError(`the session with '${serverName}' (instance ${mqttTransport.serverId}) ended`);
    }
    return 0;
  } finally {
    await host.close();
  }
}

export const mcpConnect: Command = {
  help: mcpConnectHelp,
  run: mcpConnectCommand,
};
