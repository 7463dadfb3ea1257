// The `mqtt:` option of the MCP hosts is core's `MqttConnectionOptions`; these are the names mcp used before.
import type {
  MqttClientConnectionOptions,
  MqttConnectionOptions,
  MqttUrlConnectionOptions,
} from '@mqtt-agents/core';

/** @deprecated use `MqttUrlConnectionOptions` from `@mqtt-agents/core`. */
export type McpMqttUrlOptions = MqttUrlConnectionOptions;

/** @deprecated use `MqttClientConnectionOptions` from `@mqtt-agents/core`. */
export type McpMqttClientOptions = MqttClientConnectionOptions;

/**
 * How a host reaches the broker: connection options, an MQTT.js client you created, or a core connection
 * opened for this host (its client id and will; see `openBindingConnection`).
 * @deprecated use `MqttConnectionOptions` from `@mqtt-agents/core`.
 */
export type McpMqttConnectOptions = MqttConnectionOptions;
