import type { IPubcompPacket } from 'mqtt-packet';
import type { ClientConnection } from '../client-connection.js';

/** PUBCOMP: a QoS 2 message to the client is complete. */
export function handlePubcomp(client: ClientConnection, packet: IPubcompPacket): void {
  client.session?.complete(packet.messageId ?? 0);
}
