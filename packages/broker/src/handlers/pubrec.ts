import type { IPubrecPacket } from 'mqtt-packet';
import type { HandlerContext } from './context.js';
import { PACKET_PUBREL } from '../encoder.js';

/** PUBREC: the client has a QoS 2 message; release it with PUBREL (0x92 for an unknown packet id). */
export function handlePubrec(context: HandlerContext, packet: IPubrecPacket): void {
  const packetId = packet.messageId ?? 0;
  const outcome = context.client.session?.received(packetId, packet.reasonCode ?? 0) ?? 'unknown';
  if (outcome === 'release') context.writer.writePubrel(packetId);
  else if (outcome === 'unknown') context.writer.writeAck(PACKET_PUBREL, packetId, 0x92);
}
