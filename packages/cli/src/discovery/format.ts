import { printable } from '@mqtt-agents/core';
import type { A2aAgentEntry, InventorySnapshot, McpServerEntry } from './inventory.js';

/** A value from the wire (a name, a description) as a table cell: one line, no terminal escapes. */
function cell(text: string, width = 200): string {
  return printable(truncate(text, width), width + 40);
}

/** Left-aligned columns, two spaces apart, indented; the last column is not padded. */
export function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows
    .map(
      (row) =>
        indent +
        row
          .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
          .join('  ')
          .trimEnd(),
    )
    .join('\n');
}

function truncate(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

/** A table of `rows` under `header`, or `(none)` when there are no rows. */
function listTable(header: string[], rows: string[][]): string {
  return rows.length === 0 ? '  (none)' : table([header, ...rows]);
}

export function formatServers(servers: readonly McpServerEntry[]): string {
  return listTable(
    ['NAME', 'INSTANCES', 'ROLES', 'DESCRIPTION'],
    servers.map((server) => [
      cell(server.name),
      String(server.instances.length),
      server.roles.length > 0 ? cell(server.roles.join(',')) : '-',
      cell(server.description || '-', 60),
    ]),
  );
}

export function formatAgents(agents: readonly A2aAgentEntry[]): string {
  return listTable(
    ['AGENT', 'NAME', 'STATUS', 'SKILLS'],
    agents.map((agent) => [
      cell(agent.id),
      cell(agent.name, 30),
      cell(agent.status),
      cell(
        [agent.skills.map((skill) => skill.id).join(', ') || '-', agent.streaming ? '(streaming)' : '']
          .filter(Boolean)
          .join(' '),
        60,
      ),
    ]),
  );
}

/** The `ls` view: both lists under their headings. */
export function formatInventory(snapshot: InventorySnapshot): string {
  return `MCP servers (${snapshot.mcpServers.length})
${formatServers(snapshot.mcpServers)}

A2A agents (${snapshot.a2aAgents.length})
${formatAgents(snapshot.a2aAgents)}
`;
}
