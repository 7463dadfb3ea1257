// Recognising duplicate replies of one request (QoS 1 redelivery): by caller key or by identical payload.
import type { MqttMessage } from '../connection/types.js';
import type { ReplyDedupKey } from './types.js';

const PAYLOAD_DEDUP_WINDOW = 64;

function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < bytes.length; index++) {
    hash ^= bytes[index] as number;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.byteLength !== right.byteLength) return false;
  for (let index = 0; index < left.byteLength; index++) if (left[index] !== right[index]) return false;
  return true;
}

/** Remembers the replies of one request and tells whether a new one is a duplicate. */
export class ReplyDeduplicator {
  readonly #key: ReplyDedupKey | undefined;
  readonly #keys = new Set<string>();
  readonly #recent: Array<{ hash: number; payload: Uint8Array }> = [];

  constructor(key?: ReplyDedupKey) {
    this.#key = key;
  }

  /** Records the reply and returns true when it was seen before. */
  isDuplicate(reply: MqttMessage): boolean {
    if (this.#key === false) return false;
    if (this.#key) {
      const key = this.#key(reply);
      if (key === undefined) return false;
      if (this.#keys.has(key)) return true;
      this.#keys.add(key);
      return false;
    }
    const hash = fnv1a(reply.payload);
    for (const entry of this.#recent) {
      if (entry.hash === hash && sameBytes(entry.payload, reply.payload)) return true;
    }
    this.#recent.push({ hash, payload: reply.payload });
    if (this.#recent.length > PAYLOAD_DEDUP_WINDOW) this.#recent.shift();
    return false;
  }
}
