import type { IPubackPacket } from 'mqtt-packet';
import type { HandlerContext } from './context.js';

/** PUBACK: a QoS 1 message to the client is delivered; send more if some were held back. */
export function handlePuback(context: HandlerContext, packet: IPubackPacket): void {
  context.client.session?.acknowledge(packet.messageId ?? 0);
}
