import type { IPubcompPacket } from 'mqtt-packet';
import type { HandlerContext } from './context.js';

/** PUBCOMP: a QoS 2 message to the client is complete. */
export function handlePubcomp(context: HandlerContext, packet: IPubcompPacket): void {
  context.client.session?.complete(packet.messageId ?? 0);
}
