/** Routes each parsed packet to its handler (one file per packet type, as aedes does). */
import type { IConnectPacket, Packet } from 'mqtt-packet';
import type { HandlerContext } from './context.js';
import { ConnectionStates } from '../connection/client-state.js';
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
export function dispatchPacket(context: HandlerContext, packet: Packet): void | Promise<void> {
  if (context.connection.state === ConnectionStates.CONNECTING && packet.cmd !== 'connect') {
    // MQTT-3.1.0-1: the first packet must be CONNECT; close without CONNACK.
    context.events.reportError(undefined, new Error(`first packet was ${packet.cmd}, not connect`));
    context.connection.close('protocol-error', 0x82);
    return;
  }
  const problem = checkPacket(packet);
  if (problem) {
    if (packet.cmd === 'connect' && context.connection.state === ConnectionStates.CONNECTING) {
      context.connection.setProtocolVersion(packet.protocolVersion === 5 ? 5 : 4);
    }
    return context.connection.protocolError(problem.reasonCode, problem.reason);
  }
  if (context.connection.state === ConnectionStates.CONNECTING)
    return handleConnect(context, packet as IConnectPacket);
  switch (packet.cmd) {
    case 'publish':
      return handlePublish(context, packet);
    case 'puback':
      return handlePuback(context, packet);
    case 'pubrec':
      return handlePubrec(context, packet);
    case 'pubrel':
      return handlePubrel(context, packet);
    case 'pubcomp':
      return handlePubcomp(context, packet);
    case 'subscribe':
      return handleSubscribe(context, packet);
    case 'unsubscribe':
      return handleUnsubscribe(context, packet);
    case 'pingreq':
      return handlePingreq(context);
    case 'disconnect':
      return handleDisconnect(context, packet);
    case 'auth':
      return handleAuth(context, packet);
    case 'connect':
      return context.connection.protocolError(0x82, 'second CONNECT on a connection');
    default:
      return context.connection.protocolError(0x82, `a client must not send ${packet.cmd}`);
  }
}
