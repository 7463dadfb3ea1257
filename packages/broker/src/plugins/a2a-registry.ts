// The A2A registry (EMQX EIP-0033) as an opt-in plugin of the embedded broker: validates retained Agent
// Cards on `$a2a/v1/discovery/{org}/{unit}/{agent}` (PUBACK reason codes for refusals), binds the topic to
// the publisher's client id, limits registrations per agent, applies a trusted-JKU list, and attaches
// broker-managed `a2a-status` / `a2a-status-source=broker` from the agent's live connection.
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

const DISCOVERY_PREFIX = '$a2a/v1/discovery/';
const IDENTIFIER = /^[A-Za-z0-9_.-]+$/;

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
  /** Registrations per agent per window (EIP-0033 `registration_rate_limit`). Default 10 per minute; false: none. */
  registrationRateLimit?: { max: number; windowMs: number } | false;
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

/** The agent of `$a2a/v1/discovery/{org}/{unit}/{agent}`, or undefined for another or a malformed topic. */
export function parseDiscoveryTopic(topic: string): A2aAgentIdentity | 'malformed' | undefined {
  if (!topic.startsWith(DISCOVERY_PREFIX)) return undefined;
  const levels = topic.slice(DISCOVERY_PREFIX.length).split('/');
  if (levels.length !== 3 || !levels.every((level) => IDENTIFIER.test(level))) return 'malformed';
  const [org, unit, agentId] = levels as [string, string, string];
  return { org, unit, agentId, clientId: `${org}/${unit}/${agentId}` };
}

function isTrusted(jku: string, trusted: readonly string[]): boolean {
  return trusted.some((entry) => (entry.endsWith('/') ? jku.startsWith(entry) : jku === entry));
}

function firstValue(properties: UserProperties | undefined, name: string): string | undefined {
  const value = properties?.[name];
  return Array.isArray(value) ? value[0] : value;
}

const STATUS = 'a2a-status';
const STATUS_SOURCE = 'a2a-status-source';

/**
 * The A2A registry plugin (EIP-0033). Use: `const registry = a2aRegistry(); const broker = await
 * startBroker({ ...registry.hooks }); registry.attach(broker);`.
 */
export function a2aRegistry(
  options: A2aRegistryOptions = {},
): BrokerPlugin & { attach(broker: Broker): () => void } {
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
        'not $a2a/v1/discovery/{org}/{unit}/{agent}',
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
    let card: unknown;
    try {
      card = JSON.parse(message.payload.toString('utf8'));
    } catch {
      return refuse(A2A_REGISTRY_REASON.invalidCard, message.topic, 'not JSON');
    }
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
    // Status-only republications (offline, will) are not registrations.
    const offline = firstValue(message.properties.userProperties, STATUS) === 'offline';
    if (limit && !offline) {
      const now = Date.now();
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
      if (options.brokerStatus === false) return () => {};
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
        const levels = clientId.split('/');
        return levels.length === 3 && levels.every((level) => IDENTIFIER.test(level))
          ? `${DISCOVERY_PREFIX}${clientId}`
          : undefined;
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
      };
    },
  };
}
