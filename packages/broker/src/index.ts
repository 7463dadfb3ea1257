// The public API of @mqtt-agents/broker: an embedded MQTT 5 broker for tests and local development.
export { startBroker } from './start-broker.js';
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
  PublishedMessage,
  PublishProperties,
  QoS,
  ReasonCode,
  SubscriptionRequest,
  TlsListenerOptions,
  TransportKind,
  UserProperties,
  WebSocketListenerOptions,
} from './types.js';

// Opt-in plugins (EMQX-style agent features): spread `plugin.hooks` into `startBroker`, then `plugin.attach(broker)`.
export { composePlugins } from './plugins/plugin.js';
export type { BrokerPlugin } from './plugins/plugin.js';
export { A2A_REGISTRY_REASON, a2aRegistry, parseDiscoveryTopic } from './plugins/a2a-registry.js';
export type { A2aAgentIdentity, A2aRegistryOptions } from './plugins/a2a-registry.js';
export { agentCardProblems } from './plugins/agent-card-shape.js';
export { MCP_RBAC_ERROR_CODE, mcpBrokerHelpers } from './plugins/mcp-helpers.js';
export type { McpBrokerHelpersOptions, McpRole, McpRoleAssignment } from './plugins/mcp-helpers.js';
export { agentTopicAcl } from './plugins/topic-acl.js';
export type { AgentTopicAclOptions } from './plugins/topic-acl.js';
