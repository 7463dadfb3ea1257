import type { AgentCard } from '@a2a-js/sdk';
import {
  A2AUserProperty,
  MqttAgentsError,
  a2aClientId,
  a2aDiscoveryFilter,
  abortError,
  assertAgentId,
  assertOrgId,
  assertUnitId,
  createLogger,
  decodeJson,
  getUserPropertyAll,
  openConnection,
  parseA2aTopic,
  startOrClose,
} from '@mqtt-agents/core';
import type { Logger, MqttConnection, MqttMessage } from '@mqtt-agents/core';
import { AgentCard as AgentCardCodec } from '@a2a-js/sdk';
import { parseAgentCard } from '../agent-card.js';
import { verifyAgentCardJson } from '../card-signatures.js';
import type { CardVerification, CardVerificationOptions } from '../card-signatures.js';
import { rememberAgentAddress, rememberAgentStatus } from '../agent-address.js';
import type {
  AgentRegistry,
  AgentRegistryChange,
  AgentStatus,
  AgentStatusSource,
  DiscoverAgentsOptions,
  DiscoveredAgent,
  WaitForAgentOptions,
} from './types.js';

/**
 * The error of a `waitFor` that ran out of time: an agent whose card is there but not online is not one
 * that "did not show up", and the message says which it was.
 */
function waitTimeout(
  agentIdOrKey: string,
  found: DiscoveredAgent | undefined,
  timeoutMs: number,
): MqttAgentsError {
  const details = { agent: agentIdOrKey, timeoutMs, ...(found ? { status: found.status } : {}) };
  const message = found
    ? `agent '${found.key}' has a card, but its status is ${found.status}, not online, after ${timeoutMs} ms`
    : `agent '${agentIdOrKey}' did not show up within ${timeoutMs} ms`;
  return new MqttAgentsError('REQUEST_TIMEOUT', message, { details });
}

function readStatus(message: MqttMessage): {
  status: AgentStatus;
  statusSource: AgentStatusSource | undefined;
} {
  const statuses = getUserPropertyAll(message.properties, A2AUserProperty.Status);
  const sources = getUserPropertyAll(message.properties, A2AUserProperty.StatusSource);
  // A broker that manages status may add its pair next to the agent's: its word wins (profile, Presence).
  let index = sources.lastIndexOf('broker');
  if (index === -1 || index >= statuses.length) index = statuses.length - 1;
  const raw = statuses[index];
  const source = sources[index] ?? sources[sources.length - 1];
  const status: AgentStatus = raw === 'online' || raw === 'offline' ? raw : 'unknown';
  const statusSource = source === 'agent' || source === 'lwt' || source === 'broker' ? source : undefined;
  return { status, statusSource };
}

class Registry implements AgentRegistry {
  readonly filter: string;
  readonly #agents = new Map<string, DiscoveredAgent>();
  readonly #listeners = new Set<(change: AgentRegistryChange | undefined) => void>();
  readonly #connection: MqttConnection;
  readonly #owned: boolean;
  readonly #requireValid: boolean;
  readonly #verify: (CardVerificationOptions & { requireSignature?: boolean }) | undefined;
  /** The latest message per key: a slow signature check never overrides a newer card. */
  readonly #latest = new Map<string, number>();
  #sequence = 0;
  readonly #logger: Logger;
  readonly #cleanups: Array<() => void> = [];
  #closing: Promise<void> | undefined;

  constructor(
    connection: MqttConnection,
    owned: boolean,
    filter: string,
    requireValid: boolean,
    logger: Logger,
    verify?: CardVerificationOptions & { requireSignature?: boolean },
  ) {
    this.#connection = connection;
    this.#owned = owned;
    this.filter = filter;
    this.#requireValid = requireValid;
    this.#verify = verify;
    this.#logger = logger;
  }

  get agents(): ReadonlyMap<string, DiscoveredAgent> {
    return this.#agents;
  }

  async start(signal: AbortSignal | undefined): Promise<void> {
    this.#cleanups.push(this.#connection.addMessageHandler(this.filter, (message) => this.#onCard(message)));
    this.#cleanups.push(this.#connection.on('connection-close', () => void this.close()));
    await this.#connection.subscribe(this.filter, { qos: 1 }, signal);
  }

  #onCard(message: MqttMessage): void {
    const parsed = parseA2aTopic(message.topic);
    if (parsed?.kind !== 'discovery') {
      this.#logger.warn(`ignored a message on '${message.topic}': not a discovery topic`);
      return;
    }
    const address = { org: parsed.orgId, unit: parsed.unitId, agentId: parsed.agentId };
    const key = a2aClientId(parsed);
    const sequence = ++this.#sequence;
    this.#latest.set(key, sequence);
    const previous = this.#agents.get(key);
    if (message.payload.length === 0) {
      if (!previous) return;
      this.#agents.delete(key);
      this.#emit({ type: 'removed', key, previous });
      return;
    }
    const invalid = (reason: string, issues: readonly string[]): void => {
      this.#logger.warn(`ignored the agent card on '${message.topic}': ${reason}`);
      const current = this.#agents.get(key);
      if (current) {
        this.#agents.delete(key);
        this.#emit({ type: 'removed', key, previous: current });
      }
      this.#emit({ type: 'invalid', key, topic: message.topic, reason, issues });
    };
    const decoded = decodeJson(message.payload);
    if (!decoded.ok) {
      invalid(`not json: ${decoded.error.message}`, [decoded.error.message]);
      return;
    }
    const result = parseAgentCard(decoded.value);
    let card: AgentCard;
    let issues: readonly string[] = [];
    if (result.ok) {
      card = result.card;
    } else if (
      !this.#requireValid &&
      typeof decoded.value === 'object' &&
      decoded.value !== null &&
      !Array.isArray(decoded.value)
    ) {
      card = AgentCardCodec.fromJSON(decoded.value);
      issues = result.issues;
      this.#logger.warn(
        `agent card on '${message.topic}' fails the schema, kept (requireValid: false): ${result.reason}`,
      );
    } else {
      invalid(result.ok ? 'invalid agent card' : result.reason, result.ok ? [] : result.issues);
      return;
    }
    rememberAgentAddress(card, address);
    rememberAgentStatus(card, () => this.#agents.get(key)?.status);
    const json = decoded.value as Record<string, unknown>;
    const accept = (signature: CardVerification | undefined): void => {
      const agent: DiscoveredAgent = {
        ...address,
        key,
        topic: message.topic,
        card,
        json,
        ...readStatus(message),
        issues,
        signature,
        receivedAt: Date.now(),
      };
      const current = this.#agents.get(key);
      this.#agents.set(key, agent);
      this.#emit(
        current ? { type: 'updated', key, agent, previous: current } : { type: 'added', key, agent },
      );
    };
    const verify = this.#verify;
    if (!verify) {
      accept(undefined);
      return;
    }
    void verifyAgentCardJson(json, verify).then((signature) => {
      if (this.#closing || this.#latest.get(key) !== sequence) return;
      if (verify.requireSignature && signature.status !== 'valid') {
        const reason = signature.status === 'unsigned' ? 'the card is not signed' : signature.reason;
        invalid(`signature check failed: ${reason}`, [reason]);
        return;
      }
      if (signature.status === 'invalid') {
        this.#logger.warn(`agent card on '${message.topic}' has no valid signature: ${signature.reason}`);
      }
      accept(signature);
    });
  }

  #emit(change: AgentRegistryChange | undefined): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.#logger.error('a registry listener threw', error);
      }
    }
  }

  get(agentIdOrKey: string): DiscoveredAgent | undefined {
    const byKey = this.#agents.get(agentIdOrKey);
    if (byKey) return byKey;
    for (const agent of this.#agents.values()) if (agent.agentId === agentIdOrKey) return agent;
    return undefined;
  }

  list(): DiscoveredAgent[] {
    return [...this.#agents.values()];
  }

  waitFor(agentIdOrKey: string, options: WaitForAgentOptions = {}): Promise<DiscoveredAgent> {
    const accepts = (agent: DiscoveredAgent | undefined): agent is DiscoveredAgent =>
      agent !== undefined && (!options.online || agent.status === 'online');
    const current = this.get(agentIdOrKey);
    if (accepts(current)) return Promise.resolve(current);
    const what = `wait for agent '${agentIdOrKey}'`;
    if (this.#closing)
      return Promise.reject(new MqttAgentsError('CLOSED', `cannot ${what}: the registry is closed`));
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal, what));
    return new Promise<DiscoveredAgent>((resolve, reject) => {
      const finish = (action: () => void): void => {
        this.#listeners.delete(listener);
        options.signal?.removeEventListener('abort', onAbort);
        clearTimeout(timer);
        action();
      };
      const listener = (change: AgentRegistryChange | undefined): void => {
        if (change === undefined) {
          finish(() => reject(new MqttAgentsError('CLOSED', `cannot ${what}: the registry closed`)));
          return;
        }
        const agent = this.get(agentIdOrKey);
        if (accepts(agent)) finish(() => resolve(agent));
      };
      const onAbort = (): void => finish(() => reject(abortError(options.signal as AbortSignal, what)));
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(
              () =>
                finish(() =>
                  reject(waitTimeout(agentIdOrKey, this.get(agentIdOrKey), options.timeoutMs as number)),
                ),
              options.timeoutMs,
            );
      this.#listeners.add(listener);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  changes(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<AgentRegistryChange> {
    const queue: AgentRegistryChange[] = [...this.#agents.values()].map((agent) => ({
      type: 'added',
      key: agent.key,
      agent,
    }));
    const waiters: Array<(result: IteratorResult<AgentRegistryChange>) => void> = [];
    let ended = this.#closing !== undefined;
    const end = (): void => {
      if (ended && waiters.length === 0) return;
      ended = true;
      this.#listeners.delete(listener);
      options.signal?.removeEventListener('abort', end);
      for (const waiter of waiters.splice(0)) waiter({ value: undefined, done: true });
    };
    const listener = (change: AgentRegistryChange | undefined): void => {
      if (change === undefined) {
        end();
        return;
      }
      const waiter = waiters.shift();
      if (waiter) waiter({ value: change, done: false });
      else queue.push(change);
    };
    if (!ended) {
      this.#listeners.add(listener);
      options.signal?.addEventListener('abort', end, { once: true });
    }
    const iterator: AsyncIterableIterator<AgentRegistryChange> = {
      next: () => {
        const queued = queue.shift();
        if (queued) return Promise.resolve({ value: queued, done: false });
        if (ended || options.signal?.aborted) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiters.push(resolve));
      },
      return: () => {
        queue.length = 0;
        end();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  [Symbol.asyncIterator](): AsyncIterator<AgentRegistryChange> {
    return this.changes();
  }

  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      for (const cleanup of this.#cleanups.splice(0)) cleanup();
      this.#emit(undefined);
      this.#listeners.clear();
      if (this.#connection.closed) return;
      if (this.#owned) {
        await this.#connection.close();
        return;
      }
      try {
        await this.#connection.unsubscribe(this.filter, AbortSignal.timeout(2_000));
      } catch (error) {
        this.#logger.debug(`could not unsubscribe from '${this.filter}'`, error);
      }
    })());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Discover A2A agents: subscribe to `$a2a/v1/discovery/{org}/{unit}/+` (or wider) and keep a live registry
 * of their retained cards. A later card replaces the earlier one; an empty retained payload unregisters;
 * `a2a-status` / `a2a-status-source` give advisory liveness, a broker's own status winning over the
 * agent's. Cards that are not JSON or fail the AgentCard schema are reported (`invalid` change, logger) and
 * skipped.
 */
export async function discoverAgents(options: DiscoverAgentsOptions): Promise<AgentRegistry> {
  const org = options.org === undefined ? undefined : assertOrgId(options.org);
  const unit = options.unit === undefined ? undefined : assertUnitId(options.unit);
  if (unit !== undefined && org === undefined) {
    throw new MqttAgentsError('INVALID_IDENTIFIER', 'discovery by unit needs an org as well');
  }
  let clientId: string | undefined;
  if (options.agentId !== undefined) {
    if (org === undefined || unit === undefined) {
      throw new MqttAgentsError(
        'INVALID_IDENTIFIER',
        'a registry client id {org}/{unit}/{agentId} needs org and unit',
      );
    }
    clientId = a2aClientId({ orgId: org, unitId: unit, agentId: assertAgentId(options.agentId) });
  }
  const filter = a2aDiscoveryFilter({
    ...(org === undefined ? {} : { orgId: org }),
    ...(unit === undefined ? {} : { unitId: unit }),
  });
  const logger = createLogger('mqtt-agents:a2a', options.logger);
  const opened = await openConnection(options.mqtt, {
    clientId,
    logger,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const registry = new Registry(
    opened.connection,
    opened.owned,
    filter,
    options.requireValid ?? true,
    logger,
    options.verifyCards,
  );
  return startOrClose(registry, () => registry.start(options.signal));
}
