// @mqtt-agents/mcp/sdk-v2/server: what is specific to the MCP TypeScript SDK 2.x server package
// (`@modelcontextprotocol/server`). Everything else (`serveMcpOverMqtt`, which takes a 2.x `McpServer` or
// `Server` as it is) comes from the SDK-neutral main entry `@mqtt-agents/mcp`. This file and the declarations
// built from it reference `@modelcontextprotocol/server` only (types only): never 1.x, never the client package.
import type { ServerContext } from '@modelcontextprotocol/server';
import type { McpCallerIdentity } from '@mqtt-agents/mcp';
import { callerFromAuthInfo } from '../server/caller-identity.js';

/**
 * Who called a tool, prompt or resource handler of a server behind `serveMcpOverMqtt` (2.x handlers get it
 * as `ctx.http.authInfo`): the session's `McpCallerIdentity`, or undefined outside such a server.
 *
 * ```ts
 * server.registerTool('stop', { description: 'Stop the press' }, async (ctx) => {
 *   const caller = callerIdentity(ctx);
 *   if (caller?.verifiedBy !== 'broker' || !caller.roles.includes('operator')) throw new Error('operators only');
 *   ...
 * });
 * ```
 */
export function callerIdentity(ctx: Pick<ServerContext, 'http'>): McpCallerIdentity | undefined {
  return callerFromAuthInfo(ctx.http?.authInfo);
}
