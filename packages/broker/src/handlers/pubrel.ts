import type { IPubrelPacket } from 'mqtt-packet';
import type { HandlerContext } from './context.js';
import { PACKET_PUBCOMP } from '../encoder.js';

/**
 * PUBREL: the client releases a QoS 2 message it published; forget its packet id (from now on the same
 * id is a new message) and answer PUBCOMP, with 0x92 Packet Identifier not found for an unknown id.
 */
export function handlePubrel(context: HandlerContext, packet: IPubrelPacket): void {
  const packetId = packet.messageId ?? 0;
  const known = context.client.session?.inboundQos2?.delete(packetId) ?? false;
  context.writer.writeAck(PACKET_PUBCOMP, packetId, known ? 0 : 0x92);
}
