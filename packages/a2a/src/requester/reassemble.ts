// Stage: reassemble. Binary artifact chunks become stream items again, stream items are decoded once, and
// the replies of one attempt get duplicate keys that tell QoS 1 redeliveries from distinct chunks.
import { StreamResponse } from '@a2a-js/sdk';
import { A2AUserProperty, getUserProperty } from '@mqtt-agents/core';
import type { MqttMessage } from '@mqtt-agents/core';
import { isBinaryChunk } from '../binary-artifacts.js';
import { payloadFingerprint } from '../payload-fingerprint.js';

/** A stream item rebuilt from binary chunks: already a typed StreamResponse, no JSON round trip. */
export class ReassembledItem {
  constructor(readonly response: StreamResponse) {}
}

/** Typed stream items already decoded from a reply's JSON result (each reply is read by `isFinal`, then used). */
const decodedItems = new WeakMap<object, StreamResponse>();

/** The typed stream item of one result (a reply's JSON result, or a reassembled item). */
export function streamResponseOf(result: unknown): StreamResponse {
  if (result instanceof ReassembledItem) return result.response;
  if (typeof result !== 'object' || result === null) return StreamResponse.fromJSON({});
  let decoded = decodedItems.get(result);
  if (decoded === undefined) {
    decoded = StreamResponse.fromJSON(result);
    decodedItems.set(result, decoded);
  }
  return decoded;
}

const FIRST_JSON_REPLY = 'json\nfirst';

/**
 * Duplicate keys (QoS 1 redelivery) for the replies of one attempt: chunk identity for binary chunks, whose
 * payloads may well be byte-identical (core's default would drop them), and a payload fingerprint otherwise.
 * Most requests get one JSON reply, so the first is only fingerprinted once a second one arrives; until then
 * the attempt holds on to that one payload.
 */
export function replyDedupKeys(): (reply: MqttMessage) => string {
  let firstPayload: Uint8Array | undefined;
  let firstFingerprint: string | undefined;
  return (reply) => {
    if (isBinaryChunk(reply)) {
      const get = (name: string) => getUserProperty(reply.properties, name) ?? '';
      return `chunk\n${get(A2AUserProperty.TaskId)}\n${get(A2AUserProperty.ArtifactId)}\n${get(A2AUserProperty.ChunkSeqno)}`;
    }
    if (firstPayload === undefined && firstFingerprint === undefined) {
      firstPayload = reply.payload;
      return FIRST_JSON_REPLY;
    }
    if (firstPayload !== undefined) {
      firstFingerprint = payloadFingerprint(firstPayload);
      firstPayload = undefined;
    }
    const print = payloadFingerprint(reply.payload);
    return print === firstFingerprint ? FIRST_JSON_REPLY : `json\n${print}`;
  };
}
