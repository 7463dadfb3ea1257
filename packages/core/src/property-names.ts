// The user property names and well-known values of the MCP and A2A bindings, and of the identity the
// embedded broker stamps. No imports: the grammar entry (`@mqtt-agents/core/grammar`) carries them to the
// broker without MQTT.js or the id generator.

/** User properties of the MCP over MQTT binding. */
export const McpUserProperty = {
  /** `mcp-client` or `mcp-server`; on CONNECT and on every PUBLISH. */
  ComponentType: 'MCP-COMPONENT-TYPE',
  /** The sender's MQTT client id; on every PUBLISH. */
  MqttClientId: 'MCP-MQTT-CLIENT-ID',
  /** JSON object describing the component (version, implementation, location); on CONNECT. */
  Meta: 'MCP-META',
  /** Server name the broker suggests to an MCP server; in CONNACK. */
  ServerName: 'MCP-SERVER-NAME',
  /** JSON array of presence topic filters the broker suggests to an MCP client; in CONNACK. */
  ServerNameFilters: 'MCP-SERVER-NAME-FILTERS',
  /** JSON array of `{ server_name, role_name }` the broker grants an MCP client; in CONNACK. */
  Rbac: 'MCP-RBAC',
} as const;
/** The name of one MCP over MQTT user property: a value of {@link McpUserProperty}. */
export type McpUserPropertyName = (typeof McpUserProperty)[keyof typeof McpUserProperty];

/** Values of `MCP-COMPONENT-TYPE`. */
export const McpComponentType = { Client: 'mcp-client', Server: 'mcp-server' } as const;
export type McpComponentType = (typeof McpComponentType)[keyof typeof McpComponentType];

/** User properties of the A2A over MQTT binding (all carry the `a2a-` prefix). */
export const A2AUserProperty = {
  /** `online` or `offline` on retained agent cards; advisory only. */
  Status: 'a2a-status',
  /** Who set `a2a-status`: `agent`, `lwt` or `broker`. */
  StatusSource: 'a2a-status-source',
  /** The agent that actually answered (pooled dispatch, task handover, ubsp-v1 replies). */
  ResponderAgentId: 'a2a-responder-agent-id',
  /** The requesting agent (ubsp-v1 requests and replies). */
  RequesterAgentId: 'a2a-requester-agent-id',
  /** The intended responder (ubsp-v1 requests). */
  RecipientAgentId: 'a2a-recipient-agent-id',
  /** JWK `kid` a ubsp-v1 payload was encrypted to. */
  RecipientKid: 'a2a-recipient-kid',
  /** `Bearer <access token>` on requests to agents that require OAuth 2.0 / OIDC. Never echoed. */
  Authorization: 'a2a-authorization',
  /** `ubsp-v1` selects the end-to-end encrypted untrusted-broker profile. */
  SecurityProfile: 'a2a-security-profile',
  /** `json` or `binary`: artifact encoding asked for (request) or chosen (reply). */
  ArtifactMode: 'a2a-artifact-mode',
  /** Kind of a binary artifact message: `task-artifact-update`. */
  EventType: 'a2a-event-type',
  /** Task a binary artifact chunk belongs to. */
  TaskId: 'a2a-task-id',
  /** `Task.contextId`, optional transport-level copy; the payload's value is authoritative. */
  ContextId: 'a2a-context-id',
  /** Artifact a binary chunk belongs to. */
  ArtifactId: 'a2a-artifact-id',
  /** Sequence number of a binary chunk, as a decimal string from 0. */
  ChunkSeqno: 'a2a-chunk-seqno',
  /** `true` on the last binary chunk of an artifact (the artifact is done, not necessarily the task). */
  LastChunk: 'a2a-last-chunk',
  /** A2A service parameter: the protocol version the requester speaks (for example `1.0`). */
  Version: 'a2a-version',
  /** A2A service parameter: comma-separated extension URIs the requester wants to use. */
  Extensions: 'a2a-extensions',
} as const;
/** The name of one A2A over MQTT user property: a value of {@link A2AUserProperty}. */
export type A2AUserPropertyName = (typeof A2AUserProperty)[keyof typeof A2AUserProperty];

/** Values of `a2a-status`. */
export const A2AStatus = { Online: 'online', Offline: 'offline' } as const;
export type A2AStatus = (typeof A2AStatus)[keyof typeof A2AStatus];

/** Values of `a2a-status-source`. */
export const A2AStatusSource = { Agent: 'agent', Lwt: 'lwt', Broker: 'broker' } as const;
export type A2AStatusSource = (typeof A2AStatusSource)[keyof typeof A2AStatusSource];

/** Values of `a2a-artifact-mode`; anything else means `json`. */
export const A2AArtifactMode = { Json: 'json', Binary: 'binary' } as const;
export type A2AArtifactMode = (typeof A2AArtifactMode)[keyof typeof A2AArtifactMode];

/** Values of `a2a-security-profile`. */
export const A2ASecurityProfile = { UntrustedBrokerV1: 'ubsp-v1' } as const;
export type A2ASecurityProfile = (typeof A2ASecurityProfile)[keyof typeof A2ASecurityProfile];

/** Values of `a2a-event-type`. */
export const A2AEventType = { TaskArtifactUpdate: 'task-artifact-update' } as const;
export type A2AEventType = (typeof A2AEventType)[keyof typeof A2AEventType];

/** Content Type values the bindings use. */
export const ContentType = {
  Json: 'application/json',
  JoseJson: 'application/jose+json',
  Jose: 'application/jose',
} as const;

/**
 * User properties that an identity-binding broker (the embedded broker's `agentTopicAcl`) stamps on every
 * message it routes from a client, after removing any copy the client sent: who published it, as the broker
 * verified it. A receiver may rely on them only when its broker is known to stamp them (option
 * `trustBrokerIdentity` of the server hosts); on any other broker a client can write them itself.
 */
export const SenderUserProperty = {
  /** The publisher's MQTT client id. */
  ClientId: 'mqtt-agents-sender-client-id',
  /** The publisher's authenticated principal (credential name), when the broker authenticates. */
  Principal: 'mqtt-agents-sender-principal',
  /** The principal's roles, comma-separated. */
  Roles: 'mqtt-agents-sender-roles',
} as const;
/** The name of one broker-stamped sender user property: a value of {@link SenderUserProperty}. */
export type SenderUserPropertyName = (typeof SenderUserProperty)[keyof typeof SenderUserProperty];
