import {
  McpUserProperty,
  MqttAgentsError,
  abortError,
  assertMcpClientId,
  assertServerNameFilter,
  connectMqtt,
  createLogger,
  getUserProperty,
  isClientConnectionOptions,
  mcpClientPresenceTopic,
  startOrClose,
} from '@mqtt-agents/core';
import type { MqttConnection } from '@mqtt-agents/core';
import { randomId } from '../random-id.js';
import {
  openClientConnection,
  parseJsonProperty,
  readRoles,
  readSuggestedFilters,
} from './connack-suggestions.js';
import { McpClientHost } from './mcp-client-host.js';
import type { CreateMcpMqttClientHostOptions } from './options.js';

/**
 * Connect MCP clients to an MQTT broker: opens the connection (or adopts your client) with the client
 * will, reads the broker's suggestions from CONNACK, and subscribes to server presence before returning.
 *
 * ```ts
 * await using clients = await createMcpMqttClientHost({ mqtt: { url }, serverNameFilters: ['factory/#'] });
 * const client = new Client({ name: 'planner', version: '1.0.0' });
 * await clients.connect(client, 'factory/line-7/press');
 * ```
 */
export async function createMcpMqttClientHost(
  options: CreateMcpMqttClientHostOptions,
): Promise<McpClientHost> {
  const logger = createLogger('mqtt-agents:mcp', options.logger);
  if (options.signal?.aborted) throw abortError(options.signal, 'create mcp client host');
  const configuredFilters = options.serverNameFilters ?? ['#'];
  if (configuredFilters.length === 0) {
    throw new MqttAgentsError('INVALID_TOPIC_FILTER', 'serverNameFilters must hold at least one filter');
  }
  for (const filter of configuredFilters) assertServerNameFilter(filter);
  const qos = options.qos ?? 1;
  let connection: MqttConnection;
  let mcpClientId: string;
  let owns: boolean;
  if (isClientConnectionOptions(options.mqtt)) {
    const mqtt = options.mqtt;
    connection = await connectMqtt({
      client: mqtt.client,
      closeClient: mqtt.closeClient ?? false,
      ...(mqtt.connectTimeoutMs !== undefined ? { connectTimeoutMs: mqtt.connectTimeoutMs } : {}),
      logger,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    owns = mqtt.closeClient ?? false;
    mcpClientId = assertMcpClientId(connection.connack.clientId || mqtt.client.options.clientId);
    const will = mqtt.client.options.will;
    if (will?.topic !== mcpClientPresenceTopic(mcpClientId)) {
      logger.warn(
        "the mqtt client's will is not notifications/disconnected on its presence topic: build its options with mcpClientMqttOptions()",
      );
    }
  } else {
    mcpClientId = assertMcpClientId(options.clientId ?? randomId('mcp-client'));
    owns = true;
    connection = await openClientConnection(options.mqtt, {
      mcpClientId,
      componentMeta: options.componentMeta,
      qos,
      logger,
      signal: options.signal,
    });
  }
  const connack = connection.connack;
  const suggested = readSuggestedFilters(
    parseJsonProperty(
      getUserProperty(connack, McpUserProperty.ServerNameFilters),
      'MCP-SERVER-NAME-FILTERS',
      logger,
    ),
    logger,
  );
  const roles = readRoles(
    parseJsonProperty(getUserProperty(connack, McpUserProperty.Rbac), 'MCP-RBAC', logger),
    logger,
  );
  const host = new McpClientHost({
    options,
    connection,
    mcpClientId,
    serverNameFilters: suggested ?? configuredFilters,
    roles,
    logger,
    ownsConnection: owns,
  });
  return await startOrClose(host, () => host.start({ signal: options.signal }));
}
