import type { AgentCard } from '@a2a-js/sdk';
import { DefaultRequestHandler } from '@a2a-js/sdk/server';
import type {
  AgentExecutor,
  DefaultRequestHandlerOptions,
  ExtendedAgentCardProvider,
  PushNotificationSender,
  PushNotificationStore,
  TaskStore,
} from '@a2a-js/sdk/server';
import {
  A2AStatus,
  A2AStatusSource,
  A2AUserProperty,
  MqttAgentsError,
  a2aClientId,
  a2aDiscoveryTopic,
  a2aPoolRequestTopic,
  a2aPoolSubscription,
  a2aRequestTopic,
  assertGroupId,
  assertPoolId,
  assertAgentId,
  assertOrgId,
  assertUnitId,
  createLogger,
} from '@mqtt-agents/core';
import type { Logger, MqttConnection, MqttWill } from '@mqtt-agents/core';
import { agentCardToJson, buildAgentCard } from './agent-card.js';
import type { AgentCardInput } from './agent-card.js';
import { rememberAgentAddress } from './agent-address.js';
import type { AgentAddress } from './agent-address.js';
import { openConnection } from './mqtt-connection.js';
import type { MqttConnectionOptions } from './mqtt-connection.js';
import type { BinaryArtifactOptions } from './binary-artifacts.js';
import { signAgentCard } from './card-signatures.js';
import type { CardSigningOptions } from './card-signatures.js';
import { withSecurityMetadata } from './security-metadata.js';
import { PeerKeyResolver } from './discovery/peer-keys.js';
import { ReplayGuard, ubspPublicJwk } from './ubsp.js';
import type { ServeUbspOptions } from './ubsp.js';
import type { CardSecurityMetadata } from './security-metadata.js';
import { BearerVerifier } from './oauth.js';
import { BoundedTaskStore } from './bounded-task-store.js';
import type { BoundedTaskStoreOptions } from './bounded-task-store.js';
import type { BearerAuthOptions } from './oauth.js';
import { Responder } from './responder/responder.js';
import type { ResponderLimits } from './responder/api.js';
import { RequesterTaskIdStore, executorForRequesterTaskIds } from './requester-task-ids.js';

export interface ServeA2AOverMqttOptions {
  /** Where the broker is; with `url` the agent connects as `{org}/{unit}/{agentId}` with the profile's will. */
  mqtt: MqttConnectionOptions;
  org: string;
  unit: string;
  agentId: string;
  /** The agent's card; only `name` is required. The MQTT interface entry is added for you. */
  card: AgentCardInput;
  /** Your agent logic, exactly as for any `@a2a-js/sdk` server. */
  executor: AgentExecutor;
  /**
   * Pools this agent also serves (shared pool dispatch): it subscribes to
   * `$share/{group}/$a2a/v1/request/{org}/{unit}/pool/{poolId}` with the profile's deterministic group id
   * (or `groupId`, which every member of the pool must then share), and names itself in
   * `a2a-responder-agent-id` on every reply to a pooled request.
   */
  pools?: ReadonlyArray<string | { poolId: string; groupId?: string }>;
  /**
   * Default true: publish the card retained on the discovery topic, with presence and a will. False for an
   * instance that takes tasks handed over by a card-owning agent and has no card of its own.
   */
  publishCard?: boolean;
  /**
   * OAuth 2.0 / OIDC: validate `a2a-authorization: Bearer <token>` on every request (signature against the
   * issuer's keys, `exp`, `iss`, `aud`, and the scopes of `requiredScopes` and the card's
   * `securityRequirements`) before any executor runs. Executors see the caller in
   * `requestContext.context.user` (a `BearerTokenUser` with `claims` and `scopes`).
   */
  auth?: BearerAuthOptions;
  /**
   * Native binary artifact mode: when a streaming request asks for `a2a-artifact-mode=binary`, artifact
   * updates made of one raw part go as raw MQTT chunks instead of base64 JSON. Supported by default; false
   * answers such requests in JSON (and says so in `a2a-artifact-mode`).
   */
  binaryArtifacts?: BinaryArtifactOptions | false;
  /**
   * Sign the published card (JWS over its canonical JSON, A2A v1.0 §8.4), again on every `updateCard`.
   * Discovery subscribers verify it with `discoverAgents({ verifyCards })`.
   */
  signCard?: CardSigningOptions;
  /**
   * Public key metadata for the card (`jwksUri`, inline `jwks`), published in the
   * `urn:a2a:mqtt-profile:v1` extension as EIP-0033 describes. Only public key members are kept.
   */
  securityMetadata?: CardSecurityMetadata;
  /**
   * The untrusted-broker profile `ubsp-v1`: the card publishes the public key of `privateKey` (inline JWKS
   * in the security metadata); protected requests are decrypted and their replies and stream items
   * encrypted to the requester's key, resolved from its card (only signed ones with `verifyCards`).
   * `required: true` refuses plaintext requests.
   */
  ubsp?: ServeUbspOptions;
  /**
   * Where tasks live: any SDK `TaskStore`. Default: a fresh `BoundedTaskStore` with `taskLimits` (10,000
   * tasks, 64 MiB, terminal tasks kept 1 hour and evicted first, at most 5,000 unfinished tasks; see
   * `BoundedTaskStoreOptions`). With a `BoundedTaskStore` (yours or the default), new tasks beyond its
   * `maxActiveTasks` are refused with `responder_unavailable`.
   */
  taskStore?: TaskStore;
  /** Limits of the default task store; ignored when `taskStore` is given. */
  taskLimits?: Omit<BoundedTaskStoreOptions, 'logger'>;
  /**
   * Trust the `mqtt-agents-sender-*` user properties as the broker's verified identity of each request's
   * publisher. Only on a broker that strips and stamps them (the embedded broker with `agentTopicAcl`): on
   * any other broker a client writes them itself. Then executors see the sender as
   * `requestContext.context.user` (a `BrokerIdentityUser`, unless a bearer token was validated), tasks of
   * the default store are scoped per sender, and duplicate-detection limits count per sender. Default false:
   * the properties are ignored, the caller is unauthenticated (or the OAuth user), and limits count per
   * reply-topic identity `{org}/{unit}/{agent}`.
   */
  trustBrokerIdentity?: boolean;
  /**
   * Response Topics outside the profile's reply topics (`$a2a/v1/reply/{org}/{unit}/{agent}/{suffix}`)
   * that this agent answers too, as MQTT topic filters (`legacy/replies/#`). Default none: a request naming
   * any other Response Topic (another agent's request topic, a presence or MCP topic ...) is not answered,
   * and it is logged. Requests answered on such topics count for duplicate detection by the Response Topic
   * itself, which the client chooses.
   */
  allowedReplyTopics?: readonly string[];
  /** Broker URL written into the card when it differs from the one connected to (for example behind a proxy). */
  brokerUrl?: string;
  /** Served by `GetExtendedAgentCard` when `card.capabilities.extendedAgentCard` is true. */
  extendedAgentCard?: AgentCard | ExtendedAgentCardProvider;
  pushNotificationStore?: PushNotificationStore;
  pushNotificationSender?: PushNotificationSender;
  /** Passed to the SDK's `DefaultRequestHandler`. */
  requestHandlerOptions?: DefaultRequestHandlerOptions;
  limits?: ResponderLimits;
  /** How long `close()` waits for requests in flight before disconnecting, in ms. Default 2 000. */
  shutdownGraceMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
}

/** A running agent. Close it (or `await using` it) to go offline gracefully. */
export interface A2AMqttAgent {
  readonly org: string;
  readonly unit: string;
  readonly agentId: string;
  /** `{org}/{unit}/{agentId}`, also the MQTT client id when the agent opened the connection. */
  readonly clientId: string;
  readonly discoveryTopic: string;
  readonly requestTopic: string;
  /** The shared subscriptions of the pools the agent serves. */
  readonly poolSubscriptions: readonly string[];
  /** The card as published (with the MQTT interface entry). */
  readonly card: AgentCard;
  /** The SDK request handler serving the agent; useful to share its task store or call it in-process. */
  readonly requestHandler: DefaultRequestHandler;
  readonly connection: MqttConnection;
  /** True between `unregister()` and the next `updateCard()`. */
  readonly registered: boolean;
  /** Republish a changed card (retained, `a2a-status=online`). */
  updateCard(card: AgentCardInput, signal?: AbortSignal): Promise<void>;
  /** Clear the retained card (empty retained payload): discovery subscribers see the agent unregistered. */
  unregister(signal?: AbortSignal): Promise<void>;
  /**
   * Hand a task over to another agent instance: replies about it name `agentId` in
   * `a2a-responder-agent-id`, so requesters send its next operations there. See `handOverTask`.
   */
  handOver(taskId: string, agentId: string): void;
  /** Idempotent: republish the card as offline (unless unregistered), stop serving, disconnect. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function statusProperties(status: string, source: string): Record<string, string> {
  return { [A2AUserProperty.Status]: status, [A2AUserProperty.StatusSource]: source };
}

/**
 * Serve an A2A agent over MQTT: connect as `{org}/{unit}/{agentId}` with a will that marks the retained
 * card offline, subscribe to `$a2a/v1/request/{org}/{unit}/{agentId}`, publish the card retained with
 * `a2a-status=online`, and answer every A2A v1.0 method through the SDK's `DefaultRequestHandler`.
 */
export async function serveA2AOverMqtt(options: ServeA2AOverMqttOptions): Promise<A2AMqttAgent> {
  const address: AgentAddress = {
    org: assertOrgId(options.org),
    unit: assertUnitId(options.unit),
    agentId: assertAgentId(options.agentId),
  };
  const logger = createLogger('mqtt-agents:a2a', options.logger);
  const coreAddress = { orgId: address.org, unitId: address.unit, agentId: address.agentId };
  const clientId = a2aClientId(coreAddress);
  const discoveryTopic = a2aDiscoveryTopic(coreAddress);
  const requestTopic = a2aRequestTopic(coreAddress);
  const brokerUrlOf = (connected: string | undefined): string =>
    options.brokerUrl ?? connected ?? 'mqtt://localhost';
  const preliminaryUrl = options.brokerUrl ?? ('url' in options.mqtt ? options.mqtt.url : undefined);

  const pools = (options.pools ?? []).map((entry) => {
    const pool = typeof entry === 'string' ? { poolId: entry } : entry;
    const poolAddress = {
      orgId: address.org,
      unitId: address.unit,
      poolId: assertPoolId(pool.poolId),
      ...(pool.groupId === undefined ? {} : { groupId: assertGroupId(pool.groupId) }),
    };
    return { topic: a2aPoolRequestTopic(poolAddress), subscription: a2aPoolSubscription(poolAddress) };
  });
  const publishesCard = options.publishCard ?? true;

  const ubspKey = options.ubsp ? await ubspPublicJwk(options.ubsp) : undefined;
  const securityMetadata: CardSecurityMetadata = {
    ...options.securityMetadata,
    ...(ubspKey ? { jwks: { keys: [...(options.securityMetadata?.jwks?.keys ?? []), ubspKey] } } : {}),
  };
  /** The card as published: completed, with security metadata, signed when asked. */
  const finishCard = async (input: AgentCardInput, brokerUrl: string): Promise<AgentCard> => {
    let built = buildAgentCard(input, { brokerUrl, ...address });
    built = withSecurityMetadata(built, securityMetadata);
    return options.signCard ? await signAgentCard(built, options.signCard) : built;
  };
  const card = await finishCard(options.card, brokerUrlOf(preliminaryUrl));
  const will: MqttWill = {
    topic: discoveryTopic,
    payload: JSON.stringify(agentCardToJson(card)),
    qos: 1,
    retain: true,
    properties: {
      contentType: 'application/json',
      userProperties: statusProperties(A2AStatus.Offline, A2AStatusSource.Lwt),
    },
  };
  const opened = await openConnection(options.mqtt, {
    clientId,
    ...(publishesCard ? { will } : {}),
    logger,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const connection = opened.connection;
  if (!('url' in options.mqtt)) {
    if (connection.connack.clientId !== clientId) {
      logger.warn(
        `agent '${clientId}' runs on an MQTT client with id '${connection.connack.clientId}'; the profile wants '${clientId}'`,
      );
    }
    if (options.brokerUrl === undefined && opened.brokerUrl !== undefined) {
      Object.assign(card, await finishCard(options.card, brokerUrlOf(opened.brokerUrl)));
    }
  }

  const peerKeys = options.ubsp ? new PeerKeyResolver(options.ubsp, connection, logger) : undefined;
  const store = options.taskStore ?? new BoundedTaskStore({ ...options.taskLimits, logger });
  const taskIds = new RequesterTaskIdStore(store);
  const requestHandler = new DefaultRequestHandler(
    card,
    taskIds,
    executorForRequesterTaskIds(options.executor, taskIds),
    undefined,
    options.pushNotificationStore,
    options.pushNotificationSender,
    options.extendedAgentCard,
    undefined,
    options.requestHandlerOptions,
  );
  const responder = new Responder({
    connection,
    agentId: address.agentId,
    ...(options.auth ? { auth: new BearerVerifier(options.auth) } : {}),
    ...(options.binaryArtifacts === undefined ? {} : { binaryArtifacts: options.binaryArtifacts }),
    ...(options.ubsp && peerKeys
      ? {
          ubsp: {
            options: options.ubsp,
            keys: peerKeys,
            replay: new ReplayGuard({
              maxAgeSeconds: options.ubsp.maxAgeSeconds ?? 60,
              clockToleranceSeconds: options.ubsp.clockToleranceSeconds ?? 30,
            }),
          },
        }
      : {}),
    requestHandler,
    taskIds,
    card: () => card,
    tenant: `${address.org}/${address.unit}`,
    logger,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.trustBrokerIdentity === undefined
      ? {}
      : { trustBrokerIdentity: options.trustBrokerIdentity }),
    ...(options.allowedReplyTopics ? { allowedReplyTopics: options.allowedReplyTopics } : {}),
    ...(store instanceof BoundedTaskStore ? { taskAdmission: store } : {}),
  });

  let registered = true;
  let closing: Promise<void> | undefined;
  const publishCard = async (status: string, signal?: AbortSignal): Promise<void> => {
    if (!publishesCard) return;
    await connection.publish(
      discoveryTopic,
      JSON.stringify(agentCardToJson(card)),
      {
        qos: 1,
        retain: true,
        properties: {
          contentType: 'application/json',
          userProperties: statusProperties(status, A2AStatusSource.Agent),
        },
      },
      signal,
    );
  };

  const cleanups: Array<() => void> = [];
  try {
    cleanups.push(connection.addMessageHandler(requestTopic, responder.onMessage));
    for (const pool of pools) cleanups.push(connection.addMessageHandler(pool.topic, responder.onMessage));
    // Requests are never retained: no retained messages at subscribe (retain handling 2), and the retain
    // flag as published on live ones (retain as published), so the responder can ignore and report them.
    await connection.subscribe(
      [requestTopic, ...pools.map((pool) => pool.subscription)],
      { qos: 1, retainAsPublished: true, retainHandling: 2 },
      options.signal,
    );
    await publishCard(A2AStatus.Online, options.signal);
  } catch (error) {
    for (const cleanup of cleanups) cleanup();
    if (opened.owned) await connection.close();
    throw error;
  }
  // After an ungraceful drop the broker published our will: say we are back.
  cleanups.push(
    connection.on('connection-open', () => {
      if (!registered || closing) return;
      publishCard(A2AStatus.Online).catch((error: unknown) =>
        logger.warn('could not republish the agent card', error),
      );
    }),
  );
  logger.info(`agent '${clientId}' serves A2A on '${requestTopic}'`);

  const close = (): Promise<void> =>
    (closing ??= (async () => {
      if (registered && publishesCard && connection.connected) {
        try {
          await publishCard(A2AStatus.Offline, AbortSignal.timeout(2_000));
        } catch (error) {
          logger.warn('could not publish the offline card', error);
        }
      }
      await responder.drain(options.shutdownGraceMs ?? 2_000);
      await peerKeys?.close();
      for (const cleanup of cleanups.splice(0)) cleanup();
      if (connection.connected) {
        try {
          await connection.unsubscribe(
            [requestTopic, ...pools.map((pool) => pool.subscription)],
            AbortSignal.timeout(2_000),
          );
        } catch (error) {
          logger.debug('could not unsubscribe from the request topic', error);
        }
      }
      if (opened.owned) await connection.close();
      logger.info(`agent '${clientId}' closed`);
    })());

  const agent: A2AMqttAgent = {
    ...address,
    clientId,
    discoveryTopic,
    requestTopic,
    poolSubscriptions: pools.map((pool) => pool.subscription),
    get card() {
      return card;
    },
    requestHandler,
    connection,
    get registered() {
      return registered;
    },
    async updateCard(input: AgentCardInput, signal?: AbortSignal) {
      if (closing)
        throw new MqttAgentsError('CLOSED', `cannot update the card of agent '${clientId}': it is closed`);
      // Updated in place: the SDK request handler holds this very object.
      Object.assign(
        card,
        await finishCard(input, card.supportedInterfaces[0]?.url ?? brokerUrlOf(opened.brokerUrl)),
      );
      registered = true;
      await publishCard(A2AStatus.Online, signal);
    },
    async unregister(signal?: AbortSignal) {
      if (closing) throw new MqttAgentsError('CLOSED', `cannot unregister agent '${clientId}': it is closed`);
      registered = false;
      if (publishesCard) await connection.publish(discoveryTopic, '', { qos: 1, retain: true }, signal);
    },
    handOver(taskId: string, agentId: string) {
      responder.handOver(taskId, agentId);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  rememberAgentAddress(card, address);
  return agent;
}
