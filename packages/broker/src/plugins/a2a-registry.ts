// The A2A registry (EMQX EIP-0033) as an opt-in plugin of the embedded broker: validates retained Agent
// Cards on `$a2a/v1/discovery/{org}/{unit}/{agent}` (PUBACK reason codes for refusals), binds the topic to
// the publisher's client id, limits registrations per agent, applies a trusted-JKU list, and attaches
// broker-managed `a2a-status` / `a2a-status-source=broker` from the agent's live connection.
import {
  A2A_DISCOVERY_PREFIX,
  buildA2aTopic,
  decodeJson,
  parseA2aClientId,
  parseA2aTopic,
} from '@mqtt-agents/core/grammar';
import type {
  Broker,
  BrokerLogger,
  ClientInfo,
  PublishedMessage,
  ReasonCode,
  UserProperties,
} from '../types.js';
import { agentCardProblems, cardJwksUri, hasSecurityMetadata } from './agent-card-shape.js';
import type { BrokerPlugin } from './plugin.js';

/** Agents whose registration times are tracked before expired ones are swept out. */
const SWEEP_AT = 10_000;

/**
 * PUBACK reason codes the registry refuses with (only codes MQTT 5 allows in PUBACK: 0x96 "Message rate too
 * high" is a DISCONNECT code, and MQTT.js treats it in a PUBACK as a protocol error).
 */
export const A2A_REGISTRY_REASON = {
  /** The topic is not `$a2a/v1/discovery/{org}/{unit}/{agent}` with valid identifiers. */
  invalidTopic: 0x90,
  /** The publisher's client id is not `{org}/{unit}/{agent}` of the topic, or the card names an untrusted JKU. */
  notAuthorized: 0x87,
  /** Not JSON, or not an AgentCard. */
  invalidCard: 0x99,
  /** Larger than `maxCardBytes`. */
  tooLarge: 0x97,
  /** More registrations than the rate limit allows. */
  rateTooHigh: 0x97,
} as const;

/**
 * How `a2aRegistry` checks Agent Cards published on the discovery topics: size, shape, identity, trusted
 * JKUs, signatures and the registration rate, and whether the broker stamps the agent's status.
 */
export interface A2aRegistryOptions {
  /** Largest card, in bytes (EIP-0033 `max_card_size`). Default 65 536. */
  maxCardBytes?: number;
  /**
   * Check cards: return the problems (empty when valid). Default: a structural AgentCard check; pass
   * `(card) => { const r = agentCardSchema.safeParse(card); ... }` from @mqtt-agents/a2a for the full schema.
   */
  validateCard?: (card: unknown) => readonly string[];
  /** Only `{org}/{unit}/{agent}` may publish the card of `{org}/{unit}/{agent}`. Default true. */
  enforceIdentity?: boolean;
  /** Attach `a2a-status` and `a2a-status-source=broker` from the agent's connection. Default true. */
  brokerStatus?: boolean;
  /**
   * Trusted-JKU policy (EIP-0033 `trusted_jkus`): when non-empty, a card must carry a `jwksUri` on the list
   * (exact, or under an entry ending in `/`). Empty: permissive.
   */
  trustedJkus?: readonly string[];
  /** Cards must carry security metadata (`jwksUri` or inline `jwks`). Default false. */
  requireSecurityMetadata?: boolean;
  /**
   * Further checks, for example a card signature (`verifyAgentCardJson` of @mqtt-agents/a2a): return true to
   * accept, or the reason to refuse (PUBACK 0x87).
   */
  verifyCard?: (
    card: Record<string, unknown>,
    agent: A2aAgentIdentity,
  ) => true | string | Promise<true | string>;
  /**
   * Registrations per agent per window (EIP-0033 `registration_rate_limit`). Default 10 per minute; false:
   * none. A republication whose payload is byte-identical to the retained card (a status change: going
   * offline, a will) is not a registration; what the publisher's own `a2a-status` says does not matter.
   * Needs `attach(broker)` to see the retained card; without it every publication counts.
   */
  registrationRateLimit?: { max: number; windowMs: number } | false;
  /** Where refused cards are reported (info level); default silent. */
  logger?: BrokerLogger;
}

/** The agent a discovery topic names. */
export interface A2aAgentIdentity {
  readonly org: string;
  readonly unit: string;
  readonly agentId: string;
  /** `{org}/{unit}/{agent}`: its MQTT client id. */
  readonly clientId: string;
}

/**
 * The agent of `$a2a/v1/discovery/{org}/{unit}/{agent}` (core's grammar: valid identifiers, `pool` is no
 * agent id), `malformed` for another topic under that prefix, undefined for any other topic.
 */
export function parseDiscoveryTopic(topic: string): A2aAgentIdentity | 'malformed' | undefined {
  if (!topic.startsWith(A2A_DISCOVERY_PREFIX)) return undefined;
  const parsed = parseA2aTopic(topic);
  if (parsed?.kind !== 'discovery') return 'malformed';
  const { orgId: org, unitId: unit, agentId } = parsed;
  return { org, unit, agentId, clientId: `${org}/${unit}/${agentId}` };
}

function isTrusted(jku: string, trusted: readonly string[]): boolean {
  return trusted.some((entry) => (entry.endsWith('/') ? jku.startsWith(entry) : jku === entry));
}

function firstValue(properties: UserProperties | undefined, name: string): string | undefined {
  const value = properties?.[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Drop agents whose registrations all left the window (keeps the table bounded by time). */
function sweep(registrations: Map<string, number[]>, since: number): void {
  for (const [agent, times] of registrations) {
    if ((times.at(-1) ?? 0) <= since) registrations.delete(agent);
  }
}

const STATUS = 'a2a-status';
const STATUS_SOURCE = 'a2a-status-source';

/**
 * The A2A registry plugin (EIP-0033). Use: `const registry = a2aRegistry(); const broker = await
 * startBroker({ ...registry.hooks }); registry.attach(broker);`.
 */
export function a2aRegistry(options: A2aRegistryOptions = {}): BrokerPlugin & {
  /**
   * Connect the registry to a running broker: it then sees retained cards (for the rate limit) and stamps
   * broker-managed status on them. Returns a function that detaches it.
   */
  attach(broker: Broker): () => void;
} {
  const maxCardBytes = options.maxCardBytes ?? 65_536;
  const validate = options.validateCard ?? agentCardProblems;
  const enforceIdentity = options.enforceIdentity ?? true;
  const trusted = options.trustedJkus ?? [];
  const limit =
    options.registrationRateLimit === false
      ? undefined
      : (options.registrationRateLimit ?? { max: 10, windowMs: 60_000 });
  const registrations = new Map<string, number[]>();
  const logger = options.logger;
  let attached: Broker | undefined;

  const refuse = (code: ReasonCode, topic: string, why: string): ReasonCode => {
    logger?.info(`mqtt-agents:broker:a2a-registry: refused the card on '${topic}': ${why}`);
    return code;
  };

  const authorizePublish = (client: ClientInfo, message: PublishedMessage) => {
    const agent = parseDiscoveryTopic(message.topic);
    if (agent === undefined) return true as const;
    if (agent === 'malformed') {
      return refuse(
        A2A_REGISTRY_REASON.invalidTopic,
        message.topic,
        `not ${A2A_DISCOVERY_PREFIX}{org}/{unit}/{agent}`,
      );
    }
    if (enforceIdentity && client.id !== agent.clientId) {
      return refuse(
        A2A_REGISTRY_REASON.notAuthorized,
        message.topic,
        `client '${client.id}' may only register its own card ('${agent.clientId}' is another agent)`,
      );
    }
    if (message.payload.length === 0) return true as const; // unregistration
    if (message.payload.length > maxCardBytes) {
      return refuse(
        A2A_REGISTRY_REASON.tooLarge,
        message.topic,
        `${message.payload.length} bytes > ${maxCardBytes}`,
      );
    }
    // The receivers' decoder (strict UTF-8, one BOM, no `__proto__`, bounded depth): the card judged is the
    // card discovery reads.
    const decoded = decodeJson(message.payload, { maxBytes: maxCardBytes });
    if (!decoded.ok) return refuse(A2A_REGISTRY_REASON.invalidCard, message.topic, decoded.error.message);
    const card = decoded.value;
    const problems = validate(card);
    if (problems.length > 0) {
      return refuse(
        A2A_REGISTRY_REASON.invalidCard,
        message.topic,
        `not an AgentCard: ${problems.join('; ')}`,
      );
    }
    if (options.requireSecurityMetadata && !hasSecurityMetadata(card)) {
      return refuse(A2A_REGISTRY_REASON.invalidCard, message.topic, 'the card has no security metadata');
    }
    if (trusted.length > 0) {
      const jwksUri = cardJwksUri(card);
      if (jwksUri === undefined || !isTrusted(jwksUri, trusted)) {
        return refuse(
          A2A_REGISTRY_REASON.notAuthorized,
          message.topic,
          jwksUri === undefined ? 'the card names no jwksUri' : `jwksUri '${jwksUri}' is not trusted`,
        );
      }
    }
    // A republication of the retained card's exact bytes (going offline, a will) registers nothing new.
    // Never decided on the publisher's own `a2a-status`: anyone can write "offline" on a new card.
    const retained = attached?.closed === false ? attached.getRetained(message.topic) : undefined;
    const unchanged = retained !== undefined && retained.payload.equals(message.payload);
    if (limit && !unchanged) {
      const now = Date.now();
      if (registrations.size >= SWEEP_AT && !registrations.has(agent.clientId)) {
        sweep(registrations, now - limit.windowMs);
      }
      const recent = (registrations.get(agent.clientId) ?? []).filter((at) => at > now - limit.windowMs);
      if (recent.length >= limit.max) {
        registrations.set(agent.clientId, recent);
        return refuse(
          A2A_REGISTRY_REASON.rateTooHigh,
          message.topic,
          `more than ${limit.max} registrations in ${limit.windowMs} ms`,
        );
      }
      recent.push(now);
      registrations.set(agent.clientId, recent);
    }
    const verify = options.verifyCard;
    if (!verify) return true as const;
    return Promise.resolve(verify(card as Record<string, unknown>, agent)).then(
      (verdict) =>
        verdict === true ? true : refuse(A2A_REGISTRY_REASON.notAuthorized, message.topic, verdict),
      (error: unknown) =>
        refuse(A2A_REGISTRY_REASON.notAuthorized, message.topic, `verifyCard failed: ${String(error)}`),
    );
  };

  return {
    name: 'a2a-registry',
    hooks: { authorizePublish },
    attach(broker: Broker): () => void {
      attached = broker;
      if (options.brokerStatus === false) {
        return () => {
          if (attached === broker) attached = undefined;
        };
      }
      /**
       * Republish the retained card of `topic` with the broker's view of the agent's connection (payload
       * untouched), unless it already says so.
       */
      const stamp = (topic: string, clientId: string): void => {
        if (broker.closed) return;
        const retained = broker.getRetained(topic);
        if (!retained || retained.payload.length === 0) return;
        const status = broker.clientIds.includes(clientId) ? 'online' : 'offline';
        const properties = retained.properties.userProperties ?? {};
        if (firstValue(properties, STATUS_SOURCE) === 'broker' && firstValue(properties, STATUS) === status)
          return;
        const userProperties: UserProperties = { ...properties, [STATUS]: status, [STATUS_SOURCE]: 'broker' };
        broker.publish({
          topic,
          payload: retained.payload,
          qos: retained.qos,
          retain: true,
          properties: { ...retained.properties, userProperties },
        });
      };
      const later = (topic: string, clientId: string) => queueMicrotask(() => stamp(topic, clientId));
      const onPublish = (message: PublishedMessage, client: ClientInfo | undefined): void => {
        if (client === undefined || !message.retain || message.payload.length === 0) return; // ours, or a removal
        const agent = parseDiscoveryTopic(message.topic);
        if (agent === undefined || agent === 'malformed') return;
        later(message.topic, agent.clientId);
      };
      const topicOf = (clientId: string): string | undefined => {
        const agent = parseA2aClientId(clientId);
        return agent ? buildA2aTopic({ kind: 'discovery', ...agent }) : undefined;
      };
      const onConnect = (client: ClientInfo): void => {
        const topic = topicOf(client.id);
        if (topic) later(topic, client.id);
      };
      const onDisconnect = (client: ClientInfo): void => {
        const topic = topicOf(client.id);
        if (topic) later(topic, client.id);
      };
      broker.on('message-publish', onPublish);
      broker.on('client-connect', onConnect);
      broker.on('client-disconnect', onDisconnect);
      return () => {
        broker.off('message-publish', onPublish);
        broker.off('client-connect', onConnect);
        broker.off('client-disconnect', onDisconnect);
        if (attached === broker) attached = undefined;
      };
    },
  };
}
