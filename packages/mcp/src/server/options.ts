import type { Logger, MqttAgentsError, MqttConnectionOptions, MqttQoS } from '@mqtt-agents/core';
import type { Transport } from '../json-rpc-types.js';
import type { McpCallerIdentity } from './caller-identity.js';
import type { RequestTimeoutsOption } from '../default-timeouts.js';
import type { HealthCheckOptions } from '../session/health-check.js';
import type { McpMqttServerSessionTransport } from './server-session-transport.js';
import type { McpServerRbac } from './server-presence.js';

/** What `createServer` may return: an SDK `McpServer` or a low-level `Server` (anything with `connect`). */
export interface McpServerLike {
  /** Attach the server to the session's transport; the host calls it once per session. */
  connect(transport: Transport): Promise<void>;
  /** Close the server and its transport, as the SDK `McpServer.close()` does. */
  close(): Promise<void>;
}

/** One MCP client session on a server host, as `createServer` and the host's events see it. */
export interface McpServerSession {
  /** The client's MQTT client id (also the transport's `sessionId`). */
  readonly mcpClientId: string;
  readonly serverId: string;
  readonly serverName: string;
  /** The session's transport; the SDK server you return is connected to it by the host. */
  readonly transport: McpMqttServerSessionTransport;
  /** `params` of the client's `initialize` request (protocolVersion, capabilities, clientInfo). */
  readonly initializeParams: Readonly<Record<string, unknown>>;
  /** User properties of the PUBLISH that carried `initialize`. */
  readonly userProperties: Readonly<Record<string, readonly string[]>>;
  /**
   * Who the client is, as far as the host verified it (`verifiedBy: 'broker'` with `trustBrokerIdentity`,
   * else `'topic'`). Tool handlers get the same as `extra.authInfo`.
   */
  readonly caller: McpCallerIdentity;
}

/**
 * How `serveMcpOverMqtt` connects, names and announces the server, builds the SDK server of each session,
 * and bounds sessions (count, per sender, idle and initialization timeouts, inbound size).
 */
export interface ServeMcpOverMqttOptions {
  /** Broker connection options, or your own MQTT.js client (see `mcpServerMqttOptions`). */
  mqtt: MqttConnectionOptions;
  /**
   * Hierarchical server name (`factory/line-7/press`), no `+` or `#`. A broker-suggested name
   * (CONNACK `MCP-SERVER-NAME`) replaces it.
   */
  serverName: string;
  /** This instance's MQTT client id; generated when omitted. Instances of one server share the name. */
  serverId?: string;
  /** Short description published in the presence notification, to help clients choose. */
  description: string;
  /** `params.meta` of the presence notification. */
  meta?: Record<string, unknown>;
  /** Roles published as `meta.rbac` in the presence notification. */
  rbac?: McpServerRbac;
  /** `MCP-META` on CONNECT (version, implementation, location), for brokers that suggest names. */
  componentMeta?: Record<string, unknown>;
  /** Build the SDK server of one session. Called once per `initialize`; the host connects it. */
  createServer(session: McpServerSession): McpServerLike | Promise<McpServerLike>;
  /** QoS of every publish and subscription. Default 1. */
  qos?: MqttQoS;
  /** Timeouts of server-to-client requests (sampling, roots, elicitation...); defaults from the spec. */
  requestTimeouts?: RequestTimeoutsOption;
  /** Ping every client periodically; a failed ping closes that session. Off by default. */
  healthCheck?: HealthCheckOptions;
  /** Identical capability notifications within this many ms are published once. Default 0 (same tick). */
  coalesceWindowMs?: number;
  /**
   * Refuse new sessions beyond this many (initializing ones included) with a JSON-RPC error to the client.
   * Default 1000 (`DEFAULT_MAX_SESSIONS`); `Infinity` for no limit.
   */
  maxSessions?: number;
  /**
   * With `trustBrokerIdentity`: refuse a sender's sessions beyond this many, counted per authenticated
   * principal (per stamped MQTT client id when the broker does not authenticate). Default 16
   * (`DEFAULT_MAX_SESSIONS_PER_SENDER`). Without `trustBrokerIdentity` the host cannot tell senders apart:
   * a broker ACL that binds `$mcp-rpc/{id}/...` to the client id `{id}` is what keeps one connection to one
   * mcp-client-id (and so to one session per server instance).
   */
  maxSessionsPerSender?: number;
  /**
   * Close a session whose client sent nothing for this many ms (and has no request in progress):
   * `notifications/disconnected` to the client, its subscriptions removed. Default 30 min
   * (`DEFAULT_SESSION_IDLE_TIMEOUT_MS`); 0 never. A client health check keeps an idle client's session.
   */
  sessionIdleTimeoutMs?: number;
  /**
   * Close a session whose client did not send `notifications/initialized` within this many ms of the
   * initialize response. Default 30 s (`DEFAULT_INITIALIZATION_TIMEOUT_MS`); 0 never.
   */
  initializationTimeoutMs?: number;
  /**
   * Trust the sender identity the broker stamps (`mqtt-agents-sender-*` user properties, `SenderUserProperty`):
   * an initialize whose `MCP-MQTT-CLIENT-ID` differs from the stamped client id is refused, messages on a
   * session's topics must come from its client, `maxSessionsPerSender` applies, and tool handlers see the
   * principal and roles. Only on a broker that strips these properties from clients and stamps them (the
   * embedded broker with `agentTopicAcl`): anywhere else a client can write them itself. Default false.
   */
  trustBrokerIdentity?: boolean;
  /** Largest inbound payload decoded, in bytes; larger ones are dropped and reported. Default 16 MiB. */
  maxInboundBytes?: number;
  /** Receives every problem the host notices (bad input, failed sessions); also logged. */
  onerror?: (error: Error) => void;
  /** Where the host logs; default the `mqtt-agents:mcp` debug namespace. */
  logger?: Logger;
  /** Aborting it stops the start-up (connecting, subscribing, presence) and closes what was opened. */
  signal?: AbortSignal;
}

/** Events of a server host, with their listener signatures (`host.on(event, listener)`). */
export interface McpServerHostEvents {
  /** A session finished `initialize` (its response went out). */
  'session-open': (session: McpServerSession) => void;
  /**
   * A session ended, for whatever reason; `reason` is set when the host ended it on its own (reaped when
   * idle or never initialized, failed health check, connection lost, replaced by a new initialize).
   */
  'session-close': (session: McpServerSession, reason: MqttAgentsError | undefined) => void;
  /**
   * `drain()` began: the presence now says `draining`, new sessions are refused. `sessions` are those open
   * at that moment; `graceMs` is how long they have.
   */
  draining: (drain: { sessions: number; graceMs: number }) => void;
  /** A problem the host reported (the same errors `onerror` receives). */
  error: (error: Error) => void;
}
