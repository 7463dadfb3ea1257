// The whole public API of @mqtt-agents/mcp. Runtime-neutral: no `node:*` imports anywhere below.

// --- server side ---
export { McpServerHost, serveMcpOverMqtt } from './mcp-server-host.js';
export type {
  McpServerHostEvents,
  McpServerLike,
  McpServerSession,
  ServeMcpOverMqttOptions,
} from './mcp-server-host.js';
export { MqttServerSessionTransport } from './mqtt-server-session-transport.js';
export type { McpCallerIdentity } from './caller-identity.js';
export { DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSIONS_PER_SENDER } from './session-admission.js';
export { DEFAULT_INITIALIZATION_TIMEOUT_MS, DEFAULT_SESSION_IDLE_TIMEOUT_MS } from './session-activity.js';

// --- client side ---
export { McpClientHost, createMcpMqttClientHost } from './mcp-client-host.js';
export type {
  ConnectToServerOptions,
  CreateMcpMqttClientHostOptions,
  McpClientHostEvents,
  McpClientLike,
  McpClientRole,
} from './mcp-client-host.js';
export { MqttClientTransport } from './mqtt-client-transport.js';
export type { McpServerChange } from './server-discovery.js';
export type { InstanceSelection, InstanceSelector } from './instance-selection.js';

// --- presence, connection options, timeouts, health checks ---
export { serverOnlineNotification } from './server-presence.js';
export type { McpRbacRole, McpServerInstance, McpServerRbac } from './server-presence.js';
export { mcpClientMqttOptions, mcpServerMqttOptions } from './binding-connect-options.js';
export type {
  McpMqttClientOptions,
  McpMqttConnectOptions,
  McpMqttUrlOptions,
} from './mqtt-connect-options.js';
export { MCP_MQTT_DEFAULT_TIMEOUTS } from './default-timeouts.js';
export type { RequestTimeoutsOption } from './default-timeouts.js';
export { HEALTH_PING_ID_PREFIX } from './health-check.js';
export type { HealthCheckOptions } from './health-check.js';
