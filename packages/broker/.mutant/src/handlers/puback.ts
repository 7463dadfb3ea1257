import type { IPubackPacket } from 'mqtt-packet';
import type { ClientConnection } from '../client-connection.js';

/** PUBACK: a QoS 1 message to the client is delivered; send more if some were held back. */
export function handlePuback(client: ClientConnection, packet: IPubackPacket): void {
  client.session?.acknowledge(packet.messageId ?? 0);
}
