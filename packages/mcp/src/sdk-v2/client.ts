// @mqtt-agents/mcp/sdk-v2/client: what is specific to the MCP TypeScript SDK 2.x client package
// (`@modelcontextprotocol/client`). Everything else comes from the SDK-neutral main entry `@mqtt-agents/mcp`.
// This file and the declarations built from it reference `@modelcontextprotocol/client` only (types only):
// never 1.x, never `@modelcontextprotocol/server`, so a client-only install type-checks.
import type { Client, Transport } from '@modelcontextprotocol/client';
import type { ConnectToServerOptions, McpClientHost, McpMqttClientTransport } from '@mqtt-agents/mcp';

/**
 * Connect a 2.x `Client` to an instance of `serverName`: `host.connect(client, serverName, options)` with the
 * 2.x `Client` type. The session stays on the 2025 `initialize` handshake, the only one MCP over MQTT
 * defines: a client with `versionNegotiation: { mode: 'auto' }` gets its `server/discover` probe refused at
 * once by the transport and falls back to `initialize`; a client pinned to a 2026 revision fails at once.
 */
export async function connectClient(
  host: McpClientHost,
  client: Client,
  serverName: string,
  options: ConnectToServerOptions = {},
): Promise<McpMqttClientTransport> {
  return await host.connect(
    {
      connect: (transport, connectOptions) =>
        client.connect(transport as unknown as Transport, connectOptions),
    },
    serverName,
    options,
  );
}

/**
 * A session transport as the 2.x `Transport` type, for `client.connect(transport)` yourself
 * (`await client.connect(clientTransport(await host.createTransport('factory/press')))`). The same object:
 * only its type changes.
 */
export function clientTransport(transport: McpMqttClientTransport): Transport {
  return transport as unknown as Transport;
}
