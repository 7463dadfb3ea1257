/**
 * Checks mqtt-packet does not make: which properties each packet type may carry (anything else makes
 * the packet malformed, MQTT 5 section 2.2.2.2), which may appear only once (a protocol error), and
 * packet identifiers that must not be 0.
 */
import type { Packet } from 'mqtt-packet';

const ACK_PROPERTIES = new Set(['reasonString', 'userProperties']);

const ALLOWED: Record<string, ReadonlySet<string>> = {
  connect: new Set([
    'sessionExpiryInterval',
    'receiveMaximum',
    'maximumPacketSize',
    'topicAliasMaximum',
    'requestResponseInformation',
    'requestProblemInformation',
    'userProperties',
    'authenticationMethod',
    'authenticationData',
  ]),
  will: new Set([
    'willDelayInterval',
    'payloadFormatIndicator',
    'messageExpiryInterval',
    'contentType',
    'responseTopic',
    'correlationData',
    'userProperties',
  ]),
  publish: new Set([
    'payloadFormatIndicator',
    'messageExpiryInterval',
    'topicAlias',
    'responseTopic',
    'correlationData',
    'userProperties',
    'subscriptionIdentifier',
    'contentType',
  ]),
  puback: ACK_PROPERTIES,
  pubrec: ACK_PROPERTIES,
  pubrel: ACK_PROPERTIES,
  pubcomp: ACK_PROPERTIES,
  subscribe: new Set(['subscriptionIdentifier', 'userProperties']),
  unsubscribe: new Set(['userProperties']),
  disconnect: new Set(['sessionExpiryInterval', 'reasonString', 'userProperties', 'serverReference']),
  auth: new Set(['authenticationMethod', 'authenticationData', 'reasonString', 'userProperties']),
};

/** A problem found in a packet: the reason code to close with and why. */
export interface PacketProblem {
  readonly reasonCode: 0x81 | 0x82;
  readonly reason: string;
}

function checkProperties(
  kind: string,
  properties: Record<string, unknown> | undefined,
  repeatable: string | undefined,
): PacketProblem | undefined {
  if (properties === undefined) return undefined;
  const allowed = ALLOWED[kind];
  for (const name in properties) {
    if (!allowed?.has(name))
      return { reasonCode: 0x81, reason: `property ${name} is not allowed in ${kind}` };
    if (name !== 'userProperties' && name !== repeatable && Array.isArray(properties[name])) {
      return { reasonCode: 0x82, reason: `property ${name} appears more than once in ${kind}` };
    }
  }
  return undefined;
}

/** Check an MQTT 5 packet from a client; undefined when it is fine. */
export function checkPacket(packet: Packet): PacketProblem | undefined {
  const properties = (packet as { properties?: Record<string, unknown> }).properties;
  switch (packet.cmd) {
    case 'publish':
      if (packet.qos > 0 && packet.messageId === 0) {
        return { reasonCode: 0x82, reason: 'a QoS 1 or 2 PUBLISH needs a non-zero packet identifier' };
      }
      // Subscription identifiers are refused later (a client must not send them at all).
      return checkProperties('publish', properties, 'subscriptionIdentifier');
    case 'subscribe':
    case 'unsubscribe':
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      if (packet.messageId === 0)
        return { reasonCode: 0x82, reason: `${packet.cmd} with packet identifier 0` };
      return checkProperties(packet.cmd, properties, undefined);
    case 'connect': {
      const problem = checkProperties('connect', properties, undefined);
      if (problem) return problem;
      return checkProperties(
        'will',
        packet.will?.properties as Record<string, unknown> | undefined,
        undefined,
      );
    }
    case 'disconnect':
    case 'auth':
      return checkProperties(packet.cmd, properties, undefined);
    default:
      return undefined;
  }
}
