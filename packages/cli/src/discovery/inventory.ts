import type { AgentRegistry, DiscoveredAgent } from '@mqtt-agents/a2a';
import { discoverAgents } from '@mqtt-agents/a2a';
import type { Logger } from '@mqtt-agents/core';
import type { McpClientHost, McpServerInstance } from '@mqtt-agents/mcp';
import { createMcpMqttClientHost } from '@mqtt-agents/mcp';

/** One MCP server name on the broker, with its online instances. */
export interface McpServerEntry {
  name: string;
  description: string;
  instances: Array<{ serverId: string; description: string; meta: Record<string, unknown> }>;
  /** Role names the instances describe in their presence (`meta.rbac.roles`). */
  roles: string[];
}

/** One A2A agent on the broker, as its retained card says. */
export interface A2aAgentEntry {
  /** `{org}/{unit}/{agentId}` */
  id: string;
  org: string;
  unit: string;
  agentId: string;
  name: string;
  description: string;
  version: string;
  status: 'online' | 'offline' | 'unknown';
  streaming: boolean;
  skills: Array<{ id: string; name: string }>;
}

export interface InventorySnapshot {
  broker: string;
  mcpServers: McpServerEntry[];
  a2aAgents: A2aAgentEntry[];
}

export interface InventoryOptions {
  url: string;
  /** MCP server name filter (`#` for every server). */
  serverNameFilter: string;
  org: string | undefined;
  unit: string | undefined;
  logger: Logger;
  signal: AbortSignal;
}

/** MCP presence and A2A discovery on one MQTT connection, so that one sync round trip covers both. */
export interface Inventory {
  readonly mcp: McpClientHost;
  readonly agents: AgentRegistry;
  /** Resolves once the broker delivered every retained presence and card (a round trip behind them). */
  sync(): Promise<void>;
  snapshot(): InventorySnapshot;
  close(): Promise<void>;
}

export function mcpServerEntry(name: string, instances: readonly McpServerInstance[]): McpServerEntry {
  const sorted = [...instances].sort((a, b) => a.serverId.localeCompare(b.serverId));
  const descriptions = [...new Set(sorted.map((instance) => instance.description).filter(Boolean))];
  const roles = new Set<string>();
  for (const instance of sorted) for (const role of instance.rbac?.roles ?? []) roles.add(role.name);
  return {
    name,
    description: descriptions.join(' | '),
    instances: sorted.map((instance) => ({
      serverId: instance.serverId,
      description: instance.description,
      meta: { ...instance.meta },
    })),
    roles: [...roles].sort(),
  };
}

export function a2aAgentEntry(agent: DiscoveredAgent): A2aAgentEntry {
  return {
    id: agent.key,
    org: agent.org,
    unit: agent.unit,
    agentId: agent.agentId,
    name: agent.card.name,
    description: agent.card.description,
    version: agent.card.version,
    status: agent.status,
    streaming: agent.card.capabilities?.streaming === true,
    skills: agent.card.skills.map((skill) => ({ id: skill.id, name: skill.name })),
  };
}

export async function openInventory(options: InventoryOptions): Promise<Inventory> {
  const mcp = await createMcpMqttClientHost({
    mqtt: { url: options.url, connectTimeoutMs: 5_000 },
    serverNameFilters: [options.serverNameFilter],
    logger: options.logger,
    signal: options.signal,
  });
  let agents: AgentRegistry;
  try {
    agents = await discoverAgents({
      mqtt: { connection: mcp.connection },
      ...(options.org === undefined ? {} : { org: options.org }),
      ...(options.unit === undefined ? {} : { unit: options.unit }),
      requireValid: false,
      logger: options.logger,
      signal: options.signal,
    });
  } catch (error) {
    await mcp.close();
    throw error;
  }
  const connection = mcp.connection;
  return {
    mcp,
    agents,
    async sync() {
      // Retained messages of a subscription come before anything published after its SUBACK: a message
      // to ourselves on a private topic arrives after the presence and cards.
      const topic = `mqtt-agents/cli/sync/${connection.connack.clientId || globalThis.crypto.randomUUID()}`;
      const arrived = new Promise<void>((resolve) => {
        const remove = connection.addMessageHandler(topic, () => {
          remove();
          resolve();
        });
      });
      await connection.subscribe(topic, { qos: 1 }, options.signal);
      await connection.publish(topic, 'sync', { qos: 1 }, options.signal);
      // At most 2 s (a broker that drops our own message); the timer is cleared as soon as the message came,
      // or it would keep `ls` alive for the rest of the 2 s after it printed.
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([arrived, new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
      } finally {
        clearTimeout(timer);
      }
      await connection.unsubscribe(topic, options.signal).catch(() => {});
    },
    snapshot() {
      const servers = [...mcp.servers()]
        .map(([name, instances]) => mcpServerEntry(name, instances))
        .filter((entry) => entry.instances.length > 0)
        .sort((a, b) => a.name.localeCompare(b.name));
      const a2aAgents = agents
        .list()
        .map(a2aAgentEntry)
        .sort((a, b) => a.id.localeCompare(b.id));
      return { broker: options.url, mcpServers: servers, a2aAgents };
    },
    async close() {
      await agents.close();
      await mcp.close();
    },
  };
}
