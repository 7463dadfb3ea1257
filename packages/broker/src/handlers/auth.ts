import type { IAuthPacket } from 'mqtt-packet';
import type { HandlerContext } from './context.js';

/**
 * AUTH: enhanced authentication is not supported. CONNECT with an Authentication Method is refused
 * (0x8C), so an AUTH packet from an accepted client is a protocol error.
 */
export function handleAuth(context: HandlerContext, _packet: IAuthPacket): void {
  context.connection.protocolError(0x82, 'enhanced authentication (AUTH) is not supported');
}
