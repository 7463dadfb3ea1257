import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ChildProcessTransport } from './child-process-transport.js';
import { describeSpawnError } from './child-process-transport.js';

/**
 * How long a spawned server has to answer its first `initialize`, by default: `npx -y <package>` downloads
 * the package on its first run (10 s and more), far longer than a running server takes.
 */
export const DEFAULT_START_TIMEOUT_MS = 60_000;

const PROBE_ID = 'mqtt-agents-start-probe';

/** Why a line from the server's stdout is not a message, or `undefined` when the error is of another kind. */
export function notJsonRpcReason(error: Error): string | undefined {
  if (error instanceof SyntaxError) return `a line that is not JSON (${error.message})`;
  if (error.name === 'ZodError') return 'JSON that is not a JSON-RPC message';
  return undefined;
}

/**
 * Start the server once and have it answer `initialize`, before the bridge announces it: a command that
 * cannot start, exits, or prints something else than JSON-RPC on stdout makes `mcp serve` fail at once
 * instead of announcing a server that every client then finds broken. It also warms the command (`npx`
 * fetches its package now, not in the first client's session). Rejects with the reason in one line.
 */
export async function probeServerCommand(
  spawn: () => ChildProcessTransport,
  options: { timeoutMs: number; signal: AbortSignal; clientVersion: string },
): Promise<void> {
  const child = spawn();
  try {
    try {
      await child.start();
    } catch (error) {
      throw new Error(describeSpawnError(child.command, error), { cause: error });
    }
    await firstAnswer(child, options);
  } finally {
    await child.close();
  }
}

function firstAnswer(
  child: Transport & { commandLine: string },
  options: { timeoutMs: number; signal: AbortSignal; clientVersion: string },
): Promise<void> {
  const what = `'${child.commandLine}'`;
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error): void => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      child.onmessage = undefined;
      child.onerror = undefined;
      child.onclose = undefined;
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => done(new Error(`${what} did not answer initialize within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const onAbort = (): void => done(new Error(`stopped while waiting for ${what} to start`));
    options.signal.addEventListener('abort', onAbort, { once: true });
    child.onmessage = (message: JSONRPCMessage) => {
      if (!('id' in message) || message.id !== PROBE_ID) return;
      if ('error' in message) {
        done(new Error(`${what} refused initialize: ${message.error.message}`));
      } else {
        done();
      }
    };
    child.onerror = (error) => {
      const reason = notJsonRpcReason(error);
      // A stdio MCP server must print nothing but JSON-RPC messages on stdout (MCP, stdio transport).
      if (reason) done(new Error(`${what} printed ${reason} on stdout: it is not a stdio MCP server`));
    };
    child.onclose = () => done(new Error(`${what} exited before it answered initialize`));
    child
      .send({
        jsonrpc: '2.0',
        id: PROBE_ID,
        method: 'initialize',
        params: {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: { name: 'mqtt-agents mcp serve (start check)', version: options.clientVersion },
        },
      })
      .catch((error: unknown) => done(error as Error));
  });
}
