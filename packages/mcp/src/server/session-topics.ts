import { isValidIdentifier, printable } from '@mqtt-agents/core';
import type { MqttMessage } from '@mqtt-agents/core';
import type { MessageExtraInfo } from '../json-rpc-types.js';
import { methodOf } from '../inbound/inbound-messages.js';
import { brokerCaller, callerAuthInfo, sameCaller } from './caller-identity.js';
import type { StampedSender } from './caller-identity.js';
import type { ServerHostContext } from './host-context.js';
import { verifySender } from './sender-verification.js';
import type { McpMqttServerSessionTransport } from './server-session-transport.js';

/** The per-session topics a server host routes by mcp-client-id. */
export type SessionTopicKind = 'rpc' | 'client-presence' | 'client-capability';

/** Level (0-based) of the mcp-client-id in an RPC topic and in the client presence and capability topics. */
const RPC_CLIENT_LEVEL = 1;
const CLIENT_TOPIC_ID_LEVEL = 2;

/**
 * The mcp-client-id level of a topic that matched the server host's route of `kind`. The route's filter
 * already fixed the topic's shape, so the level is sliced out without validating the rest.
 */
export function sessionTopicClientId(topic: string, kind: SessionTopicKind): string {
  const index = kind === 'rpc' ? RPC_CLIENT_LEVEL : CLIENT_TOPIC_ID_LEVEL;
  let start = 0;
  for (let level = 0; level < index; level += 1) start = topic.indexOf('/', start) + 1;
  const end = topic.indexOf('/', start);
  return end === -1 ? topic.slice(start) : topic.slice(start, end);
}

/**
 * RPC, client presence and client capability topics: routed by the topic's mcp-client-id through the
 * shared inbound stages, then the server's own: the broker-stamped sender check, a client's disconnect
 * (empty presence or `notifications/disconnected`) ending its session, and delivery to the transport.
 * Only an id that belongs to no session is validated (a known id was validated at initialize).
 */
export function routeSessionTopic(
  context: ServerHostContext,
  message: MqttMessage,
  kind: SessionTopicKind,
): void {
  if (context.isClosed()) return;
  const { inbound } = context;
  if (kind === 'rpc' && inbound.droppedRetained(message)) return;
  if (kind === 'client-presence' && message.retain) {
    // A retained presence describes the past; the client that just initialized is evidently there.
    context.logger.debug(`ignored a retained client presence on '${printable(message.topic)}'`);
    return;
  }
  const mcpClientId = sessionTopicClientId(message.topic, kind);
  const record = context.registry.get(mcpClientId);
  if (!record) {
    if (
      kind !== 'client-presence' &&
      !context.registry.endedLately(mcpClientId) &&
      !isValidIdentifier('mcp-client-id', mcpClientId)
    ) {
      inbound.report(
        inbound.problem(
          `dropped a message on '${message.topic}': '${mcpClientId}' is not a valid mcp-client-id`,
          {
            topic: message.topic,
            mcpClientId,
          },
        ),
      );
      return;
    }
    // A client that already de-initialized may still announce its disconnect or have messages in flight;
    // every client's presence reaches every server.
    inbound.withoutSession(message, {
      peerId: mcpClientId,
      peerLabel: `client '${mcpClientId}'`,
      session: undefined,
      recentlyEnded: kind === 'client-presence' || context.registry.endedLately(mcpClientId),
    });
    return;
  }
  const transport = record.session.transport;
  if (inbound.spoofed(message, mcpClientId, transport)) return;
  // A will carries no stamp (the broker publishes it), so presence may come unstamped.
  const verified = verifySender(message, mcpClientId, {
    trustBrokerIdentity: context.trustBrokerIdentity,
    allowUnstamped: kind === 'client-presence',
  });
  if (!verified.ok) {
    inbound.report(inbound.problem(verified.problem, { topic: message.topic, mcpClientId }), transport);
    return;
  }
  if (kind === 'client-presence' && message.payload.byteLength === 0) {
    void transport.end({ notifyPeer: false, unsubscribe: true });
    return;
  }
  for (const rpc of inbound.decode(message, `client '${mcpClientId}'`, transport)) {
    if (methodOf(rpc) === 'notifications/disconnected') {
      // The client de-initialized (RPC topic) or went away (presence, possibly its will).
      void transport.end({ notifyPeer: false, unsubscribe: true });
      return;
    }
    if (kind === 'client-presence') {
      inbound.report(
        inbound.problem(`unexpected ${methodOf(rpc) ?? 'response'} on the client presence topic`, {
          topic: message.topic,
        }),
        transport,
      );
      continue;
    }
    transport.receive(rpc, messageAuthInfo(transport, verified.sender));
  }
}

/**
 * The caller identity a message carries: the session's, unless a trusted broker stamped a different
 * principal or roles on this very message (then the message's own stamp is what the handler sees).
 */
function messageAuthInfo(
  transport: McpMqttServerSessionTransport,
  sender: StampedSender | undefined,
): MessageExtraInfo | undefined {
  if (sender === undefined || sameCaller(transport.caller, sender)) return undefined;
  return { authInfo: callerAuthInfo(brokerCaller(transport.mcpClientId, sender)) };
}
