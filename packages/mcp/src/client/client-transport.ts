import { MqttAgentsError } from '@mqtt-agents/core';
import type {
  JSONRPCMessage,
  JSONRPCRequest,
  MessageExtraInfo,
  RequestId,
  Transport,
  TransportSendOptions,
} from '../json-rpc-types.js';
import { isRequest, isResponse, methodOf } from '../inbound/inbound-messages.js';
import { requestIdKey } from '../session/request-deadlines.js';
import { sessionRefusalReason } from '../session-refusal.js';
import { isRetriable, sessionLostResponse } from './failover-policy.js';
import type { McpFailoverReason } from './failover-policy.js';
import type { InstanceTransport } from './instance-transport.js';
import { PrivateRequests, beforeInitializeRefusal } from './private-requests.js';
import { SessionMemory } from './session-memory.js';
import { moveSession } from './session-move.js';
import type { MoveOutcome, SessionPlacement } from './session-move.js';

type Phase = 'new' | 'live' | 'moving' | 'closed';

const LOSS_REASONS: ReadonlySet<string> = new Set([
  'offline',
  'health',
  'peer-ended',
  'connection',
  'refused',
]);
/** Refusals of a first `initialize` that another instance may not share. */
const MOVABLE_REFUSALS: ReadonlySet<string> = new Set(['draining', 'session-limit']);

/**
 * The client side of one MCP session over MQTT, as an SDK `Transport`. It talks to one server instance at a
 * time; when that instance is lost (its will or an empty presence, a failed health check, its
 * de-initialization, a dropped connection) or announces a drain, the session moves to another online
 * instance of the same server name: `initialize` is replayed with the SDK's own client info and
 * capabilities, the log level and resource subscriptions are restored, reads in flight are sent again, and
 * the SDK `Client` goes on. A call that cannot be retried fails with the session-lost error (see
 * `sessionLostDetails`), which says whether it may have run. Created by the client host.
 */
export class McpMqttClientTransport implements Transport {
  /** Set by the SDK: called once when the session ends, whichever side ended it. */
  onclose?: (() => void) | undefined;
  /** Set by the SDK: called with problems of the session that do not end it (bad inbound messages). */
  onerror?: ((error: Error) => void) | undefined;
  /** Set by the SDK: called with every JSON-RPC message that arrives for the session. */
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;

  readonly serverName: string;

  /** @internal */
  current: InstanceTransport;
  /** @internal Earlier instance sessions still finishing requests after a drain move. */
  readonly retiring = new Set<InstanceTransport>();
  /** @internal */
  readonly memory = new SessionMemory();
  /** @internal Messages held while a move is under way. */
  held: JSONRPCMessage[] = [];
  /** @internal */
  readonly placement: SessionPlacement;
  /** @internal Instances that refused the first `initialize`: later moves leave them out. */
  readonly refusedBy = new Set<string>();
  /** @internal Requests that failed with the session-lost error during the current move. */
  lostInMove = 0;
  private readonly privateRequests = new PrivateRequests();
  private phase: Phase = 'new';
  private generation = 0;
  private readonly generations = new WeakMap<InstanceTransport, number>();
  private moves = 0;
  private moving: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private closing: Promise<void> | undefined;
  private readonly lossReasons = new WeakMap<InstanceTransport, MqttAgentsError>();

  /** @internal Created by the client host. */
  constructor(first: InstanceTransport, placement: SessionPlacement) {
    this.placement = placement;
    this.serverName = placement.serverName;
    this.current = first;
    this.attach(first);
  }

  /** The mcp-client-id of the connection the session currently uses. */
  get mcpClientId(): string {
    return this.current.mcpClientId;
  }

  /** The server instance the session currently talks to. */
  get serverId(): string {
    return this.current.serverId;
  }

  /** Unset until `initialize` succeeded, then the mcp-client-id. */
  get sessionId(): string | undefined {
    return this.current.sessionId;
  }

  /** True once `initialize` succeeded, until the session ends. */
  get isEstablished(): boolean {
    return this.phase === 'moving' || (this.phase === 'live' && this.current.isEstablished);
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  /** How many times the session moved to another instance. */
  get failovers(): number {
    return this.moves;
  }

  /** The protocol version negotiated in `initialize`, once known. */
  get negotiatedProtocolVersion(): string | undefined {
    return this.memory.protocolVersion ?? this.current.negotiatedProtocolVersion;
  }

  /** Record the protocol version negotiated in `initialize` (the SDK calls it); kept across failovers. */
  setProtocolVersion(version: string): void {
    this.memory.protocolVersion = version;
    this.current.setProtocolVersion(version);
  }

  /** Ping the current instance now and wait for its answer. */
  checkHealth(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    return this.current.checkHealth(options);
  }

  /**
   * Start the session with the chosen instance; the SDK `Client` calls it from `connect()`. A second call
   * throws (`ALREADY_STARTED`, or `CLOSED` once the transport closed).
   */
  async start(): Promise<void> {
    // The instance session says what is wrong with a second start (ALREADY_STARTED, or CLOSED).
    const starting = this.phase === 'new';
    await this.current.start();
    if (starting && this.phase === 'new') this.phase = 'live';
  }

  /**
   * Publish one JSON-RPC message to the server instance; while the session moves to another instance it is
   * held (at most `maxHeldMessages`) and sent once the move completes.
   */
  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.phase === 'closed' || this.phase === 'new') {
      // The instance session throws the error that fits (NOT_CONNECTED before start, CONNECTION_CLOSED after).
      await this.current.send(message, options);
      return;
    }
    if (isResponse(message)) {
      await this.sendResponse(message as JSONRPCMessage & { id: RequestId });
      return;
    }
    if (isRequest(message) && message.method !== 'initialize' && this.memory.initialize === undefined) {
      const answer = beforeInitializeRefusal(message as JSONRPCRequest);
      // Answered asynchronously, never from inside send(), as a response from the wire would be.
      queueMicrotask(() => this.deliver(answer));
      return;
    }
    if (methodOf(message) === 'notifications/cancelled' && this.cancelPending(message)) return;
    this.memory.recordOutbound(message);
    if (this.phase === 'moving') {
      this.hold(message);
      return;
    }
    await this.forward(message, this.current, options);
  }

  /**
   * End the session: de-initialize with the instance (the MQTT connection stays) and fire `onclose`.
   * Idempotent.
   */
  close(): Promise<void> {
    return this.end({ notifyPeer: true });
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal End the session (and any session still retiring). Idempotent. */
  end(ending: { notifyPeer: boolean; reason?: MqttAgentsError }): Promise<void> {
    this.closing ??= (async () => {
      this.phase = 'closed';
      this.abort.abort();
      const inners = [this.current, ...this.retiring];
      this.retiring.clear();
      await Promise.all(inners.map((inner) => inner.end({ notifyPeer: ending.notifyPeer })));
      this.placement.closed(this);
      if (ending.reason) this.onerror?.(ending.reason);
      this.onclose?.();
    })();
    return this.closing;
  }

  /** @internal The instance announced a drain: move while it still serves the requests in flight. */
  instanceDraining(serverId: string): void {
    if (this.phase !== 'live' || this.current.serverId !== serverId || !this.current.isEstablished) return;
    if (!this.placement.policy || this.moving) return;
    this.startMove('draining');
  }

  // --- moves ---

  /** @internal Make an instance session the current one (called by the move once it is initialized). */
  adopt(inner: InstanceTransport): void {
    this.generations.set(inner, ++this.generation);
    this.attach(inner);
  }

  /** @internal Switch to a new, initialized instance session; returns the previous one. */
  switchTo(inner: InstanceTransport): InstanceTransport {
    const previous = this.current;
    this.current = inner;
    this.moves += 1;
    return previous;
  }

  /** @internal A request of the transport's own on an instance session (see `PrivateRequests`). */
  ask(
    inner: InstanceTransport,
    method: string,
    params: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<unknown> {
    return this.privateRequests.ask(inner, method, params, signal);
  }

  /** @internal Wire an instance session's callbacks to this transport. */
  attach(inner: InstanceTransport): void {
    inner.onmessage = (message, extra) => this.fromInner(inner, message, extra);
    inner.onerror = (error) => {
      const loss = lossOf(error);
      if (loss !== undefined && MqttAgentsError.isInstance(error)) this.lossReasons.set(inner, error);
      else this.onerror?.(error);
    };
    inner.onclose = () => this.innerClosed(inner);
  }

  /** @internal Send one message on an instance session, holding it instead when that session is lost. */
  async forward(
    message: JSONRPCMessage,
    inner: InstanceTransport,
    options?: TransportSendOptions,
  ): Promise<void> {
    const entry = isRequest(message) ? this.memory.pending.get(requestIdKey(message.id)) : undefined;
    if (entry) {
      entry.inner = inner;
      entry.sent = true;
    }
    try {
      await inner.send(message, options);
    } catch (error) {
      if (this.phase === 'moving' || (inner.isClosed && this.canMove())) {
        if (entry) entry.inner = undefined;
        this.hold(message);
        return;
      }
      if (entry) this.memory.pending.delete(requestIdKey((message as JSONRPCRequest).id));
      throw error;
    }
  }

  /** @internal The move ended: go live, or close with the session-lost errors. */
  moved(outcome: MoveOutcome): void {
    this.moving = undefined;
    if (this.phase === 'closed') return;
    this.placement.report({ ...outcome.event, session: this });
    this.lostInMove = 0;
    if (outcome.event.outcome === 'moved') {
      this.phase = 'live';
      this.flush();
      return;
    }
    // A drain move that found no other instance: stay on the draining one while it serves.
    if (this.phase === 'live') return;
    this.failPending(undefined);
    this.held = [];
    void this.end({
      notifyPeer: false,
      reason: new MqttAgentsError(
        'CONNECTION_CLOSED',
        `the session with '${this.serverName}' was lost and could not move to another instance: ${outcome.event.error?.message ?? 'no instance'}`,
        { cause: outcome.event.error, details: { loss: outcome.event.reason, serverName: this.serverName } },
      ),
    });
  }

  /** @internal Deliver a message to the SDK. */
  deliver(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    if (this.phase !== 'closed') this.onmessage?.(message, extra);
  }

  /**
   * The requests on `inner` (or, when undefined, those waiting for a move): `retry` keeps one for the next
   * instance, the rest fail with the session-lost error. Returns how many failed.
   */
  private failPending(
    inner: InstanceTransport | undefined,
    retry: (entry: { message: JSONRPCRequest }) => boolean = () => false,
  ): number {
    let failed = 0;
    for (const [key, entry] of [...this.memory.pending]) {
      if (entry.inner !== inner) continue;
      if (inner !== undefined && retry(entry)) {
        entry.inner = undefined; // waits for the next instance
        continue;
      }
      this.memory.pending.delete(key);
      failed += 1;
      this.deliver(
        sessionLostResponse(entry.message.id, {
          mayHaveRun: entry.sent,
          method: entry.message.method,
          serverName: this.serverName,
          serverId: inner?.serverId ?? this.current.serverId,
        }),
      );
    }
    return failed;
  }

  /**
   * The SDK cancels one of its requests: the cancellation goes to the instance that holds it (after a drain
   * move that may be the earlier one), or nowhere when the request waits for a move (it is simply dropped).
   * Returns true when it was handled here.
   */
  private cancelPending(message: JSONRPCMessage): boolean {
    const requestId = (message as { params?: { requestId?: RequestId } }).params?.requestId;
    if (requestId === undefined) return false;
    const key = requestIdKey(requestId);
    const entry = this.memory.pending.get(key);
    if (!entry) return false;
    const inner = entry.inner;
    if (inner === undefined) {
      this.memory.pending.delete(key);
      this.held = this.held.filter((held) => held !== entry.message);
      return true;
    }
    this.memory.pending.delete(key);
    if (inner === this.current) return false;
    inner
      .send(message)
      .catch((error: unknown) =>
        this.placement.logger.debug('could not pass a cancellation on to a retiring session', error),
      );
    this.retireIfDone(inner);
    return true;
  }

  /**
   * The instance refused the SDK's first `initialize` because it drains or is full: with failover on, the
   * `initialize` goes to another instance instead of failing the connect. Returns true when it moves.
   */
  private refusedFirstInitialize(
    inner: InstanceTransport,
    entry: { inner: InstanceTransport | undefined },
    message: JSONRPCMessage,
  ): boolean {
    if (
      this.placement.pinned ||
      !('error' in message) ||
      this.memory.initialized ||
      this.phase !== 'live' ||
      !this.canMove()
    )
      return false;
    const reason = sessionRefusalReason(message.error);
    if (reason === undefined || !MOVABLE_REFUSALS.has(reason)) return false;
    this.refusedBy.add(inner.serverId);
    // With no other instance online the refusal stands: the connect fails with its reason at once.
    if (!this.placement.hasAlternative(this.refusedBy)) return false;
    entry.inner = undefined;
    this.lossReasons.set(
      inner,
      new MqttAgentsError(
        'CONNECTION_CLOSED',
        `instance '${inner.serverId}' refused the session (${reason})`,
        {
          details: { loss: 'refused', reason },
        },
      ),
    );
    this.startMove('loss', inner);
    void inner.end({ notifyPeer: false });
    return true;
  }

  private canMove(): boolean {
    const policy = this.placement.policy;
    return policy !== undefined && this.moves < policy.maxFailovers && this.memory.initialize !== undefined;
  }

  private hold(message: JSONRPCMessage): void {
    const limit = this.placement.policy?.maxHeldMessages ?? 0;
    if (this.held.length >= limit) {
      if (isRequest(message)) {
        const key = requestIdKey(message.id);
        const entry = this.memory.pending.get(key);
        this.memory.pending.delete(key);
        this.deliver(
          sessionLostResponse(message.id, {
            mayHaveRun: entry?.sent ?? false,
            method: message.method,
            serverName: this.serverName,
            serverId: this.current.serverId,
          }),
        );
      }
      this.placement.logger.warn(
        `dropped a message for '${this.serverName}' held during a move: ${limit} held`,
      );
      return;
    }
    this.held.push(message);
  }

  /** Send what waited for the move: the retried requests first, then the held messages in order. */
  private flush(): void {
    const retried = [...this.memory.pending.values()]
      .filter((entry) => entry.inner === undefined && entry.sent)
      .map((entry) => entry.message);
    const held = this.held;
    this.held = [];
    const inner = this.current;
    for (const message of [
      ...retried,
      ...held.filter((message) => !retried.includes(message as JSONRPCRequest)),
    ]) {
      this.forward(message, inner).catch((error: unknown) =>
        this.placement.logger.debug(
          `could not send ${methodOf(message) ?? 'a message'} after the move`,
          error,
        ),
      );
    }
  }

  private startMove(reason: 'draining' | 'loss', lost?: InstanceTransport): void {
    if (reason === 'loss') this.phase = 'moving';
    if (this.moving) return;
    const from = lost ?? this.current;
    const lossReason = lost ? this.lossReasons.get(lost) : undefined;
    this.moving = moveSession(this, {
      placement: this.placement,
      from,
      reason: reason === 'draining' ? 'draining' : ((lossOf(lossReason) ?? 'offline') as McpFailoverReason),
      signal: this.abort.signal,
    }).then((outcome) => this.moved(outcome));
  }

  private innerClosed(inner: InstanceTransport): void {
    this.memory.forgetServerRequestsOf(inner);
    this.privateRequests.rejectAll(
      inner,
      this.lossReasons.get(inner) ??
        new MqttAgentsError('CONNECTION_CLOSED', `the session with '${inner.serverId}' ended`),
    );
    if (this.phase === 'closed') return;
    if (this.retiring.delete(inner)) {
      // A drained instance closed before all of its requests were answered: retry or fail the rest.
      this.settleLost(inner);
      if (this.phase === 'live') this.flush();
      return;
    }
    if (inner !== this.current) return;
    const reason = this.lossReasons.get(inner);
    const loss = lossOf(reason);
    if (
      this.phase === 'new' ||
      !this.canMove() ||
      (loss !== undefined && !LOSS_REASONS.has(loss)) ||
      !reason
    ) {
      // Failover is off or spent, the SDK never initialized, or the end was not a loss (host closing).
      void this.end({ notifyPeer: false, ...(reason ? { reason } : {}) });
      return;
    }
    this.settleLost(inner);
    this.startMove('loss', inner);
  }

  /** The requests in flight on a lost instance session: retriable ones wait for the move, the rest fail. */
  private settleLost(inner: InstanceTransport): void {
    const policy = this.placement.policy;
    const initializing = !this.memory.initialized;
    this.lostInMove += this.failPending(inner, (entry) =>
      policy === undefined
        ? false
        : (initializing && entry.message.method === 'initialize') ||
          isRetriable(entry.message, policy, this.memory.toolHints),
    );
  }

  private fromInner(inner: InstanceTransport, message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    if (isResponse(message) && this.privateRequests.answer(inner, message)) return;
    if (inner !== this.current && !this.retiring.has(inner)) return;
    if (isResponse(message)) {
      const id = (message as { id: RequestId }).id;
      const entry = this.memory.pending.get(requestIdKey(id));
      if (!entry || entry.inner !== inner) {
        this.placement.logger.debug(
          `dropped a response from '${inner.serverId}' to a request it no longer holds`,
        );
        return;
      }
      if (entry.message.method === 'initialize' && this.refusedFirstInitialize(inner, entry, message)) return;
      this.memory.answered(message as JSONRPCMessage & { id: RequestId });
      this.deliver(message, extra);
      this.retireIfDone(inner);
      return;
    }
    const rewrite = (this.generations.get(inner) ?? 0) > 0;
    if (isRequest(message)) {
      this.deliver(this.memory.serverRequest(inner, message as JSONRPCRequest, rewrite), extra);
      return;
    }
    this.deliver(rewrite ? this.memory.rewrittenCancellation(inner, message) : message, extra);
  }

  /** A retiring session whose last request was answered is closed (the drained instance sees it leave). */
  private retireIfDone(inner: InstanceTransport): void {
    if (!this.retiring.has(inner) || this.memory.pendingOn(inner).length > 0) return;
    this.retiring.delete(inner);
    void inner.close();
  }

  private async sendResponse(message: JSONRPCMessage & { id: RequestId }): Promise<void> {
    const target = this.memory.serverRequestTarget(message.id);
    if (!target) {
      if (this.phase === 'moving') return; // the instance that asked is gone
      await this.current.send(message);
      return;
    }
    if (target.inner.isClosed) return;
    await target.inner.send({ ...message, id: target.id } as JSONRPCMessage);
  }
}

function lossOf(error: unknown): string | undefined {
  if (!MqttAgentsError.isInstance(error)) return undefined;
  const loss = (error.details as { loss?: unknown } | undefined)?.loss;
  return typeof loss === 'string' ? loss : undefined;
}
