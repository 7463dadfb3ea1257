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

Watch MCP servers and A2A agents come and go. On a terminal the ls view is redrawn on every change;
otherwise each change is one line (with --json, one JSON object per line, starting with the current
state and a {"type":"ready"} line). Stops with Ctrl-C.

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

async function watchCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values } = parseFlags(argv, { options });
  const inventory = await open(values, context, 'mqtt-agents watch');
  const url = brokerUrl(values.url, context);
  const mode = values.json ? 'json' : context.isTTY ? 'screen' : 'lines';
  let redraw: ReturnType<typeof setTimeout> | undefined;
  const draw = (): void => {
    redraw = undefined;
    context.stdout(
      `\x1b[H\x1b[2J mqtt-agents watch ${url}   ${clock()}   (Ctrl-C to stop)\n\n${formatInventory(inventory.snapshot())}`,
    );
  };
  // What is already there comes first, sorted (MCP servers, then agents); then changes as they happen.
  let initial: Array<{ order: string; output: string }> | undefined = [];
  const changed = (order: string, event: Record<string, unknown>, line: string): void => {
    const output = mode === 'json' ? `${JSON.stringify(event)}\n` : `${line}\n`;
    if (mode === 'screen') redraw ??= setTimeout(draw, 50);
    else if (initial) initial.push({ order, output });
    else context.stdout(output);
  };
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
    for (const entry of known) context.stdout(entry.output);
    if (mode === 'json') {
      context.stdout(
        `${JSON.stringify({ type: 'ready', broker: url, mcpServers: snapshot.mcpServers.length, a2aAgents: snapshot.a2aAgents.length })}\n`,
      );
    } else if (mode === 'lines') {
      context.stdout(
        `${clock()} watching ${url}: ${snapshot.mcpServers.length} MCP servers, ${snapshot.a2aAgents.length} A2A agents (Ctrl-C to stop)\n`,
      );
    } else {
      draw();
    }
    await untilAborted(context.signal);
  } finally {
    if (redraw) clearTimeout(redraw);
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
