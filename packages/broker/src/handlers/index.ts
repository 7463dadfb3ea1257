/** Routes each parsed packet to its handler (one file per packet type, as aedes does). */
import type { IConnectPacket, Packet } from 'mqtt-packet';
import type { ClientConnection } from '../client-connection.js';
import { ConnectionStates } from '../client-connection.js';
import { checkPacket } from '../packet-validation.js';
import { handleAuth } from './auth.js';
import { handleConnect } from './connect.js';
import { handleDisconnect } from './disconnect.js';
import { handlePingreq } from './pingreq.js';
import { handlePuback } from './puback.js';
import { handlePubcomp } from './pubcomp.js';
import { handlePublish } from './publish.js';
import { handlePubrec } from './pubrec.js';
import { handlePubrel } from './pubrel.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';

/** Handle one packet; a returned promise holds back the connection's next packets until it settles. */
export function dispatchPacket(client: ClientConnection, packet: Packet): void | Promise<void> {
  if (client.state === ConnectionStates.CONNECTING && packet.cmd !== 'connect') {
    // MQTT-3.1.0-1: the first packet must be CONNECT; close without CONNACK.
    client.broker.reportError(undefined, new Error(`first packet was ${packet.cmd}, not connect`));
    client.close('protocol-error', 0x82);
    return;
  }
  const problem = checkPacket(packet);
  if (problem) {
    if (packet.cmd === 'connect' && client.state === ConnectionStates.CONNECTING) {
      client.setProtocolVersion(packet.protocolVersion === 5 ? 5 : 4);
    }
    return client.protocolError(problem.reasonCode, problem.reason);
  }
  if (client.state === ConnectionStates.CONNECTING) return handleConnect(client, packet as IConnectPacket);
  switch (packet.cmd) {
    case 'publish':
      return handlePublish(client, packet);
    case 'puback':
      return handlePuback(client, packet);
    case 'pubrec':
      return handlePubrec(client, packet);
    case 'pubrel':
      return handlePubrel(client, packet);
    case 'pubcomp':
      return handlePubcomp(client, packet);
    case 'subscribe':
      return handleSubscribe(client, packet);
    case 'unsubscribe':
      return handleUnsubscribe(client, packet);
    case 'pingreq':
      return handlePingreq(client);
    case 'disconnect':
      return handleDisconnect(client, packet);
    case 'auth':
      return handleAuth(client, packet);
    case 'connect':
      return client.protocolError(0x82, 'second CONNECT on a connection');
    default:
      return client.protocolError(0x82, `a client must not send ${packet.cmd}`);
  }
}
