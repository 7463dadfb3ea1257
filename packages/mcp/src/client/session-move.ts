import { MqttAgentsError } from '@mqtt-agents/core';
import { requestIdKey } from '../session/request-deadlines.js';
import { LIST_CHANGE_NOTIFICATIONS } from './failover-policy.js';
import type { Logger } from '@mqtt-agents/core';
import type { JSONRPCMessage } from '../json-rpc-types.js';
import type { McpFailoverEvent, McpFailoverReason, ResolvedFailover } from './failover-policy.js';
import type { InstanceTransport } from './instance-transport.js';
import { canonicalJson } from './session-memory.js';
import type { SessionMemory } from './session-memory.js';

/** @internal What the client host gives each public transport. */
export interface SessionPlacement {
  readonly serverName: string;
  readonly policy: ResolvedFailover | undefined;
  readonly logger: Logger;
  /** The first instance was named by the caller (`serverId`): a refusal of the first `initialize` stands. */
  readonly pinned: boolean;
  /** True when an instance not in `exclude` (and not draining) is online now. */
  hasAlternative(exclude: ReadonlySet<string>): boolean;
  /** A new, unstarted instance session on an instance not in `exclude` (waits for one to come online). */
  place(request: { exclude: ReadonlySet<string>; signal: AbortSignal }): Promise<InstanceTransport>;
  report(event: McpFailoverEvent): void;
  /** The transport closed for good (the host forgets it). */
  closed(transport: MovableSession): void;
}

/** @internal What a move needs of the public transport it moves. */
export interface MovableSession {
  readonly serverName: string;
  readonly placement: SessionPlacement;
  readonly memory: SessionMemory;
  readonly retiring: Set<InstanceTransport>;
  readonly refusedBy: ReadonlySet<string>;
  readonly lostInMove: number;
  readonly current: InstanceTransport;
  attach(inner: InstanceTransport): void;
  adopt(inner: InstanceTransport): void;
  switchTo(inner: InstanceTransport): InstanceTransport;
  ask(
    inner: InstanceTransport,
    method: string,
    params: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<unknown>;
  deliver(message: JSONRPCMessage): void;
}

export interface MoveOutcome {
  /** The event the host reports, once the transport adds itself as `session`. */
  event: Omit<McpFailoverEvent, 'session'>;
}

export interface MoveContext {
  placement: SessionPlacement;
  /** The instance session the move leaves (lost, or draining and still serving). */
  from: InstanceTransport;
  reason: McpFailoverReason;
  /** Aborts when the transport closes. */
  signal: AbortSignal;
}

/**
 * @internal Move a session to another instance of its server: place a new instance session (another
 * instance; the same one only after a dropped connection), replay the SDK's `initialize` with a private id,
 * `notifications/initialized`, the log level and the resource subscriptions, then switch the transport over.
 * An instance that refuses (draining, session limits) or fails during the replay is left out and the next
 * one is tried, until the failover timeout. Never throws: the outcome says what happened.
 */
export async function moveSession(transport: MovableSession, context: MoveContext): Promise<MoveOutcome> {
  const started = performance.now();
  const policy = context.placement.policy;
  const from = context.from.serverId;
  const event = (partial: Partial<MoveOutcome['event']>): MoveOutcome => ({
    event: {
      serverName: transport.serverName,
      from,
      to: undefined,
      reason: context.reason,
      outcome: 'failed',
      retried: 0,
      failed: transport.lostInMove,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...partial,
    },
  });
  if (!policy) return event({ error: new MqttAgentsError('UNSUPPORTED', 'failover is off') });
  const exclude = new Set<string>(context.reason === 'connection' ? [] : [from]);
  for (const refused of transport.refusedBy) exclude.add(refused);
  const signal = AbortSignal.any([context.signal, AbortSignal.timeout(policy.timeoutMs)]);
  let lastError: Error | undefined;
  while (!signal.aborted) {
    let inner: InstanceTransport;
    try {
      inner = await context.placement.place({ exclude, signal });
    } catch (error) {
      lastError = lastError ?? (error as Error);
      if (!MqttAgentsError.hasCode(error, 'DUPLICATE_SESSION')) lastError = error as Error;
      break;
    }
    try {
      transport.attach(inner);
      await replay(transport, inner, signal);
    } catch (error) {
      lastError = error as Error;
      exclude.add(inner.serverId);
      await inner.end({ notifyPeer: true });
      context.placement.logger.debug(
        `instance '${inner.serverId}' of '${transport.serverName}' did not take the session`,
        error,
      );
      continue;
    }
    if (signal.aborted) {
      // The transport closed (or the move ran out of time) while the new instance was being set up.
      await inner.end({ notifyPeer: true });
      break;
    }
    transport.adopt(inner);
    const previous = transport.switchTo(inner);
    if (context.reason === 'draining' && !previous.isClosed) {
      if (transport.memory.pendingOn(previous).length > 0) transport.retiring.add(previous);
      else void previous.close();
    }
    const retried = [...transport.memory.pending.values()].filter(
      (entry) => entry.inner === undefined,
    ).length;
    void compareLists(transport, inner);
    return event({ to: inner.serverId, outcome: 'moved', retried });
  }
  const error =
    lastError ??
    new MqttAgentsError(
      'REQUEST_TIMEOUT',
      `no instance of '${transport.serverName}' took the session within ${policy.timeoutMs} ms`,
    );
  return event({ error });
}

/** Re-establish the session state on a new instance session, with private request ids. */
async function replay(
  transport: MovableSession,
  inner: InstanceTransport,
  signal: AbortSignal,
): Promise<void> {
  const memory = transport.memory;
  await inner.start();
  // The SDK's own initialize is still in flight: it goes again itself (it is retried), nothing to replay.
  const initialize = memory.initialize;
  if (!initialize || memory.pending.has(requestIdKey(initialize.id))) return;
  const answer = await transport.ask(inner, 'initialize', initialize.params ?? {}, signal);
  const version = (answer as { protocolVersion?: unknown }).protocolVersion;
  const expected = memory.protocolVersion;
  if (expected !== undefined && version !== expected) {
    throw new MqttAgentsError(
      'PROTOCOL_ERROR',
      `instance '${inner.serverId}' negotiated protocol ${String(version)}, the session uses ${expected}`,
    );
  }
  if (typeof version === 'string') inner.setProtocolVersion(version);
  if (memory.initialized) await inner.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  const restore: Array<Promise<unknown>> = [];
  if (memory.logLevel) restore.push(transport.ask(inner, 'logging/setLevel', memory.logLevel, signal));
  for (const uri of memory.subscriptions)
    restore.push(transport.ask(inner, 'resources/subscribe', { uri }, signal));
  const results = await Promise.allSettled(restore);
  for (const result of results) {
    if (result.status === 'rejected') {
      transport.placement.logger.debug(
        `instance '${inner.serverId}' refused restored session state`,
        result.reason,
      );
    }
  }
}

/**
 * List again, on the new instance, what the SDK listed on the old one; where the first page differs, the
 * SDK gets the `list_changed` notification so it lists again itself.
 */
async function compareLists(transport: MovableSession, inner: InstanceTransport): Promise<void> {
  const changed = new Set<string>();
  await Promise.all(
    [...transport.memory.lists].map(async ([method, listed]) => {
      try {
        const result = await transport.ask(inner, method, listed.params, AbortSignal.timeout(30_000));
        if (canonicalJson(result) === listed.result) return;
        transport.memory.learn({ method, params: listed.params }, result);
        changed.add(LIST_CHANGE_NOTIFICATIONS.get(method) as string);
      } catch (error) {
        transport.placement.logger.debug(`could not compare ${method} after the move`, error);
      }
    }),
  );
  if (inner !== transport.current) return;
  for (const method of changed) transport.deliver({ jsonrpc: '2.0', method });
}
