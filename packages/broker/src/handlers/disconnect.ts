import type { IDisconnectPacket } from 'mqtt-packet';
import type { HandlerContext } from './context.js';

/**
 * DISCONNECT from the client: 0x00 discards the will, 0x04 (Disconnect with Will Message) and other
 * codes keep it. A new Session Expiry Interval applies, unless CONNECT had 0 (then it is a protocol error).
 */
export function handleDisconnect(context: HandlerContext, packet: IDisconnectPacket): void {
  const reasonCode = packet.reasonCode ?? 0;
  const expiry = packet.properties?.sessionExpiryInterval;
  if (expiry !== undefined && context.client.session) {
    if (context.client.requestedSessionExpiry === 0 && expiry !== 0) {
      context.connection.protocolError(0x82, 'session expiry interval set in DISCONNECT after 0 in CONNECT');
      return;
    }
    context.client.session.expiryInterval = Math.min(expiry, context.settings.maximumSessionExpiryInterval);
  }
  if (reasonCode === 0x00) context.client.will = undefined;
  context.connection.close('client-disconnect', reasonCode);
}
