import {
  McpUserProperty,
  MqttAgentsError,
  getUserProperty,
  isValidIdentifier,
  mcpRpcTopic,
  readPublishMetadata,
} from '@mqtt-agents/core';
import type { MqttMessage } from '@mqtt-agents/core';
import type { JSONRPCMessage } from '../json-rpc-types.js';
import { isRequest, methodOf } from '../inbound/inbound-messages.js';
import { brokerCaller, stampedSender, topicCaller } from './caller-identity.js';
import type { StampedSender } from './caller-identity.js';
import type { ServerHostContext } from './host-context.js';
import { verifySender } from './sender-verification.js';
import type { SessionOpener } from './session-opener.js';

/**
 * The server's control topic: only `initialize` belongs here. Each one passes the shared inbound stages
 * (retained replays refused, payload decoded), the broker-stamped sender check, and then opens a session;
 * initializes of one client open one after the other. Anything else is reported, and a request answered
 * with an error on the client's RPC topic.
 */
export class ControlTopic {
  private readonly context: ServerHostContext;
  private readonly opener: SessionOpener;
  private readonly opening = new Map<string, Promise<void>>();

  constructor(context: ServerHostContext, opener: SessionOpener) {
    this.context = context;
    this.opener = opener;
  }

  onMessage(message: MqttMessage): void {
    const { context } = this;
    const { inbound } = context;
    if (context.isClosed() || inbound.droppedRetained(message)) return;
    let mcpClientId = getUserProperty(message.properties, McpUserProperty.MqttClientId);
    let sender: StampedSender | undefined;
    if (context.trustBrokerIdentity) {
      // A stamping broker names the sender; a message without MCP-MQTT-CLIENT-ID is the stamped client's.
      sender = stampedSender(message);
      mcpClientId ??= sender?.clientId;
    }
    for (const rpc of inbound.decode(message, 'a client on the control topic')) {
      if (context.trustBrokerIdentity && mcpClientId !== undefined) {
        const verified = verifySender(message, mcpClientId, {
          trustBrokerIdentity: true,
          allowUnstamped: false,
        });
        if (!verified.ok) {
          // Never answered: the answer would go to the client the sender claims to be, who did not ask.
          inbound.report(
            inbound.problem(
              `refused ${methodOf(rpc) ?? 'a response'} on the control topic: ${verified.problem}`,
              {
                topic: message.topic,
                mcpClientId,
                sender: sender?.clientId,
              },
            ),
          );
          continue;
        }
      }
      if (!isRequest(rpc) || rpc.method !== 'initialize') {
        this.reject(rpc, mcpClientId);
        continue;
      }
      if (mcpClientId === undefined || !isValidIdentifier('mcp-client-id', mcpClientId)) {
        inbound.report(
          inbound.problem(
            mcpClientId === undefined
              ? 'initialize without an MCP-MQTT-CLIENT-ID user property: cannot answer it'
              : `initialize from an invalid mcp-client-id ${JSON.stringify(mcpClientId)}`,
            { topic: message.topic },
          ),
        );
        continue;
      }
      const userProperties = readPublishMetadata({
        topic: message.topic,
        qos: message.qos,
        retain: message.retain,
        properties: message.properties,
      }).userProperties;
      const caller = sender !== undefined ? brokerCaller(mcpClientId, sender) : topicCaller(mcpClientId);
      this.enqueue(mcpClientId, () => this.opener.open(mcpClientId as string, rpc, userProperties, caller));
    }
  }

  /** Initializes of one client open in order; a failure is reported and the next one still runs. */
  private enqueue(mcpClientId: string, open: () => Promise<void>): void {
    const previous = this.opening.get(mcpClientId) ?? Promise.resolve();
    const next = previous
      .then(open)
      .catch((error: unknown) =>
        this.context.inbound.report(
          new MqttAgentsError('PROTOCOL_ERROR', `session with client '${mcpClientId}' failed to open`, {
            cause: error,
          }),
        ),
      )
      .finally(() => {
        if (this.opening.get(mcpClientId) === next) this.opening.delete(mcpClientId);
      });
    this.opening.set(mcpClientId, next);
  }

  /** Anything but `initialize` on the control topic: reported, and a request is answered with an error. */
  private reject(rpc: JSONRPCMessage, mcpClientId: string | undefined): void {
    const { context } = this;
    const method = methodOf(rpc) ?? 'a response';
    const known = mcpClientId !== undefined && context.registry.has(mcpClientId);
    context.inbound.report(
      context.inbound.problem(
        known
          ? `client '${mcpClientId}' sent ${method} on the control topic instead of its rpc topic`
          : `${method} from ${mcpClientId === undefined ? 'an unnamed client' : `client '${mcpClientId}'`} without a session: send initialize first`,
        { method, mcpClientId },
      ),
    );
    if (!isRequest(rpc) || mcpClientId === undefined || !isValidIdentifier('mcp-client-id', mcpClientId))
      return;
    const topic = mcpRpcTopic({ mcpClientId, serverId: context.serverId, serverName: context.serverName });
    context.link
      .publishMessage(topic, {
        jsonrpc: '2.0',
        id: rpc.id,
        error: { code: -32600, message: 'no session: send initialize on the control topic first' },
      })
      .catch((error: unknown) =>
        context.logger.debug('could not answer a request on the control topic', error),
      );
  }
}
