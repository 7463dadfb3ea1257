/** What one connection knows about its client: set by the CONNECT handler, read by the others. */
import type { Session } from '../session/session.js';
import type { ClientInfo, PeerCertificate, ProtocolVersion, TransportKind } from '../types.js';
import type { Will } from '../will.js';

const CONNECTING = 0;
const CONNECTED = 1;
const CLOSED = 2;

/** Connection state: waiting for CONNECT, connected, or closed. */
export type ConnectionState = typeof CONNECTING | typeof CONNECTED | typeof CLOSED;
export const ConnectionStates = { CONNECTING, CONNECTED, CLOSED } as const;

export class ClientState {
  readonly transport: TransportKind;
  readonly remoteAddress: string | undefined;
  /** The TLS client certificate the listener verified, for `authenticate`. */
  readonly peerCertificate: PeerCertificate | undefined;
  protocolVersion: ProtocolVersion = 5;
  clientId = '';
  /** The client as hooks and events see it, once CONNECT is accepted. */
  info: ClientInfo | undefined = undefined;
  session: Session | undefined = undefined;
  /** The will to publish when the connection ends without DISCONNECT 0x00. */
  will: Will | undefined = undefined;
  /** Inbound topic aliases (client to broker). */
  topicAliases: Map<number, string> | undefined = undefined;
  /** Session Expiry Interval the client asked for in CONNECT (for the DISCONNECT rule). */
  requestedSessionExpiry = 0;

  constructor(
    transport: TransportKind,
    remoteAddress: string | undefined,
    peerCertificate: PeerCertificate | undefined,
  ) {
    this.transport = transport;
    this.remoteAddress = remoteAddress;
    this.peerCertificate = peerCertificate;
  }
}
