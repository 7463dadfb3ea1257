import {
  McpComponentType,
  McpUserProperty,
  MqttAgentsError,
  abortError,
  assertServerId,
  assertServerName,
  connectMqtt,
  createLogger,
  getUserProperty,
  isClientConnectionOptions,
  isValidIdentifier,
  mcpServerPresenceTopic,
  startOrClose,
} from '@mqtt-agents/core';
import type { MqttConnection } from '@mqtt-agents/core';
import { openBindingConnection, serverWill } from '../binding-connect-options.js';
import { randomId } from '../random-id.js';
import { McpServerHost } from './mcp-server-host.js';
import type { ServeMcpOverMqttOptions } from './options.js';
import { DEFAULT_INITIALIZATION_TIMEOUT_MS, DEFAULT_SESSION_IDLE_TIMEOUT_MS } from './session-activity.js';
import {
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_SESSIONS_PER_SENDER,
  sessionLimit,
  sessionTimeout,
} from './session-admission.js';

/**
 * Serve an MCP server over MQTT: connects (or adopts your client), subscribes to the control topic,
 * publishes the retained `notifications/server/online` presence, and creates one SDK server per client
 * session with `createServer`.
 *
 * ```ts
 * await using host = await serveMcpOverMqtt({
 *   mqtt: { url: 'mqtt://localhost:1883' },
 *   serverName: 'factory/line-7/press',
 *   description: 'Press controls',
 *   createServer: () => buildPressServer(),
 * });
 * ```
 */
export async function serveMcpOverMqtt(options: ServeMcpOverMqttOptions): Promise<McpServerHost> {
  const logger = createLogger('mqtt-agents:mcp', options.logger);
  if (options.signal?.aborted) throw abortError(options.signal, 'serve mcp over mqtt');
  if (typeof options.createServer !== 'function') {
    throw new MqttAgentsError('INVALID_PAYLOAD', 'serveMcpOverMqtt needs a createServer function');
  }
  if (typeof options.description !== 'string') {
    throw new MqttAgentsError('INVALID_PAYLOAD', 'serveMcpOverMqtt needs a description string');
  }
  // Bad limits fail here, before any connection is opened.
  sessionLimit(options.maxSessions, DEFAULT_MAX_SESSIONS, 'maxSessions');
  sessionLimit(options.maxSessionsPerSender, DEFAULT_MAX_SESSIONS_PER_SENDER, 'maxSessionsPerSender');
  sessionTimeout(options.sessionIdleTimeoutMs, DEFAULT_SESSION_IDLE_TIMEOUT_MS, 'sessionIdleTimeoutMs');
  sessionTimeout(
    options.initializationTimeoutMs,
    DEFAULT_INITIALIZATION_TIMEOUT_MS,
    'initializationTimeoutMs',
  );
  let serverName = assertServerName(options.serverName);
  const qos = options.qos ?? 1;
  const connectOptions = options.mqtt;
  let connection: MqttConnection;
  let serverId: string;
  let owns: boolean;

  if (isClientConnectionOptions(connectOptions)) {
    connection = await connectMqtt({
      client: connectOptions.client,
      closeClient: connectOptions.closeClient ?? false,
      ...(connectOptions.connectTimeoutMs !== undefined
        ? { connectTimeoutMs: connectOptions.connectTimeoutMs }
        : {}),
      logger,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    owns = connectOptions.closeClient ?? false;
    serverId = assertServerId(connection.connack.clientId || connectOptions.client.options.clientId);
    if (options.serverId !== undefined && options.serverId !== serverId) {
      await connection.close();
      throw new MqttAgentsError(
        'INVALID_IDENTIFIER',
        `serverId '${options.serverId}' differs from the mqtt client's id '${serverId}': the server-id is the client id`,
      );
    }
    const suggested = getUserProperty(connection.connack, McpUserProperty.ServerName);
    if (suggested !== undefined && isValidIdentifier('server-name', suggested)) serverName = suggested;
    const will = connectOptions.client.options.will;
    const expected = mcpServerPresenceTopic({ serverId, serverName });
    if (will?.topic !== expected || will.retain !== true) {
      logger.warn(
        `the mqtt client's will is not the retained empty presence on '${expected}': build its options with mcpServerMqttOptions()`,
      );
    }
  } else {
    serverId = assertServerId(options.serverId ?? randomId('mcp-server'));
    owns = true;
    const open = (name: string): Promise<MqttConnection> =>
      openBindingConnection(
        connectOptions,
        {
          clientId: serverId,
          componentType: McpComponentType.Server,
          componentMeta: options.componentMeta,
          will: serverWill({ serverId, serverName: name, qos }),
        },
        { logger, signal: options.signal },
      );
    connection = await open(serverName);
    const suggested = getUserProperty(connection.connack, McpUserProperty.ServerName);
    if (suggested !== undefined && suggested !== serverName) {
      if (isValidIdentifier('server-name', suggested)) {
        // The will names the presence topic, which holds the server name: reconnect with the right will.
        logger.info(`broker suggested server name '${suggested}'`);
        serverName = suggested;
        await connection.close();
        connection = await open(serverName);
      } else {
        logger.warn(`ignored invalid broker-suggested server name ${JSON.stringify(suggested)}`);
      }
    }
  }

  const host = new McpServerHost({ options, connection, serverId, serverName, logger, ownsConnection: owns });
  return await startOrClose(host, () => host.start({ signal: options.signal }));
}
