import type { ClientConnection } from '../client-connection.js';

/** PINGREQ: answer PINGRESP (the read itself already counted as keep-alive activity). */
export function handlePingreq(client: ClientConnection): void {
  client.writePingresp();
}
