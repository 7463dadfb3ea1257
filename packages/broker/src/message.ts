import type { PublishProperties, PublishedMessage, QoS } from './types.js';

/** Bytes counted per message for the broker's own objects (message, queue entry, headers). */
export const MESSAGE_OVERHEAD_BYTES = 128;

/**
 * An application message inside the broker: created once per inbound PUBLISH (or will, or server
 * publish) and shared by every subscriber it is routed to. The encoded topic and properties are
 * computed on first use and reused for every copy sent.
 */
export class Message implements PublishedMessage {
  /** UTF-8 bytes of the topic, once encoded. */
  topicBytes: Buffer | undefined = undefined;
  /** MQTT 5 property bytes forwarded unchanged (everything but expiry and subscription ids), once encoded. */
  propertyBytes: Buffer | undefined = undefined;
  /** Last QoS 0 header without subscription identifiers, reused across subscribers. */
  cachedHeader: Buffer | undefined = undefined;
  cachedHeaderKey = -1;
  /** `byteSize()`, once computed. */
  private size = -1;

  constructor(
    readonly topic: string,
    readonly payload: Buffer,
    readonly qos: QoS,
    readonly retain: boolean,
    /** Properties as received (the forwarded ones; topic alias and subscription identifiers are per hop). */
    readonly properties: PublishProperties,
    /** Client id of the publisher (for No Local); undefined for server publishes. */
    readonly publisherId: string | undefined,
    /** Epoch milliseconds after which the message expires; 0 for never. */
    readonly expiresAt: number,
  ) {}

  /** A message received now: its expiry starts counting from `now`. */
  static received(
    topic: string,
    payload: Buffer,
    qos: QoS,
    retain: boolean,
    properties: PublishProperties,
    publisherId: string | undefined,
    now: number,
  ): Message {
    const expiry = properties.messageExpiryInterval;
    const expiresAt = expiry !== undefined && expiry > 0 ? now + expiry * 1000 : 0;
    return new Message(topic, payload, qos, retain, properties, publisherId, expiresAt);
  }

  /** Seconds left before expiry (at least 1 while not expired), 0 when expired, -1 when it never expires. */
  remainingExpiry(now: number): number {
    if (this.expiresAt === 0) return -1;
    const left = this.expiresAt - now;
    return left <= 0 ? 0 : Math.ceil(left / 1000);
  }

  /**
   * The bytes this message stands for in queue and retained-store limits: payload, topic and the
   * forwarded properties, plus a fixed allowance for the broker's bookkeeping, so that a flood of empty
   * messages counts too. An estimate (string lengths in UTF-16 code units), computed once.
   */
  byteSize(): number {
    if (this.size >= 0) return this.size;
    let size = MESSAGE_OVERHEAD_BYTES + this.payload.length + this.topic.length;
    const properties = this.properties;
    size += properties.contentType?.length ?? 0;
    size += properties.responseTopic?.length ?? 0;
    size += properties.correlationData?.length ?? 0;
    const user = properties.userProperties;
    if (user !== undefined) {
      for (const name in user) {
        const value = user[name] as string | string[];
        if (typeof value === 'string') size += name.length + value.length + 8;
        else for (const item of value) size += name.length + item.length + 8;
      }
    }
    this.size = size;
    return size;
  }

  isExpired(now: number): boolean {
    return this.expiresAt !== 0 && this.expiresAt <= now;
  }

  /** A copy to keep as the retained message: owns its payload (not a slice of a socket chunk). */
  toRetained(): Message {
    const payload = Buffer.allocUnsafe(this.payload.length);
    this.payload.copy(payload);
    return new Message(
      this.topic,
      payload,
      this.qos,
      true,
      this.properties,
      this.publisherId,
      this.expiresAt,
    );
  }
}
