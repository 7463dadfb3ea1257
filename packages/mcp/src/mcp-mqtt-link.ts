import {
  McpUserProperty,
  MqttAgentsError,
  getUserProperty,
  publishPacketSize,
  utf8ByteLength,
} from '@mqtt-agents/core';
import type { Logger, McpComponentType, MqttConnection, MqttMessage, MqttQoS } from '@mqtt-agents/core';
import type { JSONRPCMessage } from './json-rpc-types.js';

export interface McpMqttLinkOptions {
  connection: MqttConnection;
  componentType: McpComponentType;
  qos: MqttQoS;
  logger: Logger;
  /** Milliseconds within which identical capability notifications are published once. */
  coalesceWindowMs: number;
}

/**
 * The MCP binding's view of one MQTT connection: every publish carries `MCP-COMPONENT-TYPE` and
 * `MCP-MQTT-CLIENT-ID` and is checked against the broker's Maximum Packet Size; identical capability
 * notifications are coalesced into one publish. Shared by every session on the connection.
 */
export class McpMqttLink {
  readonly connection: MqttConnection;
  readonly componentType: McpComponentType;
  readonly qos: MqttQoS;
  readonly logger: Logger;
  private readonly coalesceWindowMs: number;
  private readonly coalescing = new Map<string, Promise<void>>();

  constructor(options: McpMqttLinkOptions) {
    this.connection = options.connection;
    this.componentType = options.componentType;
    this.qos = options.qos;
    this.logger = options.logger;
    this.coalesceWindowMs = options.coalesceWindowMs;
  }

  /** The MQTT client id of this connection: the server-id or the mcp-client-id. */
  get clientId(): string {
    return this.connection.connack.clientId || this.connection.client.options.clientId || '';
  }

  get connected(): boolean {
    return this.connection.connected;
  }

  userProperties(): Record<string, string> {
    return {
      [McpUserProperty.ComponentType]: this.componentType,
      [McpUserProperty.MqttClientId]: this.clientId,
    };
  }

  /**
   * Throw `PAYLOAD_TOO_LARGE` when a publish of `payload` on `topic` would exceed the broker's Maximum
   * Packet Size (the broker would otherwise drop the whole connection).
   */
  assertFits(topic: string, payload: string): void {
    const limit = this.connection.connack.maximumPacketSize;
    if (limit === undefined) return;
    const size = publishPacketSize({
      topic,
      payloadBytes: utf8ByteLength(payload),
      qos: this.qos,
      userProperties: this.userProperties(),
    });
    if (size > limit) {
      throw new MqttAgentsError(
        'PAYLOAD_TOO_LARGE',
        `message of ${size} bytes exceeds the broker's maximum packet size of ${limit} bytes`,
        { details: { topic, size, limit } },
      );
    }
  }

  /** Publish a payload with the binding's user properties. `''` is an empty payload (presence only). */
  async publish(topic: string, payload: string, options: { retain?: boolean } = {}): Promise<void> {
    if (payload.length > 0) this.assertFits(topic, payload);
    await this.connection.publish(topic, payload, {
      qos: this.qos,
      retain: options.retain ?? false,
      properties: { userProperties: this.userProperties() },
    });
  }

  /** Publish one JSON-RPC message (never a batch, never empty). */
  publishMessage(topic: string, message: JSONRPCMessage): Promise<void> {
    return this.publish(topic, JSON.stringify(message));
  }

  /**
   * Publish a notification on a shared capability topic, once for all identical notifications sent
   * within the coalescing window (one server object per session sends the same list change N times).
   */
  async publishCoalesced(topic: string, message: JSONRPCMessage): Promise<void> {
    const payload = JSON.stringify(message);
    this.assertFits(topic, payload);
    const key = `${topic}\n${payload}`;
    const pending = this.coalescing.get(key);
    if (pending) return await pending;
    const publication = new Promise<void>((resolve) => setTimeout(resolve, this.coalesceWindowMs)).then(
      () => {
        this.coalescing.delete(key);
        return this.publish(topic, payload);
      },
    );
    this.coalescing.set(key, publication);
    return await publication;
  }

  subscribe(
    filters: readonly string[],
    options: { noLocal: boolean },
    signal?: AbortSignal,
  ): Promise<unknown> {
    return this.connection.subscribe(filters, { qos: this.qos, noLocal: options.noLocal }, signal);
  }

  /** Unsubscribe without waiting; failures (a closed connection) only reach the debug log. */
  unsubscribeQuietly(filters: readonly string[]): void {
    if (filters.length === 0 || this.connection.closed) return;
    this.connection.unsubscribe(filters).catch((error: unknown) => {
      this.logger.debug(`unsubscribe from ${filters.join(', ')} failed`, error);
    });
  }

  route(filter: string, handler: (message: MqttMessage) => void): () => void {
    return this.connection.addMessageHandler(filter, handler);
  }
}

/**
 * Spoofing check: when an inbound message names its sender in `MCP-MQTT-CLIENT-ID`, it must be the id the
 * topic says. Messages without the property are accepted (some servers omit it). Returns the claimed id
 * when it does not match, undefined when the message passes.
 */
export function spoofedSender(message: MqttMessage, expectedClientId: string): string | undefined {
  const claimed = getUserProperty(message.properties, McpUserProperty.MqttClientId);
  return claimed !== undefined && claimed !== expectedClientId ? claimed : undefined;
}
