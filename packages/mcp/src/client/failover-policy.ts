import { MqttAgentsError } from '@mqtt-agents/core';
import type { JSONRPCMessage, RequestId, Transport } from '../json-rpc-types.js';

/** How a client session moves to another instance of its server when its instance is lost or drains. */
export interface FailoverOptions {
  /**
   * Longest time one move may take, from the loss until the new session is live, in ms. Requests held
   * meanwhile fail when it runs out, and the transport closes. Default 30 000.
   */
  timeoutMs?: number;
  /** Most moves over the life of one transport; the next loss closes it. Default unlimited. */
  maxFailovers?: number;
  /**
   * Retry list and read requests (`tools/list`, `resources/read`, `prompts/get`, …) that were in flight at
   * the loss on the new instance. Default true.
   */
  retryReads?: boolean;
  /**
   * Also retry `tools/call` in flight at the loss when the tool's last listed annotations say
   * `readOnlyHint` or `idempotentHint`. Off by default: the MCP specification says clients must not trust
   * annotations from servers they do not trust, and a retried call that is not idempotent runs twice.
   */
  retryAnnotatedTools?: boolean;
  /** Most messages held while a move is under way; more are refused. Default 1 000. */
  maxHeldMessages?: number;
}

/** @internal The failover options with their defaults applied. */
export interface ResolvedFailover {
  readonly timeoutMs: number;
  readonly maxFailovers: number;
  readonly retryReads: boolean;
  readonly retryAnnotatedTools: boolean;
  readonly maxHeldMessages: number;
}

/** Default of `FailoverOptions.timeoutMs`: how long one move to another instance may take, in ms (30 s). */
export const DEFAULT_FAILOVER_TIMEOUT_MS = 30_000;
/** Default of `FailoverOptions.maxHeldMessages`: messages held while a move is under way (1 000). */
export const DEFAULT_MAX_HELD_MESSAGES = 1_000;

/** @internal `false` turns failover off; `true` or an object turns it on. */
export function resolveFailover(option: boolean | FailoverOptions | undefined): ResolvedFailover | undefined {
  if (option === false) return undefined;
  const options = option === true || option === undefined ? {} : option;
  const positive = (value: number | undefined, name: string, integer: boolean, infinite: boolean): void => {
    if (value === undefined) return;
    const valid =
      typeof value === 'number' &&
      value >= 0 &&
      (infinite && value === Number.POSITIVE_INFINITY ? true : Number.isFinite(value)) &&
      (!integer || value === Number.POSITIVE_INFINITY || Number.isInteger(value));
    if (!valid)
      throw new MqttAgentsError(
        'INVALID_PAYLOAD',
        `failover.${name} must be a number >= 0, got ${String(value)}`,
      );
  };
  positive(options.timeoutMs, 'timeoutMs', false, false);
  positive(options.maxFailovers, 'maxFailovers', true, true);
  positive(options.maxHeldMessages, 'maxHeldMessages', true, false);
  return {
    timeoutMs: options.timeoutMs ?? DEFAULT_FAILOVER_TIMEOUT_MS,
    maxFailovers: options.maxFailovers ?? Number.POSITIVE_INFINITY,
    retryReads: options.retryReads ?? true,
    retryAnnotatedTools: options.retryAnnotatedTools ?? false,
    maxHeldMessages: options.maxHeldMessages ?? DEFAULT_MAX_HELD_MESSAGES,
  };
}

/**
 * Requests that only read or set session state the move replays: safe to send again to another instance.
 * `resources/subscribe`, `resources/unsubscribe` and `logging/setLevel` are idempotent.
 */
export const RETRIABLE_METHODS: ReadonlySet<string> = new Set([
  'ping',
  'tools/list',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
  'logging/setLevel',
]);

/** The list requests whose first page a transport remembers, with the notification a change deserves. */
export const LIST_CHANGE_NOTIFICATIONS: ReadonlyMap<string, string> = new Map([
  ['tools/list', 'notifications/tools/list_changed'],
  ['prompts/list', 'notifications/prompts/list_changed'],
  ['resources/list', 'notifications/resources/list_changed'],
  ['resources/templates/list', 'notifications/resources/list_changed'],
]);

/** Tool annotations as a server lists them (hints only). */
export interface ToolHints {
  readOnlyHint?: boolean;
  idempotentHint?: boolean;
}

/** @internal Whether a request in flight at a loss goes again to the new instance. */
export function isRetriable(
  request: { method: string; params?: unknown },
  policy: ResolvedFailover,
  toolHints: ReadonlyMap<string, ToolHints>,
): boolean {
  if (RETRIABLE_METHODS.has(request.method)) return policy.retryReads;
  if (request.method !== 'tools/call' || !policy.retryAnnotatedTools) return false;
  const name = (request.params as { name?: unknown } | undefined)?.name;
  const hints = typeof name === 'string' ? toolHints.get(name) : undefined;
  return hints?.readOnlyHint === true || hints?.idempotentHint === true;
}

/** The JSON-RPC error code of a request lost with its session: the SDK's `ErrorCode.ConnectionClosed`. */
export const SESSION_LOST_ERROR_CODE = -32000;

/** What `data` of a session-lost error response holds. */
export interface SessionLostDetails {
  /** Always `'session-lost'`. */
  reason: 'session-lost';
  /** Always true: sending the request again (on the new session) is the remedy. */
  retriable: true;
  /**
   * True when the request reached the broker before the loss, so the lost instance may have run it; false
   * when it was never sent (held during a move that failed).
   */
  mayHaveRun: boolean;
  method: string;
  serverName: string;
  /** The instance the request went to (or was meant for). */
  serverId: string;
}

/** @internal The error response the SDK gets for a request lost with its session. */
export function sessionLostResponse(
  id: RequestId,
  details: Omit<SessionLostDetails, 'reason' | 'retriable'>,
): JSONRPCMessage {
  const what = details.mayHaveRun ? 'it may have run' : 'it was not sent';
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: SESSION_LOST_ERROR_CODE,
      message: `${details.method} was in flight when the session with server '${details.serverId}' (${details.serverName}) was lost; ${what}`,
      data: { reason: 'session-lost', retriable: true, ...details } satisfies SessionLostDetails,
    },
  };
}

/**
 * The details of a request that failed because its session was lost (the SDK's `McpError` for it, or the
 * raw error response), or undefined for any other error.
 *
 * ```ts
 * try { await client.callTool({ name: 'stamp' }); }
 * catch (error) { if (sessionLostDetails(error)?.mayHaveRun === false) await client.callTool({ name: 'stamp' }); }
 * ```
 */
export function sessionLostDetails(error: unknown): SessionLostDetails | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, data } = error as { code?: unknown; data?: unknown };
  if (code !== SESSION_LOST_ERROR_CODE || typeof data !== 'object' || data === null) return undefined;
  const details = data as Partial<SessionLostDetails>;
  if (details.reason !== 'session-lost' || typeof details.mayHaveRun !== 'boolean') return undefined;
  return details as SessionLostDetails;
}

/** Why a session moved (or tried to) to another instance. */
export type McpFailoverReason =
  | 'offline'
  | 'health'
  | 'peer-ended'
  | 'connection'
  | 'draining'
  /** The instance refused the SDK's first `initialize` (draining, session limits): another one gets it. */
  | 'refused';

/** What the client host reports for each move (`host.on('failover', …)`). */
export interface McpFailoverEvent {
  /**
   * The session that moved: the `McpMqttClientTransport` that `connect()` / `createTransport()` returned
   * (compare with `===` to tell sessions apart when several move at once).
   */
  session: Transport;
  serverName: string;
  /** The instance the session left. */
  from: string;
  /** The instance it moved to; undefined when the move failed. */
  to: string | undefined;
  reason: McpFailoverReason;
  outcome: 'moved' | 'failed';
  /** Requests sent again on the new instance. */
  retried: number;
  /** Requests that failed with the session-lost error. */
  failed: number;
  /** From the loss (or the drain notice) until the new session was live or the move gave up, in ms (0.1 ms steps). */
  durationMs: number;
  /** Why the move failed, when it did. */
  error?: Error | undefined;
}
