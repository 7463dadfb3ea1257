// The shape every security profile takes: a symmetric codec. The requester seals each request it publishes
// and opens each reply; the responder opens each request and seals each reply. Profiles compose around the
// transport (requester) and the responder pipeline, the way `@a2a-js/sdk` wraps a `Transport` in a decorator.
import type { MqttMessage, MqttPublishProperties } from '@mqtt-agents/core';
import type { AgentCard } from '@a2a-js/sdk';
import type { AgentAddress } from '../agent-address.js';
import type { PoolAddress } from '../task-routes.js';

/** The properties of a request a codec may change (the request/reply engine sets the rest). */
export type RequestProperties = Omit<MqttPublishProperties, 'responseTopic' | 'correlationData'>;

/** One attempt's request, as the requester is about to publish it. */
export interface OutgoingRequest {
  readonly payload: string;
  readonly properties: RequestProperties;
}

/** Who one attempt goes to, for the codecs that bind a request to its recipient. */
export interface AttemptTarget {
  /** The agent or pool the transport talks to. */
  readonly target: AgentAddress | PoolAddress;
  /** `agent 'x'` or `pool 'y'`, for messages. */
  readonly name: string;
  /** The concrete agent this attempt goes to; undefined for a pool. */
  readonly recipient: AgentAddress | undefined;
  /** The recipient's card, when the transport was created from it. */
  readonly card: AgentCard | undefined;
  /** 1 for the first attempt of an operation. */
  readonly attempt: number;
  readonly signal: AbortSignal | undefined;
}

/** The requester half of a profile. */
export interface RequestSealer {
  sealRequest(request: OutgoingRequest, target: AttemptTarget): Promise<OutgoingRequest>;
}

/**
 * A reply after its profile looked at it: `opened` with the plaintext JSON (parsed by the caller),
 * `plaintext` when it is not protected (the caller decides whether that reply may pass), or `rejected`.
 */
export type OpenedReply =
  { kind: 'opened'; payload: Uint8Array } | { kind: 'plaintext' } | { kind: 'rejected'; reason: string };

/** The requester's reply half of a profile that protects replies. */
export interface ReplyOpener {
  /** True when replies must be opened before anything can read them (the stream's end is decided later). */
  readonly protectsReplies: boolean;
  openReply(reply: MqttMessage, correlationData: Uint8Array): Promise<OpenedReply>;
}

/** One reply after sealing: what is published. */
export interface SealedReply {
  readonly payload: string;
  readonly contentType: string;
  readonly userProperties: Record<string, string>;
}

/** The responder's reply half, chosen per request by the profile it came under. */
export interface ReplySealer {
  sealReply(
    payload: string,
    correlationData: Uint8Array | undefined,
    userProperties: Record<string, string>,
  ): Promise<SealedReply>;
}

/** A request after its profile opened it, or why it is refused (`transport_protocol_error`). */
export type OpenedRequest =
  { ok: true; message: MqttMessage; sealer: ReplySealer | undefined } | { ok: false; reason: string };

/** The responder's request half of a profile. */
export interface RequestOpener {
  openRequest(message: MqttMessage, replyTopic: string): Promise<OpenedRequest>;
}
