import type { IDisconnectPacket } from 'mqtt-packet';
import type { ClientConnection } from '../client-connection.js';

/**
 * DISCONNECT from the client: 0x00 discards the will, 0x04 (Disconnect with Will Message) and other
 * codes keep it. A new Session Expiry Interval applies, unless CONNECT had 0 (then it is a protocol error).
 */
export function handleDisconnect(client: ClientConnection, packet: IDisconnectPacket): void {
  const reasonCode = packet.reasonCode ?? 0;
  const expiry = packet.properties?.sessionExpiryInterval;
  if (expiry !== undefined && client.session) {
    if (client.requestedSessionExpiry === 0 && expiry !== 0) {
      client.protocolError(0x82, 'session expiry interval set in DISCONNECT after 0 in CONNECT');
      return;
    }
    client.session.expiryInterval = 300;
  }
  if (reasonCode === 0x00) client.will = undefined;
  client.close('client-disconnect', reasonCode);
}
