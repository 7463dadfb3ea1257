import type { FailoverOptions } from '@mqtt-agents/mcp';
import { DEFAULT_FAILOVER_TIMEOUT_MS } from '@mqtt-agents/mcp';
import { parseDuration } from '../flags.js';

/** The `--failover` flag of the MCP bridges, as its help text says it. */
export const failoverHelp = `  --failover <duration>  how long a session may take to move to another instance of the server when
                         its instance is lost or drains (default ${DEFAULT_FAILOVER_TIMEOUT_MS / 1000}s; 'off' turns failover off)`;

/** `--failover off` or a duration: the bridges' failover option. */
export function parseFailover(value: string | undefined): false | FailoverOptions {
  if (value === 'off') return false;
  return { timeoutMs: parseDuration('failover', value, DEFAULT_FAILOVER_TIMEOUT_MS) };
}
