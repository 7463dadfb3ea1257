import type { Logger, MqttConnectionOptions, MqttQoS } from '@mqtt-agents/core';
import type { Transport } from '../json-rpc-types.js';
import type { RequestTimeoutsOption } from '../default-timeouts.js';
import type { HealthCheckOptions } from '../session/health-check.js';
import type { McpFailoverEvent } from './failover-policy.js';
import type { FailoverOptions } from './failover-policy.js';
import type { InstanceSelection } from './instance-selection.js';

/** A role the broker granted this client on some server (CONNACK `MCP-RBAC`). */
export interface McpClientRole {
  /** The server name (or server name filter) the role applies to. */
  serverName: string;
  roleName: string;
}

/** What `connect()` accepts: an SDK `Client` (anything whose `connect` takes a transport and request options). */
export interface McpClientLike {
  /** Attach the client to the transport and run `initialize`; `host.connect()` calls it. */
  connect(transport: Transport, options?: { timeout?: number; signal?: AbortSignal }): Promise<void>;
}

/**
 * How `createMcpMqttClientHost` connects, which servers it discovers, the QoS, timeouts and health checks
 * of its sessions, failover, and the bounds on extra connections and inbound size.
 */
export interface CreateMcpMqttClientHostOptions {
  /** Broker connection options, or your own MQTT.js client (see `mcpClientMqttOptions`). */
  mqtt: MqttConnectionOptions;
  /**
   * Server name filters to discover (`factory/#`). Default `['#']`. Broker-suggested filters (CONNACK
   * `MCP-SERVER-NAME-FILTERS`) replace them.
   */
  serverNameFilters?: string[];
  /** The mcp-client-id (MQTT client id) of the host's connection; generated when omitted. */
  clientId?: string;
  /** `MCP-META` on CONNECT (version, implementation, location), for brokers that suggest filters. */
  componentMeta?: Record<string, unknown>;
  /** QoS of every publish and subscription. Default 1. */
  qos?: MqttQoS;
  /** Timeouts of client requests per method; defaults from the spec (`MCP_MQTT_DEFAULT_TIMEOUTS`). */
  requestTimeouts?: RequestTimeoutsOption;
  /** Ping every server of a session periodically; a failed ping closes that session. Off by default. */
  healthCheck?: HealthCheckOptions;
  /**
   * The capability topic reaches every client of a server instance: pass `notifications/resources/updated`
   * only to sessions that subscribed to the URI. Default true.
   */
  filterResourceUpdates?: boolean;
  /** Identical capability notifications within this many ms are published once. Default 0 (same tick). */
  coalesceWindowMs?: number;
  /** Largest inbound payload decoded, in bytes; larger ones are dropped and reported. Default 16 MiB. */
  maxInboundBytes?: number;
  /**
   * Move sessions to another online instance of the same server when their instance is lost or drains
   * (see `FailoverOptions`). `false` turns it off: a lost session then closes the SDK client. Default on.
   */
  failover?: boolean | FailoverOptions;
  /**
   * Most extra MQTT connections the host opens on demand, for sessions with an instance its own connection
   * already has a session with (one session per connection and instance is the spec's topic design).
   * Only with connection options (`{ url }`), not your own MQTT client. Default 16.
   */
  maxConnections?: number;
  /** Receives every problem the host notices (bad input, garbage presence); also logged. */
  onerror?: (error: Error) => void;
  /** Where the host logs; default the `mqtt-agents:mcp` debug namespace. */
  logger?: Logger;
  /** Aborting it stops the start-up (connecting, subscribing to presence) and closes what was opened. */
  signal?: AbortSignal;
}

/**
 * How `host.connect()` and `host.createTransport()` pick an instance of a server name, whether the
 * session gets its own MQTT connection, its failover, and how long it waits.
 */
export interface ConnectToServerOptions {
  /** How to choose among the online instances of the server name. Default `random`. */
  select?: InstanceSelection;
  /** Talk to this instance, without waiting for its presence. */
  serverId?: string;
  /**
   * Open a dedicated MQTT connection (a fresh mcp-client-id) for this session; it closes with the session.
   * Needed for a second session with the same server instance. Only with connection options, not a client.
   */
  dedicatedConnection?: boolean;
  /** Failover for this session; overrides the host's `failover` option. */
  failover?: boolean | FailoverOptions;
  /** How long to wait for an instance to come online, in ms. Default 30 000. */
  waitTimeoutMs?: number;
  /** Timeout of `initialize`, in ms. Default 30 000 (the spec's). */
  timeoutMs?: number;
  /** Aborting it stops waiting for the instance and the `initialize` exchange. */
  signal?: AbortSignal;
}

/** Events of a client host, with their listener signatures (`host.on(event, listener)`). */
export interface McpClientHostEvents {
  /** A problem the host reported (the same errors `onerror` receives). */
  error: (error: Error) => void;
  /** A session moved to another instance (or failed to). */
  failover: (event: McpFailoverEvent) => void;
}
