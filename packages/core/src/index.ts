// The whole public API of @mqtt-agents/core. Runtime-neutral: no `node:*` imports anywhere below.

// --- errors and logging ---
export { MqttAgentsError, abortError } from './errors.js';
export type { MqttAgentsErrorCode, MqttAgentsErrorOptions } from './errors.js';
export { PRINTABLE_MAX_LENGTH, printable } from './printable.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger } from './logger.js';

// --- identifiers, topics, topic filters ---
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

// --- MQTT 5 packet sizes ---
export { publishPacketSize, userPropertiesByteLength, variableByteIntegerLength } from './packet-size.js';
export type { PacketUserProperties, PublishPacketSizeOptions } from './packet-size.js';

// --- MQTT 5 properties ---
export {
  A2AArtifactMode,
  A2AEventType,
  A2ASecurityProfile,
  A2AStatus,
  A2AStatusSource,
  A2AUserProperty,
  ContentType,
  MAX_CORRELATION_DATA_BYTES,
  MAX_MESSAGE_EXPIRY_INTERVAL,
  McpComponentType,
  McpUserProperty,
  SenderUserProperty,
  correlationKey,
  createPublishProperties,
  getContentType,
  getCorrelationData,
  getMessageExpiryInterval,
  getResponseTopic,
  getUserProperty,
  getUserPropertyAll,
  isPayloadFormatValid,
  isUtf8PayloadFormat,
  mergePublishProperties,
  newCorrelationData,
  readPublishMetadata,
  setUserProperty,
  withUserProperties,
} from './mqtt-properties.js';
export type {
  A2AUserPropertyName,
  McpUserPropertyName,
  SenderUserPropertyName,
  PublishMetadata,
  PublishPacketView,
  PublishProperties,
  PublishPropertiesOptions,
  PublishPropertiesView,
  UserProperties,
  UserPropertiesCarrier,
} from './mqtt-properties.js';

// --- connection and correlated request/reply ---
export { connectMqtt } from './connection/connect-mqtt.js';
export { readConnackInfo } from './connection/connack.js';
export { describeReasonCode } from './connection/reason-codes.js';
export type {
  AdoptMqttClientOptions,
  ConnackInfo,
  ConnectMqttOptions,
  ConnectMqttUrlOptions,
  ConnectionDropInfo,
  MqttConnection,
  MqttConnectionEvents,
  MqttMessage,
  MqttMessageHandler,
  MqttPublishOptions,
  MqttPublishProperties,
  MqttQoS,
  MqttSubscribeOptions,
  MqttUnsubscribeOptions,
  MqttWill,
  PublishResult,
  SubscriptionGrant,
} from './connection/types.js';
export {
  isClientConnectionOptions,
  isExistingConnectionOptions,
  isUrlConnectionOptions,
} from './connection/connection-options.js';
export type {
  MqttClientConnectionOptions,
  MqttConnectionOptions,
  MqttExistingConnectionOptions,
  MqttUrlConnectionOptions,
} from './connection/connection-options.js';
export { assertConnectionIdentity, brokerUrlOf, openConnection } from './connection/open-connection.js';
export type { OpenConnectionSetup, OpenedConnection } from './connection/open-connection.js';
export { createRequestReply } from './request-reply/create-request-reply.js';
export type {
  ReplyDedupKey,
  ReplyStream,
  RequestOptions,
  RequestReply,
  RequestReplyOptions,
  StreamOptions,
  UnmatchedReplyReason,
} from './request-reply/types.js';
