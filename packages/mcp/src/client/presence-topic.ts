import { MqttAgentsError, parseMcpTopic } from '@mqtt-agents/core';
import type { MqttMessage } from '@mqtt-agents/core';
import type { InboundRouter } from '../inbound/inbound-router.js';
import { readServerPresence } from '../server/server-presence.js';
import type { McpServerInstance } from '../server/server-presence.js';
import type { ServerDiscovery } from './server-discovery.js';

/**
 * A message on a server presence topic: the topic parsed by core, the spoofing check of the shared
 * inbound stages, then the presence read into discovery. An instance that went offline is reported to
 * `onOffline` (its sessions close); every online presence (a drain notice among them) to `onOnline`.
 */
export function routePresence(
  message: MqttMessage,
  context: {
    inbound: InboundRouter;
    discovery: ServerDiscovery;
    onOnline(instance: McpServerInstance): void;
    onOffline(serverId: string): void;
  },
): void {
  const { inbound } = context;
  const topic = parseMcpTopic(message.topic);
  if (!topic || topic.kind !== 'server-presence') {
    inbound.report(
      new MqttAgentsError(
        'PROTOCOL_ERROR',
        `ignored a presence message on an invalid topic '${message.topic}'`,
        {
          details: { topic: message.topic },
        },
      ),
    );
    return;
  }
  if (inbound.spoofed(message, topic.serverId)) return;
  const reading = readServerPresence(topic, message.payload);
  switch (reading.kind) {
    case 'online':
      context.discovery.online(reading.instance);
      context.onOnline(reading.instance);
      return;
    case 'offline':
      context.discovery.offline(topic);
      context.onOffline(topic.serverId);
      return;
    case 'invalid':
      inbound.report(
        new MqttAgentsError(
          'PROTOCOL_ERROR',
          `ignored presence of server '${topic.serverId}' (${topic.serverName}): ${reading.reason}`,
          { details: { topic: message.topic, retained: message.retain } },
        ),
      );
      return;
  }
}
