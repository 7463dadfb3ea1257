// The whole public API of @mqtt-agents/core. Runtime-neutral: no `node:*` imports anywhere below.

// --- errors and logging ---
export { MqttAgentsError, abortError } from './errors.js';
export type { MqttAgentsErrorCode, MqttAgentsErrorOptions } from './errors.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger } from './logger.js';

// --- identifiers, topics, topic filters ---
export {
  A2A_IDENTIFIER_PATTERN,
  IDENTIFIER_MAX_BYTES,
  RESERVED_MCP_SERVER_IDS,
  assertAgentId,
  assertGroupId,
  assertIdentifier,
  assertMcpClientId,
  assertOrgId,
  assertPoolId,
  assertReplySuffix,
  assertServerId,
  assertServerName,
  assertServerNameFilter,
  assertUnitId,
  deriveA2aPoolGroupId,
  isValidIdentifier,
  validateIdentifier,
} from './identifiers.js';
export type { IdentifierKind, IdentifierRule, IdentifierValidation } from './identifiers.js';
export {
  buildMcpTopic,
  mcpClientCapabilityTopic,
  mcpClientPresenceTopic,
  mcpRpcFilter,
  mcpRpcTopic,
  mcpServerCapabilityFilter,
  mcpServerCapabilityTopic,
  mcpServerControlTopic,
  mcpServerPresenceFilter,
  mcpServerPresenceTopic,
  parseMcpTopic,
} from './mcp-topics.js';
export type { McpRpcAddress, McpServerAddress, McpTopic, McpTopicKind } from './mcp-topics.js';
export {
  a2aClientId,
  a2aDiscoveryFilter,
  a2aDiscoveryTopic,
  a2aEventFilter,
  a2aEventTopic,
  a2aPoolRequestTopic,
  a2aPoolSubscription,
  a2aReplyFilter,
  a2aReplyTopic,
  a2aRequestTopic,
  buildA2aTopic,
  parseA2aClientId,
  parseA2aTopic,
} from './a2a-topics.js';
export type {
  A2aAgentAddress,
  A2aPoolAddress,
  A2aReplyAddress,
  A2aTopic,
  A2aTopicKind,
} from './a2a-topics.js';
export {
  MQTT_TOPIC_MAX_BYTES,
  assertTopicFilter,
  assertTopicName,
  matchTopicFilter,
  parseSharedSubscription,
  sharedSubscription,
  utf8ByteLength,
  validateTopicFilter,
  validateTopicName,
} from './topic-filter.js';
export type { SharedSubscription, TopicRule, TopicValidation } from './topic-filter.js';

// --- codec and JSON-RPC ---

// --- MQTT 5 properties ---

// --- connection and correlated request/reply ---
