/** What a client connection needs of the broker that serves it. */
import type { EventsPort, RouterPort } from '../handlers/context.js';
import type { SessionClient } from '../session/session-lifecycle.js';
import type { Session } from '../session/session.js';
import type { BrokerSettings } from '../settings.js';
import type { BrokerHooks, BrokerLogger, ClientInfo, DisconnectCause } from '../types.js';

/** A connection as the broker holds it: it can be closed (broker shutdown). */
export interface ManagedConnection {
  readonly connected: boolean;
  disconnect(reasonCode: number, cause: DisconnectCause, reason?: string): void;
  close(cause: DisconnectCause, reasonCode: number | undefined): void;
}

export interface ConnectionHost {
  readonly settings: BrokerSettings;
  readonly hooks: BrokerHooks;
  readonly logger: BrokerLogger;
  readonly router: RouterPort;
  readonly sessions: {
    assignClientId(): string;
    quotaReached(clientId: string): boolean;
    open(
      client: SessionClient,
      cleanStart: boolean,
      expiryInterval: number,
    ): { session: Session; sessionPresent: boolean };
    /** A connected client's connection ended: will, session expiry, shared re-dispatch. */
    connectionEnded(client: SessionClient): void;
  };
  readonly events: EventsPort & {
    clientDisconnected(client: ClientInfo, cause: DisconnectCause, reasonCode: number | undefined): void;
  };
  /** A connection's stream closed for good. */
  connectionFinished(connection: ManagedConnection): void;
}
