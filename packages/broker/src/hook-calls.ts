/** Calling the broker's hooks: telling a promise from a verdict, and applying `rewritePublish`. */
import { Message } from './message.js';
import type { BrokerHooks, BrokerLogger, ClientInfo, PublishProperties, UserProperties } from './types.js';

export function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * `message` routed with the properties the `rewritePublish` hook returns for it (the same message when there
 * is no hook or it keeps them). Undefined when the hook throws: the message is not routed, since it may
 * still carry properties an identity plugin had to remove (fail closed). Used for client publishes and for
 * wills alike, so that a will cannot carry properties a publish could not.
 */
export function rewrittenMessage(
  hooks: Pick<BrokerHooks, 'rewritePublish'>,
  logger: BrokerLogger,
  client: ClientInfo,
  message: Message,
): Message | undefined {
  const rewrite = hooks.rewritePublish;
  if (!rewrite) return message;
  let properties: PublishProperties | undefined;
  try {
    properties = rewrite(client, message);
  } catch (error) {
    logger.error('mqtt-agents:broker: rewritePublish hook failed; the message is not routed', error);
    return undefined;
  }
  if (properties === undefined || properties === message.properties) return message;
  return new Message(
    message.topic,
    message.payload,
    message.qos,
    message.retain,
    properties,
    message.publisherId,
    message.expiresAt,
  );
}

/** The `connackUserProperties` hook's answer; undefined without the hook or when it throws (logged). */
export function connackUserProperties(
  hooks: Pick<BrokerHooks, 'connackUserProperties'>,
  logger: BrokerLogger,
  client: ClientInfo,
): UserProperties | undefined {
  const hook = hooks.connackUserProperties;
  if (!hook) return undefined;
  try {
    return hook(client);
  } catch (error) {
    logger.error('mqtt-agents:broker: connackUserProperties hook failed', error);
    return undefined;
  }
}
