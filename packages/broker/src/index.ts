// The public API of @mqtt-agents/broker: an embedded MQTT 5 broker for tests and local development.
export { startBroker } from './start-broker.js';
export { BROKER_LIMIT_DEFAULTS } from './limits.js';
export type {
  AuthenticateContext,
  AuthenticateResult,
  Broker,
  BrokerEventName,
  BrokerEvents,
  BrokerHooks,
  BrokerLogger,
  BrokerOptions,
  BrokerPublishOptions,
  ClientConnectDetails,
  ClientDisconnectDetails,
  ClientInfo,
  ConnectProperties,
  DisconnectCause,
  HandleOptions,
  HookResult,
  MaybePromise,
  PeerCertificate,
  Principal,
  ProtocolVersion,
  PublishProperties,
  PublishedMessage,
  QoS,
  ReasonCode,
  SubscriptionRequest,
  TlsListenerOptions,
  TransportKind,
  UserProperties,
  WebSocketListenerOptions,
} from './types.js';

// Opt-in plugins (EMQX-style agent features): spread `plugin.hooks` into `startBroker`, then `plugin.attach(broker)`.
export { composePlugins, type BrokerPlugin } from './plugins/plugin.js';
export {
  A2A_REGISTRY_REASON,
  a2aRegistry,
  parseDiscoveryTopic,
  type A2aAgentIdentity,
  type A2aRegistryOptions,
} from './plugins/a2a-registry.js';
export { agentCardProblems } from './plugins/agent-card-shape.js';
export {
  MCP_RBAC_ERROR_CODE,
  MCP_RBAC_REASON,
  mcpBrokerHelpers,
  type McpBrokerHelpersOptions,
  type McpRole,
  type McpRoleAssignment,
} from './plugins/mcp-helpers.js';
export { agentTopicAcl, type AgentTopicAclOptions } from './plugins/topic-acl.js';

// Authentication: password file (scrypt), JWT (jose), mTLS; client ids bound to credentials; principals.
export { brokerAuth, type BrokerAuthOptions } from './plugins/auth/broker-auth.js';
export { OPERATOR_ROLE } from './plugins/roles.js';
export {
  matchesClientIdPattern,
  parseClientIdPattern,
  type ClientIdPattern,
} from './plugins/auth/client-id-pattern.js';
export {
  formatPasswordEntry,
  parsePasswordFile,
  readPasswordFile,
  updatePasswordFile,
  type ParsedPasswordEntry,
  type PasswordEntry,
} from './plugins/auth/password-file.js';
export {
  DEFAULT_SCRYPT_COST,
  hashPassword,
  type HashPasswordOptions,
  type ScryptHash,
} from './plugins/auth/password-hash.js';
export type { JwtAuthOptions, JwtKey } from './plugins/auth/jwt-auth.js';
export type { MtlsAuthOptions, MtlsClient } from './plugins/auth/mtls-auth.js';
