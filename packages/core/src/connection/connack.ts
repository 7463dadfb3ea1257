// Reading a CONNACK into the facts the rest of the SDK acts on, with the MQTT 5 defaults for absent properties.
import type { IConnackPacket } from 'mqtt';
import type { ConnackInfo } from './types.js';

/** Read a CONNACK into `ConnackInfo`, applying the MQTT 5 defaults for absent properties. */
export function readConnackInfo(packet: IConnackPacket, requestedClientId: string): ConnackInfo {
  const properties = packet.properties ?? {};
  const maximumQoS = properties.maximumQoS;
  return {
    reasonCode: packet.reasonCode ?? packet.returnCode ?? 0,
    sessionPresent: packet.sessionPresent === true,
    clientId: properties.assignedClientIdentifier ?? requestedClientId,
    assignedClientIdentifier: properties.assignedClientIdentifier,
    maximumPacketSize: properties.maximumPacketSize,
    topicAliasMaximum: properties.topicAliasMaximum ?? 0,
    receiveMaximum: properties.receiveMaximum ?? 65_535,
    maximumQoS: maximumQoS === 0 || maximumQoS === 1 ? maximumQoS : 2,
    retainAvailable: properties.retainAvailable ?? true,
    wildcardSubscriptionAvailable: properties.wildcardSubscriptionAvailable ?? true,
    sharedSubscriptionAvailable: properties.sharedSubscriptionAvailable ?? true,
    subscriptionIdentifiersAvailable: properties.subscriptionIdentifiersAvailable ?? true,
    serverKeepAlive: properties.serverKeepAlive,
    sessionExpiryInterval: properties.sessionExpiryInterval,
    responseInformation: properties.responseInformation,
    serverReference: properties.serverReference,
    reasonString: properties.reasonString,
    userProperties: properties.userProperties ?? {},
  };
}
