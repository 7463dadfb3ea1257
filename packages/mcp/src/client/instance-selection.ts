import type { McpServerInstance } from '../server/server-presence.js';

/**
 * Picks the server instance a new session goes to. Receives the online instances that have no session on
 * the connection yet; returns one of them (or its server-id), or undefined to refuse.
 */
export type InstanceSelector = (
  instances: readonly McpServerInstance[],
  context: { serverName: string },
) => McpServerInstance | string | undefined;

/** `random`, `round-robin` (per server name, per client host), or your own function. */
export type InstanceSelection = 'random' | 'round-robin' | InstanceSelector;

/** @internal Keeps the round-robin positions of one client host. */
export class InstanceSelectionState {
  private readonly positions = new Map<string, number>();

  select(
    selection: InstanceSelection,
    instances: readonly McpServerInstance[],
    serverName: string,
  ): McpServerInstance | undefined {
    if (instances.length === 0) return undefined;
    if (typeof selection === 'function') {
      const chosen = selection(instances, { serverName });
      if (typeof chosen === 'string') return instances.find((instance) => instance.serverId === chosen);
      return chosen === undefined
        ? undefined
        : instances.find((instance) => instance.serverId === chosen.serverId);
    }
    if (selection === 'round-robin') {
      // Order by server-id so the rotation is stable while instances come and go.
      const sorted = [...instances].sort((a, b) =>
        a.serverId < b.serverId ? -1 : a.serverId > b.serverId ? 1 : 0,
      );
      const position = this.positions.get(serverName) ?? 0;
      this.positions.set(serverName, position + 1);
      return sorted[position % sorted.length];
    }
    return instances[Math.floor(Math.random() * instances.length)];
  }
}
