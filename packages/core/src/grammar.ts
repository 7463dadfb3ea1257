// `@mqtt-agents/core/grammar`: the topic grammar, identifier rules and canonical payload decoding of the MCP
// and A2A bindings, without the MQTT connection (no MQTT.js, no nanoid). Broker-side policy (the embedded
// broker's plugins) decides on exactly the parse that the receivers act on by importing it from here.

export {
  A2A_IDENTIFIER_PATTERN,
  IDENTIFIER_MAX_BYTES,
  RESERVED_A2A_AGENT_IDS,
  RESERVED_MCP_SERVER_IDS,
  isValidIdentifier,
  validateIdentifier,
} from './identifiers.js';
export type { IdentifierKind, IdentifierRule, IdentifierValidation } from './identifiers.js';
export { buildMcpTopic, mcpRpcTopic, parseMcpTopic } from './mcp-topics.js';
export type { McpRpcAddress, McpServerAddress, McpTopic, McpTopicKind } from './mcp-topics.js';
export { a2aClientId, buildA2aTopic, parseA2aClientId, parseA2aTopic } from './a2a-topics.js';
export type {
  A2aAgentAddress,
  A2aPoolAddress,
  A2aReplyAddress,
  A2aTopic,
  A2aTopicKind,
} from './a2a-topics.js';
export {
  matchTopicFilter,
  parseSharedSubscription,
  validateTopicFilter,
  validateTopicName,
} from './topic-filter.js';
export type { SharedSubscription, TopicRule, TopicValidation } from './topic-filter.js';
export { PRINTABLE_MAX_LENGTH, printable } from './printable.js';
export { publishPacketSize, userPropertiesByteLength, variableByteIntegerLength } from './packet-size.js';
export type { PacketUserProperties, PublishPacketSizeOptions } from './packet-size.js';
export { DEFAULT_MAX_JSON_BYTES, DEFAULT_MAX_JSON_DEPTH, decodeJson } from './json-codec.js';
export type { DecodeJsonOptions, DecodeResult, JsonDecodeError, JsonDecodeErrorCode } from './json-codec.js';
export { JSONRPC_VERSION, classifyJsonRpc, isJsonRpcId } from './json-rpc.js';
export type {
  JsonRpcClassification,
  JsonRpcId,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcSingleClassification,
} from './json-rpc.js';
export {
  DEFAULT_MAX_JSON_RPC_PAYLOAD_BYTES,
  decodeJsonRpcPayload,
  unclassifiableJsonRpc,
} from './json-rpc-payload.js';
export type { DecodeJsonRpcPayloadOptions, JsonRpcPayload } from './json-rpc-payload.js';
export { A2AUserProperty, McpComponentType, McpUserProperty, SenderUserProperty } from './property-names.js';
export type { A2AUserPropertyName, McpUserPropertyName, SenderUserPropertyName } from './property-names.js';
