import type { IPubrecPacket } from 'mqtt-packet';
import type { ClientConnection } from '../client-connection.js';
import { PACKET_PUBREL } from '../encoder.js';

/** PUBREC: the client has a QoS 2 message; release it with PUBREL (0x92 for an unknown packet id). */
export function handlePubrec(client: ClientConnection, packet: IPubrecPacket): void {
  const packetId = packet.messageId ?? 0;
  const outcome = client.session?.received(packetId, packet.reasonCode ?? 0) ?? 'unknown';
  if (outcome === 'release') client.writePubrel(packetId);
  else if (outcome === 'unknown') client.writeAck(PACKET_PUBREL, packetId, 0x92);
}
