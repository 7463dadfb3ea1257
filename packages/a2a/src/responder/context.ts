// The per-request context that flows through the responder's stages. Each stage gets one and hands the next
// stage a new, frozen one with what it learnt (`withContext`); nothing is mutated along the way.
import type { JsonRpcPayload, MqttMessage } from '@mqtt-agents/core';
import type { ArtifactMode } from '../binary-artifacts.js';
import type { JsonRpcErrorObject } from '../binding-errors.js';
import type { BrokerSender } from '../caller-identity.js';
import type { ReplySealer } from '../security/codec.js';
import type { Slot } from './admission.js';
import type { PreparedSend } from './dedup.js';

/** Where the replies of one request go. */
export interface ReplyTarget {
  readonly topic: string;
  /** Echoed unchanged; `undefined` only for the error reply to a request that had none. */
  readonly correlationData: Uint8Array | undefined;
  /** The request came through a pool: every reply names this agent in `a2a-responder-agent-id`. */
  readonly pooled: boolean;
}

/** What the reply writer needs to know about the request it answers. */
export interface ReplyContext {
  readonly reply: ReplyTarget;
  /** The task the request is about, once known: replies carry its handover, if any. */
  readonly taskId?: string;
  /** The artifact mode chosen for a request that asked for one (`a2a-artifact-mode` on every reply). */
  readonly artifactMode?: ArtifactMode;
  /** The security profile the request came under: replies are sealed by it (`ubsp-v1`). */
  readonly sealer?: ReplySealer;
}

/** One request on its way through the stages (envelope → dedup → admission → open → decode → dispatch). */
export interface RequestContext extends ReplyContext {
  /** The request as the stages see it: after the open stage, with its plaintext payload. */
  readonly message: MqttMessage;
  readonly receivedAt: number;
  /** The identity the duplicate window charges (see `requesterKey`). */
  readonly requester: string;
  /** The broker-stamped sender, when trusted. */
  readonly sender: BrokerSender | undefined;
  /** The plaintext payload, decoded once (before admission, or after the open stage). */
  readonly decoded: JsonRpcPayload | undefined;
  /** The send this request was matched to in the duplicate window. */
  readonly send: PreparedSend | undefined;
  /** The admission slot the request holds (released at its final reply). */
  readonly slot: Slot;
}

/** The next stage's context: `context` with `changes`, frozen. */
export function withContext<T extends object>(context: T, changes: Partial<T>): T {
  return Object.freeze({ ...context, ...changes });
}

/** A request refused with this JSON-RPC error; thrown by the stages, answered by the pipeline. */
export class ProtocolFailure {
  readonly error: JsonRpcErrorObject;
  constructor(error: JsonRpcErrorObject) {
    this.error = error;
  }
}
