// The whole public API of @mqtt-agents/core. Runtime-neutral: no `node:*` imports anywhere below.

// --- errors and logging ---
export { MqttAgentsError, abortError } from './errors.js';
export type { MqttAgentsErrorCode, MqttAgentsErrorOptions } from './errors.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger } from './logger.js';

// --- identifiers, topics, topic filters, packet sizes, codec, JSON-RPC, user property names ---
// Everything the dependency-free grammar entry (`@mqtt-agents/core/grammar`) exports, listed there once.
export * from './grammar.js';

// --- MQTT 5 properties ---
export {
  MAX_CORRELATION_DATA_BYTES,
  MAX_MESSAGE_EXPIRY_INTERVAL,
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
export { startOrClose } from './lifecycle.js';
export { createRequestReply } from './request-reply/create-request-reply.js';
// request-reply/types.ts holds exactly the public types of correlated request/reply.
export type * from './request-reply/types.js';
