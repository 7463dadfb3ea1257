import { basename } from 'node:path';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { assertServerName } from '@mqtt-agents/core';
import type { MqttConnection } from '@mqtt-agents/core';
import type { McpServerHost, McpServerLike, McpServerSession } from '@mqtt-agents/mcp';
import { DEFAULT_DRAIN_GRACE_MS, DEFAULT_MAX_SESSIONS, serveMcpOverMqtt } from '@mqtt-agents/mcp';
import { cliLogger } from '../cli-logger.js';
import type { CliLogger } from '../cli-logger.js';
import type { Command, CommandContext } from '../command.js';
import { untilAborted } from '../command.js';
import { brokerUrl, parseDuration, parseFlags, splitAtDoubleDash, urlOption } from '../flags.js';
import { CommandError, UsageError } from '../io.js';
import { ChildProcessTransport, describeSpawnError } from '../mcp/child-process-transport.js';
import { DEFAULT_START_TIMEOUT_MS, notJsonRpcReason, probeServerCommand } from '../mcp/start-probe.js';
import { RelayGroup, relayTransports } from '../mcp/relay.js';
import type { Relay } from '../mcp/relay.js';
import { SharedStdioServer } from '../mcp/shared-stdio-server.js';
import { version } from '../version.js';

/** Default most sessions in one-process-per-session mode: each session is a child process. */
const PER_SESSION_PROCESS_LIMIT = 64;

export const mcpServeHelp = `Usage: mqtt-agents mcp serve --name <server-name> [options] -- <command> [args...]

Run a stdio MCP server and publish it on MQTT under a server name: retained presence (cleared by a will
if this process dies), and JSON-RPC relayed both ways between MQTT clients and the server's stdio.
By default every MCP client session gets its own server process; --shared runs one for all sessions.

Example:
  mqtt-agents mcp serve --name tools/everything -- npx -y @modelcontextprotocol/server-everything

Options:
  --name <server-name>   hierarchical server name, e.g. factory/line-7/press (required)
  --description <text>   description in the presence (default: the command's name)
  --server-id <id>       MQTT client id of this instance (default: generated)
  --shared               one server process for every session instead of one per session
  --max-sessions <n>     refuse sessions beyond this many (default 64 with one process per session,
                         else 1000; sessions idle for 30 min are closed)
  --drain-grace <ms>     on SIGTERM or Ctrl-C, how long the sessions have to move to another instance
                         before they are closed (default ${DEFAULT_DRAIN_GRACE_MS})
  --start-timeout <duration>
                         how long the command has to answer its first initialize (default 60s): before
                         the server is announced, the command is started once and must answer, so a
                         command that cannot start fails here, and npx has fetched its package
  --url <url>            broker url (default: $MQTT_URL, else mqtt://localhost:1883)
  -h, --help             show this help

The command inherits this process's environment and working directory; its stderr is passed through.

SIGTERM or Ctrl-C drains this instance: its presence says draining, new sessions are refused (clients
go to another instance), calls in flight finish, and it exits 0 once every client left or the grace
period ran out. A second signal exits at once.
`;

const LAUNCHERS = new Set([
  'node',
  'npx',
  'npm',
  'pnpm',
  'bun',
  'bunx',
  'deno',
  'uv',
  'uvx',
  'python',
  'python3',
  'exec',
  'dlx',
  'run',
  'tsx',
]);

/** What the command runs, for the default description: the first argument that is not a launcher or flag. */
export function describeCommand(commandLine: readonly string[]): string {
  const subject =
    commandLine.find((part) => !part.startsWith('-') && !LAUNCHERS.has(basename(part))) ??
    commandLine[0] ??
    '';
  return subject.startsWith('@') ? subject : basename(subject);
}

/**
 * A session whose server could not start: the client's `initialize` (and anything after it) is answered
 * with a JSON-RPC error that says why, then the session ends. (Throwing from `connect` would leave the
 * client with a generic error, or with nothing but a closed connection.)
 */
async function refuseSession(transport: Transport, reason: string): Promise<void> {
  transport.onmessage = (message) => {
    if (!('method' in message) || !('id' in message)) return;
    void transport
      .send({ jsonrpc: '2.0', id: message.id, error: { code: -32603, message: reason } })
      .catch(() => {})
      .then(() => transport.close())
      .catch(() => {});
  };
  await transport.start();
}

/** At most this many lines of a session's stdout that are not JSON-RPC are logged; then a count. */
const NOT_JSON_LOG_LINES = 3;

/** One MCP client session served by its own child process. */
function perSessionServer(
  session: McpServerSession,
  spawn: () => ChildProcessTransport,
  context: CommandContext,
  relays: RelayGroup,
): McpServerLike {
  let relay: Relay | undefined;
  const label = `session ${session.mcpClientId}`;
  return {
    async connect(transport) {
      const child = spawn();
      try {
        await child.start();
      } catch (error) {
        const reason = describeSpawnError(child.command, error);
        context.stderr(`${label}: ${reason}\n`);
        await refuseSession(transport, reason);
        return;
      }
      let notJson = 0;
      const current = relayTransports(transport, child, {
        serverClosedMessage: () => `the server process exited before it answered: ${child.commandLine}`,
        onclose: (end) => {
          context.stdout(
            end === 'server' ? `${label}: server process exited, session closed\n` : `${label}: closed\n`,
          );
        },
        onerror: (error, side) => {
          const reason = side === 'server' ? notJsonRpcReason(error) : undefined;
          if (reason) {
            // A stdio MCP server must print nothing but JSON-RPC on stdout: say so, always.
            notJson += 1;
            if (notJson <= NOT_JSON_LOG_LINES) {
              context.stderr(`${label}: warning: the server process printed ${reason} on stdout\n`);
            } else if (notJson === NOT_JSON_LOG_LINES + 1) {
              context.stderr(`${label}: warning: more lines that are not JSON-RPC follow; not logged\n`);
            }
            // Before it answered initialize, nothing good follows: the client gets the reason now, not
            // after its timeout.
            if (!current.initialized) {
              void current.fail(
                `the server process printed ${reason} on stdout before it answered initialize: '${child.commandLine}' is not a stdio MCP server`,
              );
            }
            return;
          }
          if (context.debug) context.stderr(`${label}: ${side} error: ${error.message}\n`);
        },
      });
      relay = current;
      await relays.start(current);
      context.stdout(`${label}: started process ${child.pid ?? '?'}\n`);
    },
    async close() {
      await relay?.close();
    },
  };
}

/** Resolves when the connection is down (now, or when it drops); `cancel()` stops watching. */
function untilConnectionDown(connection: MqttConnection): { promise: Promise<void>; cancel(): void } {
  let cancel = (): void => {};
  const promise = new Promise<void>((resolve) => {
    if (!connection.connected || connection.closed) {
      resolve();
      return;
    }
    const offDrop = connection.on('connection-drop', () => resolve());
    cancel = offDrop;
  });
  return { promise, cancel: () => cancel() };
}

/** `--drain-grace <ms>`: a whole number of milliseconds, 0 or more. */
function parseDrainGrace(value: string | undefined): number {
  if (value === undefined) return DEFAULT_DRAIN_GRACE_MS;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`invalid --drain-grace '${value}': expected a number of milliseconds`);
  }
  return Number(value);
}

/** Drain the instance, saying on stderr how it goes: the sessions still open, then what became of them. */
export async function drainHost(host: McpServerHost, graceMs: number, logger: CliLogger): Promise<void> {
  const open = host.sessions.size;
  logger.notice(
    `draining: ${open} session${open === 1 ? '' : 's'} open, ${graceMs} ms to move (signal again to exit at once)`,
  );
  const stopWatching = host.on('session-close', (session) =>
    logger.notice(`draining: session ${session.mcpClientId} ended, ${host.sessions.size} still open`),
  );
  try {
    const result = await host.drain({ graceMs });
    logger.notice(
      `drained: ${result.sessionsLeftByClients} of ${result.sessionsAtStart} sessions left by their clients, ` +
        `${result.sessionsClosedAtDeadline} closed at the deadline with ${result.requestsInFlightAtDeadline} requests in flight`,
    );
  } finally {
    stopWatching();
  }
}

/** A stop signal came before the instance was serving: nothing was announced, so nothing to drain. */
function stoppedWhileStarting(context: CommandContext): number {
  context.stdout(`mqtt-agents mcp serve: shutting down (stopped before it was serving)\n`);
  return 0;
}

async function mcpServeCommand(argv: string[], context: CommandContext): Promise<number> {
  const { before, after } = splitAtDoubleDash(argv);
  const { values } = parseFlags(before, {
    options: {
      ...urlOption,
      name: { type: 'string' },
      description: { type: 'string' },
      'server-id': { type: 'string' },
      shared: { type: 'boolean' },
      'max-sessions': { type: 'string' },
      'drain-grace': { type: 'string' },
      'start-timeout': { type: 'string' },
    },
  });
  if (after === undefined || after.length === 0) {
    throw new UsageError(
      'missing the server command: mqtt-agents mcp serve --name <server-name> -- <command...>',
    );
  }
  if (values.name === undefined) throw new UsageError('missing --name <server-name>');
  const serverName = assertServerName(values.name);
  let maxSessions: number | undefined;
  if (values['max-sessions'] !== undefined) {
    maxSessions = Number(values['max-sessions']);
    if (!Number.isInteger(maxSessions) || maxSessions < 1) {
      throw new UsageError(`invalid --max-sessions '${values['max-sessions']}': expected a positive integer`);
    }
  }
  const drainGraceMs = parseDrainGrace(values['drain-grace']);
  const startTimeoutMs = parseDuration('start-timeout', values['start-timeout'], DEFAULT_START_TIMEOUT_MS);
  const url = brokerUrl(values.url, context);
  const [command, ...args] = after as [string, ...string[]];
  const commandLine = after.join(' ');
  const env = Object.fromEntries(
    Object.entries(context.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const spawn = (): ChildProcessTransport =>
    new ChildProcessTransport({ command, args, env, stderr: 'inherit' });
  const logger = cliLogger(context, 'mqtt-agents mcp serve', context.debug);

  let shared: SharedStdioServer | undefined;
  let sharedChild: ChildProcessTransport | undefined;
  let childExited: Promise<void> | undefined;
  if (values.shared) {
    sharedChild = spawn();
    shared = new SharedStdioServer(sharedChild, (error) => logger.debug(error.message));
    childExited = new Promise<void>((resolve) => {
      (sharedChild as ChildProcessTransport).onclose = () => resolve();
    });
    // A stdio MCP server must print nothing but JSON-RPC on stdout: every other line is said, not dropped.
    sharedChild.onerror = (error) => {
      const reason = notJsonRpcReason(error);
      if (reason) logger.warn(`the server process printed ${reason} on stdout`);
      else logger.debug(error.message);
    };
    try {
      await sharedChild.start();
    } catch (error) {
      throw new CommandError(describeSpawnError(command, error), { cause: error });
    }
  }

  if (!values.shared) {
    // One process per session: start the command once before announcing the server, so that a command that
    // cannot start is an error here, not a broken server for every client; and so that `npx` fetched its
    // package before the first client's session starts its own process.
    try {
      await probeServerCommand(spawn, {
        timeoutMs: startTimeoutMs,
        signal: context.signal,
        clientVersion: version,
      });
    } catch (error) {
      if (context.signal.aborted) return stoppedWhileStarting(context);
      throw new CommandError((error as Error).message, { cause: error });
    }
  }

  const relays = new RelayGroup();
  let host;
  try {
    host = await serveMcpOverMqtt({
      mqtt: { url, connectTimeoutMs: 5_000 },
      serverName,
      ...(values['server-id'] === undefined ? {} : { serverId: values['server-id'] }),
      description: values.description ?? `${describeCommand(after)} (stdio MCP server)`,
      meta: { bridge: 'mqtt-agents mcp serve', mode: values.shared ? 'shared' : 'per-session' },
      // One child process per session: a flood of initializes must not fork a thousand processes.
      maxSessions: maxSessions ?? (values.shared ? DEFAULT_MAX_SESSIONS : PER_SESSION_PROCESS_LIMIT),
      createServer: (session) =>
        shared
          ? shared.sessionServer(session.mcpClientId)
          : perSessionServer(session, spawn, context, relays),
      logger,
      signal: context.signal,
    });
  } catch (error) {
    await sharedChild?.close();
    // SIGTERM or Ctrl-C before the instance was announced (connect, subscribe): there is nothing to drain,
    // and the user asked for it: a stop, exit 0, not the failure of the aborted connect.
    if (context.signal.aborted) return stoppedWhileStarting(context);
    throw error;
  }
  logger.ready();
  host.on('session-open', (session) => context.stdout(`session ${session.mcpClientId}: initialized\n`));
  if (shared) {
    host.on('session-close', (session) => context.stdout(`session ${session.mcpClientId}: closed\n`));
  }
  context.stdout(
    `serving '${host.serverName}' on ${url} as ${host.serverId} (${values.shared ? 'one shared process' : 'one process per session'}): ${commandLine}\n`,
  );

  const stopped = untilAborted(context.signal).then(() => 'stopped' as const);
  const outcome = await Promise.race([
    stopped,
    ...(childExited ? [childExited.then(() => 'exited' as const)] : []),
  ]);
  context.stdout(`mqtt-agents mcp serve: shutting down\n`);
  // Draining and closing talk to the broker (presence, session ends). A broker that went away, at the
  // moment of the signal or during the shutdown, would keep them waiting while MQTT.js reconnects, forever:
  // stop waiting as soon as the connection is down; the will marks this instance offline.
  const brokerGone = untilConnectionDown(host.connection);
  const finished = await Promise.race([
    (async () => {
      if (outcome === 'stopped') await drainHost(host, drainGraceMs, logger);
      await host.close();
      return 'closed' as const;
    })(),
    brokerGone.promise.then(() => 'broker-gone' as const),
  ]);
  brokerGone.cancel();
  if (finished === 'broker-gone') {
    logger.notice('the broker is unreachable: not waiting for it (the will marks this instance offline)');
    void host.close().catch(() => {});
  }
  await relays.close();
  await sharedChild?.close();
  if (outcome === 'exited') {
    throw new CommandError(`the server process exited: ${commandLine}`);
  }
  return 0;
}

export const mcpServe: Command = {
  help: mcpServeHelp,
  run: mcpServeCommand,
};
