/** UNSUBSCRIBE: remove the subscriptions that exist and answer UNSUBACK (0x11 for those that did not). */
import type { IUnsubscribePacket } from 'mqtt-packet';
import type { HandlerContext } from './context.js';
import { parseTopicFilter } from '../topic.js';

export function handleUnsubscribe(context: HandlerContext, packet: IUnsubscribePacket): void {
  const session = context.client.session;
  if (!session) return;
  if (packet.unsubscriptions.length === 0)
    return context.connection.protocolError(0x82, 'UNSUBSCRIBE without topic filters');
  for (const topicFilter of packet.unsubscriptions) {
    if (!parseTopicFilter(topicFilter))
      return context.connection.protocolError(0x81, `invalid topic filter '${topicFilter}'`);
  }
  const codes: number[] = [];
  const removed: string[] = [];
  for (const topicFilter of packet.unsubscriptions) {
    if (context.router.unsubscribe(session, topicFilter)) {
      codes.push(0x00);
      removed.push(topicFilter);
    } else {
      codes.push(0x11);
    }
  }
  context.writer.sendUnsuback(packet.messageId ?? 0, codes);
  const info = context.client.info;
  if (removed.length > 0 && info) context.events.clientUnsubscribed(info, removed);
}
