/**
 * The narrow context every packet handler takes: the connection's own state and controls, its writer,
 * and ports to the broker's settings, hooks, sessions, router and events. Never the broker itself.
 */
import type { ClientState, ConnectionState } from '../connection/client-state.js';
import type { PacketWriter } from '../connection/packet-writer.js';
import type { Message } from '../message.js';
import type { Session } from '../session/session.js';
import type { BrokerSettings } from '../settings.js';
import type {
  BrokerHooks,
  BrokerLogger,
  ClientInfo,
  DisconnectCause,
  ProtocolVersion,
  SubscriptionRequest,
} from '../types.js';

/** What a handler may do to its connection. */
export interface ConnectionControl {
  readonly state: ConnectionState;
  readonly connected: boolean;
  /** Adopt the protocol version of the CONNECT packet for everything written from now on. */
  setProtocolVersion(version: ProtocolVersion): void;
  /** Apply the client's limits from CONNECT (MQTT 5). */
  setClientLimits(receiveMaximum: number, maximumPacketSize: number): void;
  /** Close the connection for a protocol violation, with a DISCONNECT (or CONNACK) reason code. */
  protocolError(reasonCode: number, reason: string): void;
  /** Refuse a CONNECT with a CONNACK reason code (mapped for MQTT 3.1.1) and close. */
  refuseConnect(reasonCode: number, reason?: string): void;
  /** Mark the connection accepted and start watching keep alive (seconds; 0 disables). */
  accept(keepAlive: number): void;
  close(cause: DisconnectCause, reasonCode: number | undefined): void;
}

/** The router as handlers see it: subscriptions, retained messages, and accepting a message for delivery. */
export interface RouterPort {
  /**
   * Update the retained message, route, announce. Returns the number of subscriptions it was given to, or
   * RETAINED_QUOTA_EXCEEDED for a retained message the retained limits refuse (then nothing happens).
   */
  publish(message: Message, client: ClientInfo | undefined): number;
  /** Add or replace a subscription; returns whether one with the same topic filter existed. */
  subscribe(session: Session, request: SubscriptionRequest): boolean;
  /** Remove a subscription by topic filter; returns whether it existed. */
  unsubscribe(session: Session, topicFilter: string): boolean;
  /** Whether a new subscription made by this request is sent the retained messages it matches. */
  receivesRetained(request: SubscriptionRequest): boolean;
  sendRetained(session: Session, request: SubscriptionRequest): void;
}

/** Sessions as the CONNECT handler sees them. */
export interface SessionPort {
  assignClientId(): string;
  /** True when a CONNECT for this client id would open a session beyond `maximumSessions`. */
  quotaReached(clientId: string): boolean;
  /** Open or resume this connection's session (taking over the client id). */
  open(cleanStart: boolean, expiryInterval: number): { session: Session; sessionPresent: boolean };
}

/** The broker's events and error reports. */
export interface EventsPort {
  reportError(client: ClientInfo | undefined, error: Error): void;
  clientConnected(client: ClientInfo, sessionPresent: boolean): void;
  clientSubscribed(client: ClientInfo, subscriptions: readonly SubscriptionRequest[]): void;
  clientUnsubscribed(client: ClientInfo, topicFilters: readonly string[]): void;
}

export interface HandlerContext {
  readonly connection: ConnectionControl;
  readonly client: ClientState;
  readonly writer: PacketWriter;
  readonly settings: BrokerSettings;
  readonly hooks: BrokerHooks;
  readonly logger: BrokerLogger;
  readonly sessions: SessionPort;
  readonly router: RouterPort;
  readonly events: EventsPort;
}
