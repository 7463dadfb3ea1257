// `@mqtt-agents/core/grammar`: the topic grammar, identifier rules and canonical payload decoding of the MCP
// and A2A bindings, without the MQTT connection (no MQTT.js, no id generator). Broker-side policy (the embedded
// broker's plugins) decides on exactly the parse that the receivers act on by importing it from here.
// The package root re-exports every name below.

// --- identifiers ---
export {
  A2A_IDENTIFIER_PATTERN,
  IDENTIFIER_MAX_BYTES,
  RESERVED_A2A_AGENT_IDS,
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

// --- MCP topics: roots, builders, filters, parser ---
export {
  MCP_CLIENT_ROOT,
  MCP_RPC_ROOT,
  MCP_SERVER_ROOT,
  buildMcpTopic,
  isMcpTopic,
  mcpAnyClientCapabilityFilter,
  mcpAnyClientPresenceFilter,
  mcpAnyServerCapabilityFilter,
  mcpAnyServerPresenceFilter,
  mcpClientCapabilityTopic,
  mcpClientPresenceTopic,
  mcpClientRpcFilter,
  mcpInstanceRpcFilter,
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

// --- A2A topics: roots, builders, filters, parser, client ids ---
export {
  A2A_DISCOVERY_PREFIX,
  A2A_ROOT,
  A2A_TOPIC_PREFIX,
  A2A_VERSION,
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
  isA2aTopic,
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

// --- MQTT topic names and filters ---
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
export { PRINTABLE_MAX_LENGTH, printable } from './printable.js';

// --- MQTT 5 packet sizes ---
export { publishPacketSize, userPropertiesByteLength, variableByteIntegerLength } from './packet-size.js';
export type { PacketUserProperties, PublishPacketSizeOptions } from './packet-size.js';

// --- codec and JSON-RPC ---
export {
  DEFAULT_MAX_JSON_BYTES,
  DEFAULT_MAX_JSON_DEPTH,
  FORBIDDEN_JSON_KEYS,
  decodeJson,
  encodeJson,
  isValidUtf8,
  isWellFormedText,
  utf8Decode,
  utf8Encode,
} from './json-codec.js';
export type {
  DecodeJsonOptions,
  DecodeResult,
  EncodeJsonOptions,
  JsonDecodeError,
  JsonDecodeErrorCode,
} from './json-codec.js';
export {
  JSONRPC_VERSION,
  JsonRpcErrorCode,
  classifyJsonRpc,
  isJsonRpcId,
  jsonRpcError,
  jsonRpcErrorObjectSchema,
  jsonRpcErrorResponse,
  jsonRpcErrorResponseSchema,
  jsonRpcIdSchema,
  jsonRpcMessageSchema,
  jsonRpcNotificationSchema,
  jsonRpcParamsSchema,
  jsonRpcRequestSchema,
  jsonRpcSuccessResponse,
  jsonRpcSuccessResponseSchema,
} from './json-rpc.js';
export type {
  JsonRpcClassification,
  JsonRpcErrorObject,
  JsonRpcErrorResponse,
  JsonRpcId,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcParams,
  JsonRpcRequest,
  JsonRpcResponse,
  JsonRpcSingleClassification,
  JsonRpcSuccessResponse,
} from './json-rpc.js';
export {
  DEFAULT_MAX_JSON_RPC_PAYLOAD_BYTES,
  decodeJsonRpcPayload,
  unclassifiableJsonRpc,
} from './json-rpc-payload.js';
export type { DecodeJsonRpcPayloadOptions, JsonRpcPayload } from './json-rpc-payload.js';

// --- MQTT 5 user property names and well-known values ---
export {
  A2AArtifactMode,
  A2AEventType,
  A2ASecurityProfile,
  A2AStatus,
  A2AStatusSource,
  A2AUserProperty,
  ContentType,
  McpComponentType,
  McpUserProperty,
  SenderUserProperty,
} from './property-names.js';
export type { A2AUserPropertyName, McpUserPropertyName, SenderUserPropertyName } from './property-names.js';
