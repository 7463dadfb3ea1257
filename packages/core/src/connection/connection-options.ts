// The one `mqtt:` option every component of the SDK takes: a broker URL, an MQTT.js client you created, or a
// core connection you opened.
import type { IClientOptions, MqttClient } from 'mqtt';
import type { MqttConnection } from './types.js';

/**
 * Open a new MQTT 5 connection for the component. Its client id, will, clean start and CONNECT user
 * properties are the component's own (an MCP server's server-id, an A2A agent's `a2a-…` id); these options
 * cover everything else.
 */
export interface MqttUrlConnectionOptions {
  /** `mqtt://`, `mqtts://`, `ws://` or `wss://` broker URL. */
  url: string;
  username?: string;
  password?: string | Uint8Array;
  /** Keep alive in seconds; the broker declares the client dead (and publishes the will) after 1.5x. Default 60. */
  keepalive?: number;
  /** Delay between reconnect attempts after the first connect succeeded, in ms; 0 disables. Default 1 000. */
  reconnectPeriodMs?: number;
  /** How long to wait for the first CONNACK, in ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Any other MQTT.js option (TLS, WebSocket); the component's client id, will and MQTT 5 always win. */
  mqttOptions?: IClientOptions;
}

/**
 * Bring your own MQTT.js client (`protocolVersion: 5`). Its CONNECT settings (client id, will) are yours:
 * build them with the component's helper (`mcpServerMqttOptions()`, ...) where it has one.
 */
export interface MqttClientConnectionOptions {
  client: MqttClient;
  /** End the client when the component closes. Default false: the client stays yours. */
  closeClient?: boolean;
  /** How long to wait for the client's first CONNACK, in ms. Default 10 000. */
  connectTimeoutMs?: number;
}

/**
 * A connection from `connectMqtt` (you own it; the component never closes it). A connection carries one
 * client id and one will: components that need their own (MCP server and client hosts) check that it was
 * opened for them and refuse it with `CONNECTION_MISMATCH` otherwise; components without one (an A2A
 * requester, discovery) share it freely.
 */
export interface MqttExistingConnectionOptions {
  connection: MqttConnection;
}

/** How a component reaches the broker: the `mqtt:` option of every package. */
export type MqttConnectionOptions =
  MqttUrlConnectionOptions | MqttClientConnectionOptions | MqttExistingConnectionOptions;

/** True when the `mqtt:` option names a broker URL to connect to. */
export function isUrlConnectionOptions(options: MqttConnectionOptions): options is MqttUrlConnectionOptions {
  return 'url' in options && typeof options.url === 'string';
}

/** True when the `mqtt:` option passes an MQTT.js client to wrap. */
export function isClientConnectionOptions(
  options: MqttConnectionOptions,
): options is MqttClientConnectionOptions {
  return 'client' in options && options.client !== undefined;
}

/** True when the `mqtt:` option passes an existing `MqttConnection` to share. */
export function isExistingConnectionOptions(
  options: MqttConnectionOptions,
): options is MqttExistingConnectionOptions {
  return 'connection' in options && options.connection !== undefined;
}
