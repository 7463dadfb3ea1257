/** UNSUBSCRIBE: remove the subscriptions that exist and answer UNSUBACK (0x11 for those that did not). */
import type { IUnsubscribePacket } from 'mqtt-packet';
import type { ClientConnection } from '../client-connection.js';
import { parseTopicFilter } from '../topic.js';

export function handleUnsubscribe(client: ClientConnection, packet: IUnsubscribePacket): void {
  const session = client.session;
  if (!session) return;
  if (packet.unsubscriptions.length === 0)
    return client.protocolError(0x82, 'UNSUBSCRIBE without topic filters');
  for (const topicFilter of packet.unsubscriptions) {
    if (!parseTopicFilter(topicFilter))
      return client.protocolError(0x81, `invalid topic filter '${topicFilter}'`);
  }
  const codes: number[] = [];
  const removed: string[] = [];
  for (const topicFilter of packet.unsubscriptions) {
    if (client.broker.unsubscribe(session, topicFilter)) {
      codes.push(0x00);
      removed.push(topicFilter);
    } else {
      codes.push(0x11);
    }
  }
  client.sendUnsuback(packet.messageId ?? 0, codes);
  if (removed.length > 0) client.broker.emitUnsubscribe(client, removed);
}
