import {
  McpComponentType,
  McpUserProperty,
  mcpClientPresenceTopic,
  mcpServerPresenceTopic,
} from '@mqtt-agents/core';
import type { ConnectMqttUrlOptions, MqttQoS, MqttWill } from '@mqtt-agents/core';
import type { IClientOptions } from 'mqtt';
import { DEFAULT_COMPONENT_META } from './component-meta.js';
import { DISCONNECTED_NOTIFICATION } from './inbound/inbound-messages.js';
import type { McpMqttUrlOptions } from './mqtt-connect-options.js';

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

/** @internal Core connect options for a host's own connection. */
export function bindingConnectOptions(
  url: McpMqttUrlOptions,
  binding: BindingConnect,
): ConnectMqttUrlOptions {
  const options: ConnectMqttUrlOptions = {
    url: url.url,
    clientId: binding.clientId,
    clean: true,
    sessionExpiryInterval: 0,
    will: binding.will,
    userProperties: connectUserProperties(binding.componentType, binding.componentMeta),
  };
  if (url.username !== undefined) options.username = url.username;
  if (url.password !== undefined) options.password = url.password;
  if (url.keepalive !== undefined) options.keepalive = url.keepalive;
  if (url.reconnectPeriodMs !== undefined) options.reconnectPeriodMs = url.reconnectPeriodMs;
  if (url.connectTimeoutMs !== undefined) options.connectTimeoutMs = url.connectTimeoutMs;
  if (url.mqttOptions !== undefined) options.mqttOptions = url.mqttOptions;
  return options;
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
