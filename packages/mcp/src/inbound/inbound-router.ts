import { MqttAgentsError, printable } from '@mqtt-agents/core';
import type { Logger, MqttMessage } from '@mqtt-agents/core';
import type { JSONRPCMessage } from '../json-rpc-types.js';
import { spoofedSender } from '../mcp-mqtt-link.js';
import { decodeMcpPayload } from './inbound-messages.js';

/** A session as the inbound stages see it: something that hears about problems with its traffic. */
export interface InboundSession {
  report(error: Error): void;
}

export interface InboundRouterOptions {
  /** Who sends on the routed topics: the server host hears clients, a client connection hears servers. */
  peerKind: 'client' | 'server';
  /** Largest payload decoded, in bytes. */
  maxInboundBytes: number;
  logger: Logger;
  /** The host's report: logged, to `onerror` and the `error` event, and to the session when one is named. */
  report(error: MqttAgentsError, session?: InboundSession): void;
}

/** Where a message on a session topic came from, once the host resolved its topic. */
export interface InboundLane<S extends InboundSession> {
  /** The peer's MQTT client id, as the topic names it (mcp-client-id or server-id). */
  peerId: string;
  /** How reports name the peer when no session is there (`server 'id' (name)`, `client 'id'`). */
  peerLabel: string;
  /** The session the topic belongs to, when there is one. */
  session: S | undefined;
  /** A session with this peer ended lately: late messages are expected, not suspicious. */
  recentlyEnded: boolean;
}

/**
 * The inbound stages both hosts run on a session topic, in order: retained replays refused
 * (`droppedRetained`), messages for no session dropped (`withoutSession`), spoofed senders dropped
 * (`spoofed`), the payload decoded into single JSON-RPC messages with every problem reported (`decode`).
 * Each stage reports in the same words on both sides; the host routes what is left to its session.
 */
export class InboundRouter {
  private readonly options: InboundRouterOptions;

  constructor(options: InboundRouterOptions) {
    this.options = options;
  }

  get logger(): Logger {
    return this.options.logger;
  }

  /** A `PROTOCOL_ERROR` about inbound traffic. */
  problem(message: string, details: Record<string, unknown>): MqttAgentsError {
    return new MqttAgentsError('PROTOCOL_ERROR', message, { details });
  }

  report(error: MqttAgentsError, session?: InboundSession): void {
    this.options.report(error, session);
  }

  /**
   * Requests, replies and `initialize` are never retained (only presence and capability messages may be):
   * a retained one is a replay the broker hands every new subscriber, so it is reported and dropped.
   */
  droppedRetained(message: MqttMessage, session?: InboundSession): boolean {
    if (!message.retain) return false;
    this.report(
      this.problem(
        `ignored a retained message on '${printable(message.topic)}': mcp requests and replies are never retained`,
        { topic: message.topic },
      ),
      session,
    );
    return true;
  }

  /** No session for the lane: a late message after a session ended is logged, anything else reported. */
  withoutSession(message: MqttMessage, lane: InboundLane<InboundSession>): void {
    if (lane.recentlyEnded) {
      this.logger.debug(`dropped a late message from ${lane.peerLabel} after its session ended`);
      return;
    }
    this.report(
      this.problem(`dropped a message for a session that does not exist: ${lane.peerLabel}`, {
        topic: message.topic,
        [this.idKey()]: lane.peerId,
      }),
    );
  }

  /**
   * Spoofing check: when a message names its sender in `MCP-MQTT-CLIENT-ID`, it must be the id the topic
   * says (messages without the property pass: some peers omit it). True when the message was dropped.
   */
  spoofed(message: MqttMessage, expectedId: string, session?: InboundSession): boolean {
    const claimed = spoofedSender(message, expectedId);
    if (claimed === undefined) return false;
    this.report(
      this.problem(
        `dropped a message on '${message.topic}': MCP-MQTT-CLIENT-ID '${claimed}' does not match ${this.options.peerKind} '${expectedId}'`,
        { topic: message.topic, claimed, [this.idKey()]: expectedId },
      ),
      session,
    );
    return true;
  }

  /**
   * Decode the payload with core's canonical decoder; problems and batches are reported, naming the
   * `sender` (`client 'id'`, `server 'id'`, `a client on the control topic`).
   */
  decode(message: MqttMessage, sender: string, session?: InboundSession): JSONRPCMessage[] {
    const decoded = decodeMcpPayload(message.payload, this.options.maxInboundBytes);
    const peer = sender;
    for (const problem of decoded.problems) {
      this.report(
        this.problem(`dropped a message from ${peer}: ${problem}`, { topic: message.topic }),
        session,
      );
    }
    if (decoded.batch) {
      this.report(
        this.problem(`${peer} sent a json-rpc batch: split into ${decoded.messages.length} messages`, {
          topic: message.topic,
        }),
        session,
      );
    }
    return decoded.messages;
  }

  private idKey(): 'mcpClientId' | 'serverId' {
    return this.options.peerKind === 'client' ? 'mcpClientId' : 'serverId';
  }
}
