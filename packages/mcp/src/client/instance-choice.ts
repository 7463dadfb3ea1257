import { MqttAgentsError } from '@mqtt-agents/core';
import type { InstanceSelection, InstanceSelectionState } from './instance-selection.js';
import type { McpServerInstance } from '../server/server-presence.js';

/**
 * The server-id a new session goes to, among the `online` instances of `serverName`: leaves out the
 * instances the host's own connection already has a session with (unless the session gets a dedicated
 * connection), and applies the selection. Synchronous on purpose: the caller reserves the chosen instance
 * before anything else runs, so concurrent connects pick different instances. The place where failover
 * between instances will choose again.
 */
export function chooseInstance(
  context: {
    selection: InstanceSelectionState;
    mcpClientId: string;
    hasSessionWith(serverId: string): boolean;
  },
  serverName: string,
  online: readonly McpServerInstance[],
  options: { select: InstanceSelection | undefined; dedicated: boolean },
): string {
  const candidates = options.dedicated
    ? online
    : online.filter((instance) => !context.hasSessionWith(instance.serverId));
  if (candidates.length === 0) {
    throw new MqttAgentsError(
      'DUPLICATE_SESSION',
      `every online instance of server '${serverName}' already has a session on mqtt client '${context.mcpClientId}': connect with { dedicatedConnection: true }`,
      { details: { serverName, instances: online.map((instance) => instance.serverId) } },
    );
  }
  const chosen = context.selection.select(options.select ?? 'random', candidates, serverName);
  if (!chosen) {
    throw new MqttAgentsError(
      'NOT_CONNECTED',
      `instance selection chose no instance of server '${serverName}'`,
      {
        details: { serverName },
      },
    );
  }
  return chosen.serverId;
}
