import type { AgentCard } from '@a2a-js/sdk';
import type { Client } from '@a2a-js/sdk/client';
import { ClientFactory } from '@a2a-js/sdk/client';
import type { DiscoveredAgent } from '@mqtt-agents/a2a';
import { discoverAgents, mqttTransportFactory } from '@mqtt-agents/a2a';
import { MqttAgentsError, connectMqtt } from '@mqtt-agents/core';
import { cliLogger } from '../cli-logger.js';
import type { CommandContext } from '../command.js';
import { CommandError } from '../io.js';
import type { AgentAddressArgument } from './describe.js';

/** An A2A client for one agent on MQTT, on a connection of its own; `close()` closes all of it. */
export interface AgentClient {
  readonly client: Client;
  readonly agent: DiscoveredAgent;
  readonly card: AgentCard;
  close(): Promise<void>;
}

export interface OpenAgentClientOptions {
  address: AgentAddressArgument;
  url: string;
  /** How long to wait for the agent's card, in ms. */
  wait: number;
  /** The log prefix: `mqtt-agents a2a send`. */
  prefix: string;
}

/**
 * Connect as requester `{org}/{unit}/cli-<random>`, wait for the agent's card (a one-line `CommandError`
 * when it does not come within `wait`), and build an A2A client on the MQTT transport.
 */
export async function openAgentClient(
  options: OpenAgentClientOptions,
  context: CommandContext,
): Promise<AgentClient> {
  const { address, url, wait, prefix } = options;
  const logger = cliLogger(context, prefix, context.debug);
  const requesterId = `cli-${globalThis.crypto.randomUUID().slice(0, 8)}`;
  const connection = await connectMqtt({
    url,
    clientId: `${address.org}/${address.unit}/${requesterId}`,
    connectTimeoutMs: 5_000,
    logger,
    signal: context.signal,
  });
  logger.ready();
  const shared = { connection };
  const registry = await discoverAgents({ mqtt: shared, org: address.org, unit: address.unit, logger });
  const transports = mqttTransportFactory({
    mqtt: shared,
    org: address.org,
    unit: address.unit,
    agentId: requesterId,
    logger,
  });
  const close = async (): Promise<void> => {
    await transports.close();
    await registry.close();
    await connection.close();
  };
  try {
    let agent: DiscoveredAgent;
    try {
      agent = await registry.waitFor(address.agentId, { timeoutMs: wait, signal: context.signal });
    } catch (error) {
      if (MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT')) {
        throw new CommandError(`agent '${address.key}' not found on ${url}: no agent card within ${wait} ms`);
      }
      throw error;
    }
    const client = await new ClientFactory({
      transports: [transports, ...transports.aliases()],
    }).createFromAgentCard(agent.card);
    return { client, agent, card: agent.card, close };
  } catch (error) {
    await close();
    throw error;
  }
}
