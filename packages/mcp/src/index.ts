// The whole public API of @mqtt-agents/mcp. Runtime-neutral: no `node:*` imports anywhere below.

// --- server side ---
export { McpServerHost } from './server/mcp-server-host.js';
export { DEFAULT_DRAIN_GRACE_MS } from './server/host-drain.js';
export type { McpDrainOptions, McpDrainResult } from './server/host-drain.js';
export {
  SESSION_REFUSAL_CODE,
  sessionRefusalReason,
  type McpSessionRefusalReason,
} from './session-refusal.js';
export { serveMcpOverMqtt } from './server/serve-mcp-over-mqtt.js';
export type {
  McpServerHostEvents,
  McpServerLike,
  McpServerSession,
  ServeMcpOverMqttOptions,
} from './server/options.js';
export { McpMqttServerSessionTransport } from './server/server-session-transport.js';
export type { McpCallerIdentity } from './server/caller-identity.js';
export { DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSIONS_PER_SENDER } from './server/session-admission.js';
export {
  DEFAULT_INITIALIZATION_TIMEOUT_MS,
  DEFAULT_SESSION_IDLE_TIMEOUT_MS,
} from './server/session-activity.js';

// --- client side ---
export { McpClientHost } from './client/mcp-client-host.js';
export { createMcpMqttClientHost } from './client/create-client-host.js';
export type {
  ConnectToServerOptions,
  CreateMcpMqttClientHostOptions,
  McpClientHostEvents,
  McpClientLike,
  McpClientRole,
} from './client/options.js';
export { McpMqttClientTransport } from './client/client-transport.js';
export { DEFAULT_MAX_CONNECTIONS } from './client/mcp-client-host.js';
export {
  DEFAULT_FAILOVER_TIMEOUT_MS,
  DEFAULT_MAX_HELD_MESSAGES,
  RETRIABLE_METHODS,
  SESSION_LOST_ERROR_CODE,
  sessionLostDetails,
  type FailoverOptions,
  type McpFailoverEvent,
  type McpFailoverReason,
  type SessionLostDetails,
} from './client/failover-policy.js';
export type { McpServerChange } from './client/server-discovery.js';
export type { InstanceSelection, InstanceSelector } from './client/instance-selection.js';

// --- presence, connection options, timeouts, health checks ---
export {
  serverOnlineNotification,
  type McpRbacRole,
  type McpServerInstance,
  type McpServerRbac,
} from './server/server-presence.js';
export { mcpClientMqttOptions, mcpServerMqttOptions } from './binding-connect-options.js';
export type {
  McpMqttClientOptions,
  McpMqttConnectOptions,
  McpMqttUrlOptions,
} from './mqtt-connect-options.js';
export { MCP_MQTT_DEFAULT_TIMEOUTS, type RequestTimeoutsOption } from './default-timeouts.js';
export { HEALTH_PING_ID_PREFIX, type HealthCheckOptions } from './session/health-check.js';

// --- the SDK's base error (what the hosts and transports throw, with a string `code`) ---
export { MqttAgentsError } from '@mqtt-agents/core';
export type { MqttAgentsErrorCode, MqttAgentsErrorOptions } from '@mqtt-agents/core';

// --- the SDK-neutral JSON-RPC and transport types (both SDK majors' types are assignable to them) ---
export type {
  AuthInfo,
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  JSONRPCResultResponse,
  MessageExtraInfo,
  RequestId,
  Transport,
  TransportSendOptions,
} from './json-rpc-types.js';

// --- deprecated names (removed in the next minor) ---
export { MqttClientTransport, MqttServerSessionTransport } from './deprecated.js';
