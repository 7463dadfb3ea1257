import type { AgentCard } from '@a2a-js/sdk';
import type { TransportFactory } from '@a2a-js/sdk/client';
import {
  MqttAgentsError,
  a2aClientId,
  a2aReplyTopic,
  assertAgentId,
  assertOrgId,
  assertPoolId,
  assertReplySuffix,
  assertUnitId,
  createLogger,
  createRequestReply,
  openConnection,
} from '@mqtt-agents/core';
import type {
  Logger,
  MqttConnection,
  MqttConnectionOptions,
  MqttMessage,
  UnmatchedReplyReason,
} from '@mqtt-agents/core';
import { MQTT_PROTOCOL_BINDING, MQTT_PROTOCOL_BINDING_ALIASES, mqttInterfaces } from './agent-card.js';
import { agentAddressOf } from './agent-address.js';
import type { AgentAddress } from './agent-address.js';
import { A2AMqttClientTransport } from './requester/transport.js';
import { signalOf } from './serve-agent-types.js';
import type { SignalOptions } from './serve-agent-types.js';
import type { RequesterSession } from './requester/session.js';
import { UbspRequesterCodec } from './security/ubsp-codec.js';
import { DEFAULT_RETRY_POLICY } from './retry-policy.js';
import type { RetryPolicy } from './retry-policy.js';
import type { RequesterAuthOptions } from './oauth.js';
import { PeerKeyResolver } from './discovery/peer-keys.js';
import { ReplayGuard } from './ubsp.js';
import type { UbspOptions } from './ubsp.js';
import { createMemoryTaskRouteStore, isPoolAddress } from './task-routes.js';
import type { PoolAddress, TaskRouteStore } from './task-routes.js';

/**
 * How `mqttTransportFactory` reaches agents: the broker, the requester's identity, and the retry, routing
 * and security settings every transport of the factory shares.
 */
export interface MqttTransportFactoryOptions {
  /** The broker; with `url` the requester connects as `{org}/{unit}/{agentId}`. */
  mqtt: MqttConnectionOptions;
  /** The requester's own identity: client id and reply topic `$a2a/v1/reply/{org}/{unit}/{agentId}/{suffix}`. */
  org: string;
  unit: string;
  agentId: string;
  /** Last level of the reply topic. Default: a random UUID (collision resistant across requesters). */
  replySuffix?: string;
  /** Timeouts and retries; unset fields keep the profile's defaults (`DEFAULT_RETRY_POLICY`). */
  retry?: Partial<RetryPolicy>;
  /** Message Expiry Interval on requests, in seconds; should exceed the first-reply timeout. Default: none. */
  requestExpirySeconds?: number;
  /**
   * Which agent a card belongs to, for cards that did not come from `discoverAgents()` or
   * `serveA2AOverMqtt()`. Return an address, an agent id in the card's tenant `{org}/{unit}`, or a pool
   * (`{ org, unit, poolId }`) to send to the pool's members instead.
   */
  resolveAgent?: (card: AgentCard) => AgentAddress | PoolAddress | string | undefined;
  /**
   * Where the requester keeps (taskId -> responder) learnt from `a2a-responder-agent-id` on pooled and
   * handed-over tasks. Default: in memory (24 h, 10 000 tasks). Give a persistent store to keep routing
   * across restarts.
   */
  taskRoutes?: TaskRouteStore;
  /**
   * When the agent a card belongs to is known to be offline (its retained card, from `discoverAgents()`,
   * says `a2a-status: offline`): `fail` rejects every request to it at once with `MqttAgentsError`
   * `AGENT_OFFLINE`, instead of waiting through the retry profile's attempts for an answer that cannot
   * come (49 s with the defaults); `send` sends anyway (an agent may come back within the retries). Agents
   * whose status is online or unknown, pools, and tasks routed to another agent are never refused.
   * Default `fail`.
   */
  offlineAgents?: 'fail' | 'send';
  /**
   * When the agent a task was handed over to does not answer within all attempts, try the card's agent once
   * more (and forget the handover). Default true.
   */
  fallbackToCardAgent?: boolean;
  /**
   * OAuth 2.0 / OIDC: a token provider whose tokens go into `a2a-authorization: Bearer <token>` on every
   * request to an agent whose card asks for a bearer scheme. Tokens are refused on connections without TLS
   * unless `allowInsecureTransport` is set.
   */
  auth?: RequesterAuthOptions;
  /**
   * `binary`: streaming requests (SendStreamingMessage, SubscribeToTask) ask for `a2a-artifact-mode=binary`;
   * artifacts the agent sends as raw chunks are reassembled (order, duplicates, last chunk) into one
   * artifact update each. Agents without binary support answer in JSON. Default `json`.
   */
  artifactMode?: 'json' | 'binary';
  /**
   * Largest JSON reply accepted, in bytes (a Task with its artifacts, base64 included). Larger replies are
   * protocol errors. Default 16 MiB.
   */
  maxReplyBytes?: number;
  /**
   * The untrusted-broker profile `ubsp-v1`: every request is JWE-encrypted to the agent's key (from its
   * card's security metadata, only signed cards with `verifyCards`), every reply must be encrypted to
   * `privateKey`'s public key, which responders find in this requester's card: publish one (serve the
   * requester as an agent and share its connection) or give agents a `resolveKey`. Nothing is ever sent in
   * plaintext when no trusted key is found.
   */
  ubsp?: UbspOptions;
  /** Told about replies that match no request (missing, unknown or late correlation). */
  onUnmatchedReply?: (reply: MqttMessage, reason: UnmatchedReplyReason) => void;
  logger?: Logger;
}

/** What `MqttTransportFactory.transportFor` needs besides the agent's address. */
export interface TransportForOptions {
  /** Aborts connecting and subscribing the reply topic, when the factory is not connected yet. */
  signal?: AbortSignal;
  /** The agent's card: its `securityRequirements` decide whether requests carry a bearer token. */
  card?: AgentCard;
}

interface Session extends RequesterSession {
  readonly connection: MqttConnection;
  readonly owned: boolean;
}

/**
 * The MQTT `TransportFactory` for `@a2a-js/sdk`'s `ClientFactory`. Its `protocolName` is `MQTT5+JSONRPC`;
 * `aliases()` gives factories for other spellings of the binding (`MQTTv5+JSONRPCv2`) sharing the same
 * connection. Every transport it creates shares one MQTT connection (client id `{org}/{unit}/{agentId}`)
 * and one reply topic, subscribed before the first request. Nothing connects until the first `create()`.
 */
export class MqttTransportFactory implements TransportFactory {
  readonly identity: AgentAddress;
  readonly replyTopic: string;
  readonly #options: MqttTransportFactoryOptions;
  readonly #protocolName: string;
  readonly #shared: { session: Promise<Session> | undefined; closing: Promise<void> | undefined };
  readonly #logger: Logger;
  readonly #routes: TaskRouteStore;

  constructor(
    options: MqttTransportFactoryOptions,
    protocolName = MQTT_PROTOCOL_BINDING,
    shared?: MqttTransportFactory,
  ) {
    this.identity = {
      org: assertOrgId(options.org),
      unit: assertUnitId(options.unit),
      agentId: assertAgentId(options.agentId),
    };
    this.replyTopic = shared
      ? shared.replyTopic
      : a2aReplyTopic({
          orgId: this.identity.org,
          unitId: this.identity.unit,
          agentId: this.identity.agentId,
          replySuffix: assertReplySuffix(options.replySuffix ?? globalThis.crypto.randomUUID()),
        });
    this.#options = options;
    this.#protocolName = protocolName;
    this.#shared = shared ? shared.#shared : { session: undefined, closing: undefined };
    this.#logger = createLogger('mqtt-agents:a2a', options.logger);
    this.#routes = shared ? shared.#routes : (options.taskRoutes ?? createMemoryTaskRouteStore());
  }

  get protocolName(): string {
    return this.#protocolName;
  }

  /** The effective retry and timeout policy. */
  get retryPolicy(): RetryPolicy {
    return { ...DEFAULT_RETRY_POLICY, ...this.#options.retry };
  }

  /** A factory for another spelling of the binding, sharing this one's connection. */
  forProtocolName(protocolName: string): MqttTransportFactory {
    return new MqttTransportFactory(this.#options, protocolName, this);
  }

  /** Factories for the accepted alternative spellings (`MQTTv5+JSONRPCv2`): `transports: [factory, ...factory.aliases()]`. */
  aliases(): MqttTransportFactory[] {
    return MQTT_PROTOCOL_BINDING_ALIASES.map((name) => this.forProtocolName(name));
  }

  /**
   * Connect and subscribe to the reply topic now instead of on the first `create()`. A bare `AbortSignal`
   * is deprecated: pass `{ signal }`.
   */
  async connect(options?: SignalOptions | AbortSignal): Promise<MqttConnection> {
    return (await this.#session(signalOf(options))).connection;
  }

  /** Called by `ClientFactory`: a transport for the agent this card belongs to. */
  async create(url: string, agentCard: AgentCard): Promise<A2AMqttClientTransport> {
    const target = this.#resolve(agentCard);
    if (!mqttInterfaces(agentCard).some((entry) => entry.url === url)) {
      this.#logger.debug(`card '${agentCard.name}' offers no MQTT interface at '${url}'`);
    }
    return this.transportFor(target, { card: agentCard });
  }

  /**
   * A transport for an agent given by address, without a card; or for a pool (`{ org, unit, poolId }`):
   * requests go to `$a2a/v1/request/{org}/{unit}/pool/{poolId}`, and once a member answered for a task, that
   * task's operations go to the member directly.
   */
  async transportFor(
    target: AgentAddress | PoolAddress,
    options?: AbortSignal | TransportForOptions,
  ): Promise<A2AMqttClientTransport> {
    const { signal, card } =
      options instanceof AbortSignal ? { signal: options, card: undefined } : (options ?? {});
    const address: AgentAddress | PoolAddress = isPoolAddress(target)
      ? { org: assertOrgId(target.org), unit: assertUnitId(target.unit), poolId: assertPoolId(target.poolId) }
      : {
          org: assertOrgId(target.org),
          unit: assertUnitId(target.unit),
          agentId: assertAgentId(target.agentId),
        };
    return new A2AMqttClientTransport(await this.#session(signal), address, this.#protocolName, card);
  }

  /** The route store: which agent serves a pooled or handed-over task. */
  get taskRoutes(): TaskRouteStore {
    return this.#routes;
  }

  #resolve(card: AgentCard): AgentAddress | PoolAddress {
    const resolved = this.#options.resolveAgent?.(card) ?? agentAddressOf(card);
    if (typeof resolved === 'object') return resolved;
    if (typeof resolved === 'string') {
      const tenant = mqttInterfaces(card).find((entry) => entry.tenant)?.tenant;
      const [org, unit] = tenant?.split('/') ?? [];
      return { org: org ?? this.identity.org, unit: unit ?? this.identity.unit, agentId: resolved };
    }
    throw new MqttAgentsError(
      'UNSUPPORTED',
      `cannot tell which agent the card '${card.name}' belongs to: use a card from discoverAgents() or serveA2AOverMqtt(), or pass resolveAgent`,
      { details: { card: card.name } },
    );
  }

  #session(signal?: AbortSignal): Promise<Session> {
    if (this.#shared.closing) {
      return Promise.reject(
        new MqttAgentsError('CLOSED', 'cannot create a transport: the MQTT transport factory is closed'),
      );
    }
    const pending = (this.#shared.session ??= this.#open(signal));
    // A failed attempt must not poison later ones.
    pending.catch(() => {
      if (this.#shared.session === pending) this.#shared.session = undefined;
    });
    return pending;
  }

  async #open(signal: AbortSignal | undefined): Promise<Session> {
    const clientId = a2aClientId({
      orgId: this.identity.org,
      unitId: this.identity.unit,
      agentId: this.identity.agentId,
    });
    const opened = await openConnection(this.#options.mqtt, {
      clientId,
      logger: this.#logger,
      ...(signal ? { signal } : {}),
    });
    const policy = this.retryPolicy;
    try {
      const requestReply = await createRequestReply({
        connection: opened.connection,
        replyTopic: this.replyTopic,
        qos: 1,
        timeoutMs: policy.replyFirstTimeoutMs,
        idleTimeoutMs: policy.streamIdleTimeoutMs,
        logger: this.#logger,
        ...(this.#options.onUnmatchedReply ? { onUnmatched: this.#options.onUnmatchedReply } : {}),
        ...(signal ? { signal } : {}),
      });
      return {
        connection: opened.connection,
        owned: opened.owned,
        routes: this.#routes,
        fallbackToCardAgent: this.#options.fallbackToCardAgent ?? true,
        offlineAgents: this.#options.offlineAgents ?? 'fail',
        auth: this.#options.auth,
        artifactMode: this.#options.artifactMode ?? 'json',
        maxReplyBytes: this.#options.maxReplyBytes ?? 16 * 1024 * 1024,
        identity: this.identity,
        replyTopic: this.replyTopic,
        ubsp: this.#options.ubsp
          ? new UbspRequesterCodec(
              {
                options: this.#options.ubsp,
                keys: new PeerKeyResolver(this.#options.ubsp, opened.connection, this.#logger),
                replay: new ReplayGuard({
                  maxAgeSeconds: this.#options.ubsp.maxAgeSeconds ?? 60,
                  clockToleranceSeconds: this.#options.ubsp.clockToleranceSeconds ?? 30,
                }),
              },
              this.identity.agentId,
              this.replyTopic,
            )
          : undefined,
        requestReply,
        policy,
        requestExpirySeconds: this.#options.requestExpirySeconds,
        logger: this.#logger,
      };
    } catch (error) {
      if (opened.owned) await opened.connection.close();
      throw error;
    }
  }

  /** Idempotent: ends every pending request, unsubscribes the reply topic and closes the connection it opened. */
  close(): Promise<void> {
    return (this.#shared.closing ??= (async () => {
      const pending = this.#shared.session;
      if (!pending) return;
      let session: Session;
      try {
        session = await pending;
      } catch {
        return;
      }
      await session.requestReply.close();
      await session.ubsp?.close();
      if (session.owned) await session.connection.close();
    })());
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The MQTT transport factory for `new ClientFactory({ transports: [mqttTransportFactory({...})] })`. */
export function mqttTransportFactory(options: MqttTransportFactoryOptions): MqttTransportFactory {
  return new MqttTransportFactory(options);
}
