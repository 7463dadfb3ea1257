import { MqttAgentsError } from '@mqtt-agents/core';
import type { InstanceSelection, InstanceSelectionState } from './instance-selection.js';
import type { McpServerInstance } from '../server/server-presence.js';

/** True when the instance announced a drain in its presence (`meta.draining`): it takes no new sessions. */
export function isDraining(instance: McpServerInstance): boolean {
  return instance.draining;
}

/** Where a new session goes: the instance, and whether the host's own connection can hold it. */
export interface InstanceChoice {
  serverId: string;
  /** False when the host's connection already has a session with the instance: it needs another connection. */
  onPrimary: boolean;
}

/**
 * The instance a new session goes to, among the `online` instances of `serverName`. Instances the host's own
 * connection has no session with come first (a session on it costs nothing); only when every instance has
 * one does the choice fall on all of them, for a connection opened on demand. Synchronous on purpose: the
 * caller reserves the chosen instance before anything else runs, so concurrent connects pick different
 * instances.
 */
export function chooseInstance(
  context: { selection: InstanceSelectionState; hasSessionWith(serverId: string): boolean },
  serverName: string,
  online: readonly McpServerInstance[],
  options: { select: InstanceSelection | undefined; dedicated: boolean },
): InstanceChoice {
  const free = options.dedicated
    ? []
    : online.filter((instance) => !context.hasSessionWith(instance.serverId));
  const candidates = free.length > 0 ? free : online;
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
  return { serverId: chosen.serverId, onPrimary: free.length > 0 };
}
