import type { IClientOptions, MqttClient } from 'mqtt';

/** Open a new MQTT 5 connection for the host. Client id, will, clean start and CONNECT user properties are set by the host. */
export interface McpMqttUrlOptions {
  /** `mqtt://`, `mqtts://`, `ws://` or `wss://` broker URL. */
  url: string;
  username?: string;
  password?: string | Uint8Array;
  /** Keep alive in seconds; default 60. */
  keepalive?: number;
  /** Delay between reconnect attempts, in ms; 0 disables reconnecting. Default 1 000. */
  reconnectPeriodMs?: number;
  /** How long to wait for the first CONNACK, in ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Any other MQTT.js option (TLS, WebSocket); the host's own settings win. */
  mqttOptions?: IClientOptions;
}

/**
 * Bring your own MQTT.js client (MQTT 5). It must already carry the binding's CONNECT settings: build its
 * options with `mcpServerMqttOptions()` / `mcpClientMqttOptions()` so the will and user properties are right.
 */
export interface McpMqttClientOptions {
  client: MqttClient;
  /** End the client when the host closes. Default false: the client stays yours. */
  closeClient?: boolean;
  /** How long to wait for the client's first CONNACK, in ms. Default 10 000. */
  connectTimeoutMs?: number;
}

/** How a host reaches the broker: connection options, or an MQTT.js client you created. */
export type McpMqttConnectOptions = McpMqttUrlOptions | McpMqttClientOptions;

export function isClientOptions(options: McpMqttConnectOptions): options is McpMqttClientOptions {
  return 'client' in options && options.client !== undefined;
}
