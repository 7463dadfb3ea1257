import type { AgentCard } from '@a2a-js/sdk';
import { DefaultRequestHandler } from '@a2a-js/sdk/server';
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
  assertAgentId,
  assertGroupId,
  assertOrgId,
  assertPoolId,
  assertUnitId,
  createLogger,
  openConnection,
} from '@mqtt-agents/core';
import type { MqttWill } from '@mqtt-agents/core';
import { agentCardToJson, buildAgentCard } from './agent-card.js';
import type { AgentCardInput } from './agent-card.js';
import { rememberAgentAddress } from './agent-address.js';
import type { AgentAddress } from './agent-address.js';
import { signAgentCard } from './card-signatures.js';
import { withSecurityMetadata } from './security-metadata.js';
import { PeerKeyResolver } from './discovery/peer-keys.js';
import { ReplayGuard, ubspPublicJwk } from './ubsp.js';
import type { CardSecurityMetadata } from './security-metadata.js';
import { BearerVerifier } from './oauth.js';
import { BoundedTaskStore } from './bounded-task-store.js';
import { Responder } from './responder/responder.js';
import { signalOf } from './serve-agent-types.js';
import type { A2AMqttAgent, ServeA2AOverMqttOptions, SignalOptions } from './serve-agent-types.js';

import { RequesterTaskIdStore, executorForRequesterTaskIds } from './requester-task-ids.js';

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
    async updateCard(input: AgentCardInput, updateOptions?: SignalOptions | AbortSignal) {
      const signal = signalOf(updateOptions);
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
    async unregister(unregisterOptions?: SignalOptions | AbortSignal) {
      const signal = signalOf(unregisterOptions);
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
