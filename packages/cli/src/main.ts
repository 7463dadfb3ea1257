import { MqttAgentsError } from '@mqtt-agents/core';
import type { Command, CommandContext } from './command.js';
import { describeError } from './errors.js';
import { splitAtDoubleDash } from './flags.js';
import { CommandError, processIo, UsageError, type CliIo } from './io.js';
import { version } from './version.js';

/** A command, loaded on demand: `mqtt-agents ls` does not load express or the MCP SDK's HTTP server. */
interface LazyCommand {
  summary: string;
  load(): Promise<Command>;
}

interface LazyGroup {
  summary: string;
  subcommands: Record<string, LazyCommand>;
}

const mcpCommands: Record<string, LazyCommand> = {
  serve: {
    summary: 'publish a stdio MCP server on MQTT',
    load: async () => (await import('./commands/mcp-serve.js')).mcpServe,
  },
  connect: {
    summary: 'a stdio MCP server that relays to an MCP server on MQTT',
    load: async () => (await import('./commands/mcp-connect.js')).mcpConnect,
  },
  http: {
    summary: 'a Streamable HTTP endpoint for every MCP server on MQTT',
    load: async () => (await import('./commands/mcp-http.js')).mcpHttp,
  },
};

const a2aCommands: Record<string, LazyCommand> = {
  send: {
    summary: 'send a message to an A2A agent and follow its task',
    load: async () => (await import('./commands/a2a-send.js')).a2aSend,
  },
  get: {
    summary: 'show a task of an A2A agent (state, status, artifacts)',
    load: async () => (await import('./commands/a2a-task.js')).a2aGet,
  },
  cancel: {
    summary: 'cancel a task of an A2A agent',
    load: async () => (await import('./commands/a2a-task.js')).a2aCancel,
  },
  http: {
    summary: 'serve the A2A agents on MQTT to HTTP clients (JSON-RPC)',
    load: async () => (await import('./commands/a2a-http.js')).a2aHttp,
  },
};

const commands: Record<string, LazyCommand | LazyGroup> = {
  broker: {
    summary: 'run the embedded MQTT 5 broker in the foreground',
    load: async () => (await import('./commands/broker.js')).broker,
  },
  passwd: {
    summary: 'add a user to a password file of the broker (scrypt hash)',
    load: async () => (await import('./commands/passwd.js')).passwd,
  },
  ls: {
    summary: 'list the MCP servers and A2A agents on the broker',
    load: async () => (await import('./commands/ls.js')).ls,
  },
  watch: {
    summary: 'watch MCP servers and A2A agents come and go',
    load: async () => (await import('./commands/ls.js')).watch,
  },
  mcp: {
    summary: 'MCP bridges: stdio servers onto MQTT, MQTT servers to stdio and Streamable HTTP hosts',
    subcommands: mcpCommands,
  },
  a2a: {
    summary:
      'A2A over MQTT: send a message to an agent, get or cancel its task, serve MQTT agents to HTTP clients',
    subcommands: a2aCommands,
  },
};

function groupHelp(name: string, group: LazyGroup): string {
  const width = Math.max(...Object.keys(group.subcommands).map((key) => key.length));
  const lines = Object.entries(group.subcommands).map(
    ([key, command]) => `  ${key.padEnd(width)}   ${command.summary}`,
  );
  return `Usage: mqtt-agents ${name} <command> [options]

${group.summary}

Commands:
${lines.join('\n')}

Run 'mqtt-agents ${name} <command> --help' for the options of a command.
`;
}

const mainHelp = `Usage: mqtt-agents <command> [options]

MCP servers and A2A agents on an MQTT 5 broker, from the command line.

Commands:
  broker            run the embedded MQTT 5 broker in the foreground
  passwd            add a user to a password file of the broker (scrypt hash)
  ls                list the MCP servers and A2A agents on the broker
  watch             watch MCP servers and A2A agents come and go
  mcp serve         publish a stdio MCP server on MQTT
  mcp connect       a stdio MCP server that relays to an MCP server on MQTT
  mcp http          a Streamable HTTP endpoint for every MCP server on MQTT
  a2a send          send a message to an A2A agent and follow its task
  a2a get           show a task of an A2A agent (state, status, artifacts)
  a2a cancel        cancel a task of an A2A agent
  a2a http          serve the A2A agents on MQTT to HTTP clients (JSON-RPC)

Options:
  --url <url>   broker url for every command (default: $MQTT_URL, else mqtt://localhost:1883)
  --help        show help for a command (mqtt-agents <command> --help)
  --version     print the version of mqtt-agents
  --debug       print stack traces on errors, and the SDK's debug log
`;

function isUsageProblem(error: unknown): boolean {
  if (error instanceof UsageError) return true;
  return (
    MqttAgentsError.isInstance(error) &&
    (error.code === 'INVALID_IDENTIFIER' ||
      error.code === 'INVALID_URL' ||
      error.code === 'INVALID_TOPIC' ||
      error.code === 'INVALID_TOPIC_FILTER')
  );
}

/** Run the CLI with the given arguments; resolves with the process exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const { before, after } = splitAtDoubleDash(argv);
  const debug = before.includes('--debug');
  const flags = before.filter((arg) => arg !== '--debug');
  const args = after === undefined ? flags : [...flags, '--', ...after];
  const [name, ...rest] = args;
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout(`${version}\n`);
    return 0;
  }
  if (name === undefined) {
    // No command is a usage error: the help goes to stderr, so a script that forgot the command sees it.
    io.stderr(mainHelp);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout(mainHelp);
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    io.stderr(`mqtt-agents: unknown command '${name}' (see mqtt-agents --help)\n`);
    return 2;
  }
  let lazy: LazyCommand;
  let label = name;
  let commandArgs = rest;
  if ('subcommands' in entry) {
    const [subName, ...subRest] = rest;
    if (subName === undefined) {
      io.stderr(groupHelp(name, entry));
      return 2;
    }
    if (subName === '--help' || subName === '-h' || subName === 'help') {
      io.stdout(groupHelp(name, entry));
      return 0;
    }
    const sub = entry.subcommands[subName];
    if (!sub) {
      io.stderr(`mqtt-agents ${name}: unknown command '${subName}' (see mqtt-agents ${name} --help)\n`);
      return 2;
    }
    lazy = sub;
    label = `${name} ${subName}`;
    commandArgs = subRest;
  } else {
    lazy = entry;
  }
  const command = await lazy.load();
  const ownFlags = splitAtDoubleDash(commandArgs).before;
  if (ownFlags.includes('--help') || ownFlags.includes('-h')) {
    io.stdout(command.help);
    return 0;
  }
  const context: CommandContext = { ...io, debug };
  try {
    return await command.run(commandArgs, context);
  } catch (error) {
    io.stderr(`mqtt-agents ${label}: ${describeError(error)}\n`);
    if (debug && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
    if (error instanceof CommandError) return error.exitCode;
    return isUsageProblem(error) ? 2 : 1;
  }
}
