/**
 * SUBSCRIBE: validate every filter, ask the authorizeSubscribe hook, add or replace the subscriptions,
 * answer SUBACK, then send retained messages as each subscription's Retain Handling says.
 */
import type { ISubscribePacket } from 'mqtt-packet';
import type { HandlerContext } from './context.js';
import { parseTopicFilter } from '../topic.js';
import type { HookResult, QoS, SubscriptionRequest } from '../types.js';

export function handleSubscribe(context: HandlerContext, packet: ISubscribePacket): void | Promise<void> {
  const identifier = packet.properties?.subscriptionIdentifier as number | number[] | undefined;
  if (identifier !== undefined && (Array.isArray(identifier) || identifier < 1 || identifier > 268_435_455)) {
    return context.connection.protocolError(0x82, 'invalid subscription identifier');
  }
  if (packet.subscriptions.length === 0)
    return context.connection.protocolError(0x82, 'SUBSCRIBE without topic filters');

  const requests: SubscriptionRequest[] = [];
  for (const subscription of packet.subscriptions) {
    const parsed = parseTopicFilter(subscription.topic);
    if (!parsed)
      return context.connection.protocolError(0x81, `invalid topic filter '${subscription.topic}'`);
    const noLocal = subscription.nl === true;
    if (parsed.shareName !== undefined && noLocal) {
      return context.connection.protocolError(0x82, 'no local is not allowed on a shared subscription');
    }
    requests.push({
      topicFilter: subscription.topic,
      filter: parsed.filter,
      shareName: parsed.shareName,
      qos: subscription.qos,
      noLocal,
      retainAsPublished: subscription.rap === true,
      retainHandling: (subscription.rh ?? 0) as 0 | 1 | 2,
      subscriptionIdentifier: identifier,
    });
  }

  const authorize = context.hooks.authorizeSubscribe;
  if (!authorize) return finishSubscribe(context, packet.messageId ?? 0, requests, undefined);
  const info = context.client.info as NonNullable<typeof context.client.info>;
  const verdicts: Array<HookResult | Promise<HookResult>> = [];
  let asynchronous = false;
  for (const request of requests) {
    let verdict: HookResult | Promise<HookResult>;
    try {
      verdict = authorize(info, request);
    } catch (error) {
      context.logger.error('mqtt-agents:broker: authorizeSubscribe hook failed', error);
      verdict = 0x80;
    }
    if (typeof (verdict as { then?: unknown }).then === 'function') {
      asynchronous = true;
      verdict = Promise.resolve(verdict).catch((error: unknown) => {
        context.logger.error('mqtt-agents:broker: authorizeSubscribe hook failed', error);
        return 0x80;
      });
    }
    verdicts.push(verdict);
  }
  if (asynchronous) {
    return Promise.all(verdicts).then((results) =>
      finishSubscribe(context, packet.messageId ?? 0, requests, results),
    );
  }
  return finishSubscribe(context, packet.messageId ?? 0, requests, verdicts as HookResult[]);
}

function finishSubscribe(
  context: HandlerContext,
  packetId: number,
  requests: readonly SubscriptionRequest[],
  verdicts: readonly HookResult[] | undefined,
): void {
  const session = context.client.session;
  if (!context.connection.connected || !session) return;
  const maximumQos = context.settings.maximumQos;
  const codes: number[] = [];
  const granted: SubscriptionRequest[] = [];
  const retainedToSend: Array<{ request: SubscriptionRequest; existed: boolean }> = [];
  for (let index = 0; index < requests.length; index++) {
    const request = requests[index] as SubscriptionRequest;
    const verdict = verdicts ? verdicts[index] : true;
    let qos = Math.min(request.qos, maximumQos) as QoS;
    if (verdict !== true) {
      if (typeof verdict === 'number' && verdict >= 0 && verdict <= 2) {
        qos = Math.min(qos, verdict) as QoS;
      } else {
        const code = typeof verdict === 'number' && verdict >= 0x80 ? verdict : 0x80;
        codes.push(context.writer.version5 ? code : 0x80);
        continue;
      }
    }
    const accepted: SubscriptionRequest = qos === request.qos ? request : { ...request, qos };
    const existed = context.router.subscribe(session, accepted);
    codes.push(qos);
    granted.push(accepted);
    if (context.router.receivesRetained(accepted)) retainedToSend.push({ request: accepted, existed });
  }
  context.writer.sendSuback(packetId, codes);
  for (const { request, existed } of retainedToSend) {
    if (request.retainHandling === 0 || (request.retainHandling === 1 && !existed)) {
      context.router.sendRetained(session, request);
    }
  }
  const info = context.client.info;
  if (granted.length > 0 && info) context.events.clientSubscribed(info, granted);
}
