// @mqtt-agents/mcp/sdk-v2/client: what is specific to the MCP TypeScript SDK 2.x client package
// (`@modelcontextprotocol/client`). Everything else comes from the SDK-neutral main entry `@mqtt-agents/mcp`.
// This file and the declarations built from it reference `@modelcontextprotocol/client` only (types only):
// never 1.x, never `@modelcontextprotocol/server`, so a client-only install type-checks.
import type { Client, Transport } from '@modelcontextprotocol/client';
import type { ConnectToServerOptions, McpClientHost, McpMqttClientTransport } from '@mqtt-agents/mcp';
import { Handshake2025Transport } from '../client/handshake-2025-transport.js';

/**
 * Connect a 2.x `Client` to an instance of `serverName`, like `host.connect(client, serverName, options)`,
 * on the 2025 `initialize` handshake, the only one MCP over MQTT defines: a client with
 * `versionNegotiation: { mode: 'auto' }` gets its `server/discover` probe refused at once and falls back to
 * `initialize` (through `host.connect` directly the probe finds no listener and `connect` fails after the
 * probe timeout). A client pinned to a 2026 revision (`{ pin }`) fails at once.
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
        client.connect(new Handshake2025Transport(transport), connectOptions),
    },
    serverName,
    options,
  );
}

/**
 * A session transport as the 2.x `Transport` type, for `client.connect(transport)` yourself
 * (`await client.connect(clientTransport(await host.createTransport('factory/press')))`), with the 2025
 * handshake kept as in {@link connectClient}. Closing either object closes the session.
 */
export function clientTransport(transport: McpMqttClientTransport): Transport {
  return new Handshake2025Transport(transport);
}
