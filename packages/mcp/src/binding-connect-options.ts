import {
  McpComponentType,
  McpUserProperty,
  MqttAgentsError,
  isExistingConnectionOptions,
  mcpClientPresenceTopic,
  mcpServerPresenceTopic,
  openConnection,
} from '@mqtt-agents/core';
import type { Logger, MqttConnection, MqttConnectionOptions, MqttQoS, MqttWill } from '@mqtt-agents/core';
import type { IClientOptions } from 'mqtt';
import { DEFAULT_COMPONENT_META } from './component-meta.js';
import { DISCONNECTED_NOTIFICATION } from './inbound/inbound-messages.js';

interface BindingConnect {
  clientId: string;
  componentType: McpComponentType;
  componentMeta: Readonly<Record<string, unknown>> | undefined;
  will: MqttWill;
}

function connectUserProperties(
  componentType: McpComponentType,
  meta: Readonly<Record<string, unknown>> | undefined,
) {
  return {
    [McpUserProperty.ComponentType]: componentType,
    [McpUserProperty.Meta]: JSON.stringify(meta ?? DEFAULT_COMPONENT_META),
  };
}

function willUserProperties(componentType: McpComponentType, clientId: string) {
  return { [McpUserProperty.ComponentType]: componentType, [McpUserProperty.MqttClientId]: clientId };
}

/** The server's will: its presence topic, empty payload, retained (so the stale presence is cleared). */
export function serverWill(options: { serverId: string; serverName: string; qos: MqttQoS }): MqttWill {
  return {
    topic: mcpServerPresenceTopic(options),
    payload: '',
    qos: options.qos,
    retain: true,
    properties: { userProperties: willUserProperties(McpComponentType.Server, options.serverId) },
  };
}

/** The client's will: `notifications/disconnected` on its presence topic. */
export function clientWill(options: { mcpClientId: string; qos: MqttQoS }): MqttWill {
  return {
    topic: mcpClientPresenceTopic(options.mcpClientId),
    payload: JSON.stringify(DISCONNECTED_NOTIFICATION),
    qos: options.qos,
    retain: false,
    properties: { userProperties: willUserProperties(McpComponentType.Client, options.mcpClientId) },
  };
}

/**
 * An MCP host opens its own connection: it carries the host's client id (server-id or mcp-client-id), its
 * will (presence topic, which holds a server name the broker may still change) and its CONNECT user
 * properties, and the host closes it. A borrowed core connection cannot be checked for all of that, so the
 * hosts refuse `{ connection }` with `UNSUPPORTED` instead of running on the wrong identity.
 */
function refuseExistingConnection(componentType: McpComponentType): never {
  const helper = componentType === McpComponentType.Server ? 'mcpServerMqttOptions' : 'mcpClientMqttOptions';
  throw new MqttAgentsError(
    'UNSUPPORTED',
    `an mcp host needs its own connection (its client id and will): pass { url } or { client } built with ${helper}(), not { connection }`,
    { details: { componentType } },
  );
}

/**
 * @internal Open a host's own connection through core's `openConnection`: client id, will, clean start with
 * session expiry 0 and `MCP-COMPONENT-TYPE` / `MCP-META` on CONNECT. Refuses `{ connection }` (see above).
 */
export async function openBindingConnection(
  mqtt: MqttConnectionOptions,
  binding: BindingConnect,
  setup: { logger: Logger; signal?: AbortSignal | undefined },
): Promise<MqttConnection> {
  if (isExistingConnectionOptions(mqtt)) refuseExistingConnection(binding.componentType);
  const opened = await openConnection(mqtt, {
    clientId: binding.clientId,
    will: binding.will,
    clean: true,
    sessionExpiryInterval: 0,
    userProperties: connectUserProperties(binding.componentType, binding.componentMeta),
    logger: setup.logger,
    signal: setup.signal,
  });
  return opened.connection;
}

function toClientOptions(binding: BindingConnect): IClientOptions {
  return {
    protocolVersion: 5,
    clientId: binding.clientId,
    clean: true,
    properties: {
      sessionExpiryInterval: 0,
      userProperties: connectUserProperties(binding.componentType, binding.componentMeta),
    },
    will: binding.will as unknown as IClientOptions['will'],
  };
}

/**
 * MQTT.js options for an MCP server's own client (bring-your-own-client): MQTT 5, client id = server-id,
 * clean start with session expiry 0, `MCP-COMPONENT-TYPE` / `MCP-META` on CONNECT, and the retained empty
 * presence as will. Spread your own options (url, TLS, credentials) around it.
 */
export function mcpServerMqttOptions(options: {
  serverId: string;
  serverName: string;
  componentMeta?: Record<string, unknown>;
  qos?: MqttQoS;
}): IClientOptions {
  return toClientOptions({
    clientId: options.serverId,
    componentType: McpComponentType.Server,
    componentMeta: options.componentMeta,
    will: serverWill({ serverId: options.serverId, serverName: options.serverName, qos: options.qos ?? 1 }),
  });
}

/**
 * MQTT.js options for an MCP client host's own client (bring-your-own-client): MQTT 5, client id =
 * mcp-client-id, clean start with session expiry 0, `MCP-COMPONENT-TYPE` / `MCP-META` on CONNECT, and
 * `notifications/disconnected` on the client presence topic as will.
 */
export function mcpClientMqttOptions(options: {
  mcpClientId: string;
  componentMeta?: Record<string, unknown>;
  qos?: MqttQoS;
}): IClientOptions {
  return toClientOptions({
    clientId: options.mcpClientId,
    componentType: McpComponentType.Client,
    componentMeta: options.componentMeta,
    will: clientWill({ mcpClientId: options.mcpClientId, qos: options.qos ?? 1 }),
  });
}
