import type { AgentRegistryChange } from '@mqtt-agents/a2a';
import { printable } from '@mqtt-agents/core';
import type { McpServerChange } from '@mqtt-agents/mcp';
import { cliLogger } from '../cli-logger.js';
import type { Command, CommandContext } from '../command.js';
import { untilAborted } from '../command.js';
import { formatInventory } from '../discovery/format.js';
import { a2aAgentEntry, openInventory } from '../discovery/inventory.js';
import type { Inventory } from '../discovery/inventory.js';
import { brokerUrl, parseDuration, parseFlags, urlOption } from '../flags.js';
import { UsageError } from '../io.js';

const filterOptions = `  --url <url>          broker url (default: $MQTT_URL, else mqtt://localhost:1883)
  --filter <filter>    MCP server name filter, e.g. 'factory/#' (default '#': every server)
  --org <org>          only A2A agents of this org
  --unit <unit>        only A2A agents of this unit (with --org)
  --json               machine-readable output`;

export const lsHelp = `Usage: mqtt-agents ls [options]

List the MCP servers (name, instances, roles, description) and A2A agents (org/unit/agent, name,
status, skills) currently on the broker, from their retained presence and agent cards.

Options:
${filterOptions}
  --wait <duration>    keep collecting this long after the retained messages arrived (default 0)
  -h, --help           show this help
`;

export const watchHelp = `Usage: mqtt-agents watch [options]

Watch MCP servers and A2A agents come and go. On a terminal the ls view comes first, then one line per
change, appended (a server that came and went within a second stays on the screen); otherwise every
server and agent already there is one line, then one line per change (with --json, one JSON object per
line, starting with the current state and a {"type":"ready"} line). A lost broker connection and the
reconnect are lines too. Stops with Ctrl-C.

Options:
${filterOptions}
  -h, --help           show this help
`;

const options = {
  ...urlOption,
  filter: { type: 'string' },
  org: { type: 'string' },
  unit: { type: 'string' },
  json: { type: 'boolean' },
} as const;

async function open(
  values: { url?: string; filter?: string; org?: string; unit?: string },
  context: CommandContext,
  prefix: string,
): Promise<Inventory> {
  if (values.unit !== undefined && values.org === undefined) {
    throw new UsageError('--unit needs --org');
  }
  const logger = cliLogger(context, prefix, context.debug);
  const inventory = await openInventory({
    url: brokerUrl(values.url, context),
    serverNameFilter: values.filter ?? '#',
    org: values.org,
    unit: values.unit,
    logger,
    signal: context.signal,
  });
  logger.ready();
  return inventory;
}

async function lsCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values } = parseFlags(argv, { options: { ...options, wait: { type: 'string' } } });
  const wait = parseDuration('wait', values.wait, 0);
  const inventory = await open(values, context, 'mqtt-agents ls');
  try {
    await inventory.sync();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const snapshot = inventory.snapshot();
    context.stdout(values.json ? `${JSON.stringify(snapshot, null, 2)}\n` : formatInventory(snapshot));
  } finally {
    await inventory.close();
  }
  return 0;
}

function clock(): string {
  return new Date().toISOString().slice(11, 19);
}

function mcpChangeEvent(change: McpServerChange): Record<string, unknown> {
  return {
    type: change.type === 'online' ? 'mcp-server-online' : 'mcp-server-offline',
    serverName: change.server.serverName,
    serverId: change.server.serverId,
    description: change.server.description,
  };
}

function a2aChangeEvent(change: AgentRegistryChange): Record<string, unknown> {
  switch (change.type) {
    case 'added':
    case 'updated': {
      const entry = a2aAgentEntry(change.agent);
      return { type: `a2a-agent-${change.type}`, agent: entry.id, name: entry.name, status: entry.status };
    }
    case 'removed':
      return { type: 'a2a-agent-removed', agent: change.key };
    case 'invalid':
      return { type: 'a2a-agent-invalid', agent: change.key, reason: change.reason };
  }
}

function mcpChangeLine(change: McpServerChange): string {
  const server = change.server;
  const description =
    change.type === 'online' && server.description ? `  ${printable(server.description)}` : '';
  return `${clock()} ${change.type === 'online' ? '+' : '-'} mcp  ${printable(server.serverName)}  (instance ${printable(server.serverId)} ${change.type})${description}`;
}

/** Names, keys and reasons come from the wire: each line is escaped (one line, no terminal escapes). */
function a2aChangeLine(change: AgentRegistryChange): string {
  const key = printable(change.key);
  switch (change.type) {
    case 'added':
      return `${clock()} + a2a  ${key}  ${printable(change.agent.card.name)} (${printable(change.agent.status)})`;
    case 'updated':
      return `${clock()} ~ a2a  ${key}  ${printable(change.agent.card.name)} (${printable(change.agent.status)})`;
    case 'removed':
      return `${clock()} - a2a  ${key}  (card removed)`;
    case 'invalid':
      return `${clock()} ! a2a  ${key}  invalid card: ${printable(change.reason)}`;
  }
}

/** `1 MCP server`, `2 MCP servers`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

async function watchCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values } = parseFlags(argv, { options });
  const inventory = await open(values, context, 'mqtt-agents watch');
  const url = brokerUrl(values.url, context);
  // On a terminal: the ls view once, then the changes appended below it. (Redrawing the view on every
  // change made a server that came and went between two redraws invisible.)
  const mode = values.json ? 'json' : context.isTTY ? 'screen' : 'lines';
  // What is already there comes first, sorted (MCP servers, then agents); then changes as they happen. On a
  // terminal the view shows what is already there, so those lines are not printed.
  let initial: Array<{ order: string; output: string }> | undefined = [];
  const changed = (order: string, event: Record<string, unknown>, line: string): void => {
    const output = mode === 'json' ? `${JSON.stringify(event)}\n` : `${line}\n`;
    if (initial) initial.push({ order, output });
    else context.stdout(output);
  };
  // The broker connection: lost (MQTT.js reconnects by itself) and back. Discovery resubscribes on its
  // own; what changed meanwhile arrives as ordinary changes.
  const connection = inventory.mcp.connection;
  let lost = false;
  const offDrop = connection.on('connection-drop', (info) => {
    if (lost || !info.willReconnect) return;
    lost = true;
    const reason = info.error ? `: ${printable(info.error.message)}` : '';
    changed(
      '',
      { type: 'disconnected', broker: url, ...(info.error ? { reason: info.error.message } : {}) },
      `${clock()} ! connection to ${url} lost${reason}; reconnecting`,
    );
  });
  const offOpen = connection.on('connection-open', () => {
    if (!lost) return;
    lost = false;
    changed('', { type: 'reconnected', broker: url }, `${clock()} reconnected to ${url}`);
  });
  const loops = [
    (async () => {
      for await (const change of inventory.mcp.discover({ signal: context.signal })) {
        changed(
          `mcp ${change.server.serverName} ${change.server.serverId}`,
          mcpChangeEvent(change),
          mcpChangeLine(change),
        );
      }
    })(),
    (async () => {
      for await (const change of inventory.agents.changes({ signal: context.signal })) {
        changed(`a2a ${change.key}`, a2aChangeEvent(change), a2aChangeLine(change));
      }
    })(),
  ];
  try {
    await inventory.sync();
    const snapshot = inventory.snapshot();
    const known = (initial ?? []).sort((a, b) => a.order.localeCompare(b.order));
    initial = undefined;
    const summary = `${count(snapshot.mcpServers.length, 'MCP server')}, ${count(snapshot.a2aAgents.length, 'A2A agent')}`;
    if (mode === 'screen') {
      context.stdout(
        `mqtt-agents watch ${url}   ${clock()}   (Ctrl-C to stop)\n\n${formatInventory(snapshot)}\nChanges:\n`,
      );
    } else {
      for (const entry of known) context.stdout(entry.output);
    }
    if (mode === 'json') {
      context.stdout(
        `${JSON.stringify({ type: 'ready', broker: url, mcpServers: snapshot.mcpServers.length, a2aAgents: snapshot.a2aAgents.length })}\n`,
      );
    } else if (mode === 'lines') {
      context.stdout(`${clock()} watching ${url}: ${summary} (Ctrl-C to stop)\n`);
    }
    await untilAborted(context.signal);
  } finally {
    offDrop();
    offOpen();
    await inventory.close();
    await Promise.allSettled(loops);
  }
  return 0;
}

export const ls: Command = {
  help: lsHelp,
  run: lsCommand,
};

export const watch: Command = {
  help: watchHelp,
  run: watchCommand,
};
