// @mqtt-agents/mcp/sdk-v1: what is specific to the MCP TypeScript SDK 1.x (`@modelcontextprotocol/sdk`).
// Everything else (hosts, transports, options) comes from the SDK-neutral main entry `@mqtt-agents/mcp`,
// whose transports are 1.x and 2.x `Transport`s alike. This file and the declarations built from it import
// nothing of the 2.x packages, and nothing of 1.x at run time (types only).
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type {
  ConnectToServerOptions,
  McpCallerIdentity,
  McpClientHost,
  McpMqttClientTransport,
} from '@mqtt-agents/mcp';
import { callerFromAuthInfo } from './server/caller-identity.js';

/** What a 1.x request handler gets as its second argument (`extra`). */
export type SdkRequestHandlerExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Connect a 1.x `Client` to an instance of `serverName`: `host.connect(client, serverName, options)`, typed
 * for 1.x (the same function exists in `@mqtt-agents/mcp/sdk-v2/client` for a 2.x `Client`).
 */
export function connectClient(
  host: McpClientHost,
  client: Client,
  serverName: string,
  options: ConnectToServerOptions = {},
): Promise<McpMqttClientTransport> {
  return host.connect(client, serverName, options);
}

/**
 * A session transport as the 1.x `Transport` type, for `client.connect(transport)` yourself. The same
 * object: our transports implement 1.x's `Transport`.
 */
export function clientTransport(transport: McpMqttClientTransport): Transport {
  return transport;
}

/**
 * Who called a tool, prompt or resource handler of a server behind `serveMcpOverMqtt` (1.x handlers read it
 * from `extra.authInfo`): the session's `McpCallerIdentity`, or undefined outside such a server.
 *
 * ```ts
 * server.registerTool('stop', { description: 'Stop the press' }, async (extra) => {
 *   const caller = callerIdentity(extra);
 *   if (caller?.verifiedBy !== 'broker' || !caller.roles.includes('operator')) throw new Error('operators only');
 *   ...
 * });
 * ```
 */
export function callerIdentity(
  extra: Pick<SdkRequestHandlerExtra, 'authInfo'>,
): McpCallerIdentity | undefined {
  return callerFromAuthInfo(extra.authInfo);
}
