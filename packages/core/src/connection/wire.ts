// The boundary between our bytes and MQTT.js's: Buffer views of `Uint8Array`s going out, `MqttMessage`s coming in.
import type { IPublishPacket } from 'mqtt';
import type { MqttMessage, MqttPublishProperties } from './types.js';

type BufferFrom = (buffer: ArrayBufferLike, byteOffset: number, length: number) => Uint8Array;

/**
 * MQTT.js and mqtt-packet are typed for Buffer and use Buffer methods on some paths: hand them a zero-copy
 * Buffer view of our bytes where Buffer exists (Node, browser bundles that polyfill it), without importing it.
 */
export function toWire<T>(value: T): T {
  if (!(value instanceof Uint8Array)) return value;
  const from = (globalThis as { Buffer?: { from: BufferFrom; isBuffer(value: unknown): boolean } }).Buffer;
  if (!from || from.isBuffer(value)) return value;
  return from.from(value.buffer, value.byteOffset, value.byteLength) as T;
}

/** The message our handlers see for one received PUBLISH. */
export function toMessage(packet: IPublishPacket, topic: string, payload: Uint8Array): MqttMessage {
  return {
    topic,
    payload,
    qos: packet.qos,
    retain: packet.retain,
    dup: packet.dup,
    properties: (packet.properties ?? {}) as MqttPublishProperties,
  };
}
