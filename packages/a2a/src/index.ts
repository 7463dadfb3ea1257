// The whole public API of @mqtt-agents/a2a. Runtime-neutral: no `node:*` imports anywhere below.

// --- agent side ---
export { serveA2AOverMqtt } from './serve-agent.js';
export type { A2AMqttAgent, ServeA2AOverMqttOptions, SignalOptions } from './serve-agent-types.js';
export {
  A2A_METHODS,
  DEFAULT_DUPLICATE_WINDOW,
  MQTT_REQUEST_STATE_KEY,
  handOverTask,
  type MqttRequestInfo,
  type ResponderLimits,
} from './responder/api.js';
export {
  BoundedTaskStore,
  DEFAULT_TASK_STORE_LIMITS,
  createBoundedTaskStore,
  type BoundedTaskStoreOptions,
} from './bounded-task-store.js';
export { BrokerIdentityUser, type BrokerSender } from './caller-identity.js';

// --- discovery ---
export { discoverAgents } from './discovery/agent-registry.js';
export type {
  AgentRegistry,
  AgentRegistryChange,
  AgentStatus,
  AgentStatusSource,
  DiscoverAgentsOptions,
  DiscoveredAgent,
  WaitForAgentOptions,
} from './discovery/types.js';

// --- agent cards ---
export {
  A2A_PROTOCOL_VERSION,
  MQTT_PROTOCOL_BINDING,
  MQTT_PROTOCOL_BINDING_ALIASES,
  agentCardSchema,
  buildAgentCard,
  isMqttProtocolBinding,
  mqttInterfaces,
  parseAgentCard,
  type AgentCardInput,
  type AgentCardJson,
  type AgentCardParseResult,
  type AgentSkillInput,
  type BuildAgentCardOptions,
} from './agent-card.js';
export { agentAddressOf, rememberAgentAddress } from './agent-address.js';

// --- card signatures and security metadata ---
export {
  canonicalCardPayload,
  isTrustedJku,
  signAgentCard,
  verifyAgentCard,
  verifyAgentCardJson,
  type CardKeyResolver,
  type CardSigningOptions,
  type CardVerification,
  type CardVerificationOptions,
  type JoseKey,
} from './card-signatures.js';
export {
  MQTT_PROFILE_EXTENSION_URI,
  cardSecurityMetadata,
  publicJwk,
  withSecurityMetadata,
  type CardSecurityMetadata,
} from './security-metadata.js';
export type { AgentAddress } from './agent-address.js';

// --- requester side ---
export {
  MqttTransportFactory,
  mqttTransportFactory,
  type MqttTransportFactoryOptions,
  type TransportForOptions,
} from './mqtt-transport-factory.js';
export { A2AMqttClientTransport } from './requester/transport.js';
export { serviceParametersToUserProperties } from './requester/wire.js';
import { A2AMqttClientTransport } from './requester/transport.js';
/** @deprecated use `A2AMqttClientTransport` (the MCP package has a class of the same name); removed in the next minor. */
export const MqttClientTransport = A2AMqttClientTransport;
/** @deprecated use `A2AMqttClientTransport`. */
export type MqttClientTransport = A2AMqttClientTransport;
export {
  createMemoryTaskRouteStore,
  isPoolAddress,
  type PoolAddress,
  type TaskRouteStore,
} from './task-routes.js';
export { DEFAULT_RETRY_POLICY, backoffDelay, type RetryPolicy } from './retry-policy.js';

// --- errors and stream semantics ---
export {
  BINDING_ERRORS,
  MAY_HAVE_RUN_METADATA,
  MqttBindingError,
  bindingErrorObject,
  readBindingErrorKind,
  type BindingErrorKind,
  type JsonRpcErrorObject,
} from './binding-errors.js';
export {
  AUTH_ERRORS,
  MqttAuthError,
  authErrorObject,
  readAuthErrorKind,
  type AuthErrorKind,
} from './auth-errors.js';

// --- binary artifact mode ---
export {
  ArtifactAssembler,
  readBinaryChunk,
  type BinaryArtifactOptions,
  type BinaryChunk,
} from './binary-artifacts.js';

// --- untrusted-broker security profile ---
export {
  JOSE_COMPACT,
  JOSE_JSON,
  UBSP_V1,
  decryptPayload,
  encryptPayload,
  pickEncryptionKey,
  ubspPublicJwk,
  type Decrypted,
  type ServeUbspOptions,
  type UbspKey,
  type UbspOptions,
} from './ubsp.js';

// --- OAuth 2.0 / OIDC ---
export {
  BearerTokenUser,
  bearerRequirements,
  isTlsConnection,
  scopesOf,
  type BearerAuthOptions,
  type RequesterAuthOptions,
  type TokenRequest,
} from './oauth.js';
export {
  INTERRUPTED_STATES,
  STREAM_FINAL_STATES,
  StreamFolder,
  TERMINAL_STATES,
  isSendMessageFinalResponse,
  isStreamFinalResponse,
  isStreamFinalState,
  isTerminalState,
} from './stream-states.js';

// --- connection options ---
export type { MqttConnectionOptions } from '@mqtt-agents/core';

// --- the SDK's base error (thrown by the connection and request/reply layers under every agent) ---
export { MqttAgentsError } from '@mqtt-agents/core';
export type { MqttAgentsErrorCode, MqttAgentsErrorOptions } from '@mqtt-agents/core';
