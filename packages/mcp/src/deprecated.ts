import { McpMqttClientTransport } from './client/client-transport.js';
import { McpMqttServerSessionTransport } from './server/server-session-transport.js';

/** @deprecated use `McpMqttClientTransport` (the old name collides with `@mqtt-agents/a2a`'s class). */
export const MqttClientTransport = McpMqttClientTransport;
/** @deprecated use `McpMqttClientTransport` (the old name collides with `@mqtt-agents/a2a`'s class). */
export type MqttClientTransport = McpMqttClientTransport;

/** @deprecated use `McpMqttServerSessionTransport`. */
export const MqttServerSessionTransport = McpMqttServerSessionTransport;
/** @deprecated use `McpMqttServerSessionTransport`. */
export type MqttServerSessionTransport = McpMqttServerSessionTransport;
