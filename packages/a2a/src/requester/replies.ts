// Stage: read replies. A reply's JSON-RPC response (or error), decoded once with the reply size limit, and
// opened by the session's security codec first when replies are protected.
import { MqttAgentsError, classifyJsonRpc, decodeJson } from '@mqtt-agents/core';
import type { MqttMessage } from '@mqtt-agents/core';
import { isBinaryChunk } from '../binary-artifacts.js';
import { readBindingErrorKind } from '../binding-errors.js';
import type { JsonRpcErrorObject } from '../binding-errors.js';
import type { ReplyOpener } from '../security/codec.js';
import type { ExchangePlan } from './session.js';

export type ParsedReply =
  { kind: 'result'; result: unknown } | { kind: 'error'; error: JsonRpcErrorObject; id: unknown };

export class ReplyReader {
  readonly #parsed = new WeakMap<MqttMessage, ParsedReply>();
  readonly #maxReplyBytes: number;
  /** `agent 'x'` or `pool 'y'`, for messages. */
  readonly #name: () => string;

  constructor(maxReplyBytes: number, name: () => string) {
    this.#maxReplyBytes = maxReplyBytes;
    this.#name = name;
  }

  /** A plaintext reply, parsed once (the request/reply engine's `isFinal` already read most). */
  parse(reply: MqttMessage): ParsedReply {
    const cached = this.#parsed.get(reply);
    if (cached) return cached;
    const parsed = this.#parseUncached(reply);
    this.#parsed.set(reply, parsed);
    return parsed;
  }

  /** True when a plaintext reply ends the exchange (an error, a final result, or unreadable). */
  isFinalReply(reply: MqttMessage, plan: ExchangePlan): boolean {
    if (isBinaryChunk(reply)) return false;
    try {
      const parsed = this.parse(reply);
      return parsed.kind === 'error' || plan.isFinal(parsed.result);
    } catch {
      return true;
    }
  }

  /**
   * A reply to a protected request: it must be protected (a plaintext `transport_protocol_error` is the one
   * exception: the agent could not read the request's metadata) and pass the codec's checks.
   */
  async open(reply: MqttMessage, correlation: Uint8Array, opener: ReplyOpener): Promise<ParsedReply> {
    const fail = (reason: string): never => {
      throw new MqttAgentsError(
        'PROTOCOL_ERROR',
        `rejected a ubsp-v1 reply from ${this.#name()}: ${reason}`,
        {
          details: { topic: reply.topic },
        },
      );
    };
    const opened = await opener.openReply(reply, correlation);
    if (opened.kind === 'plaintext') {
      const parsed = this.parse(reply);
      if (parsed.kind === 'error' && readBindingErrorKind(parsed.error) === 'transport_protocol_error')
        return parsed;
      return fail('it is not protected (plaintext)');
    }
    if (opened.kind === 'rejected') return fail(opened.reason);
    return this.#parseUncached(reply, opened.payload);
  }

  #parseUncached(reply: MqttMessage, payload: Uint8Array = reply.payload): ParsedReply {
    const decoded = decodeJson(payload, { maxBytes: this.#maxReplyBytes });
    if (!decoded.ok) {
      throw new MqttAgentsError(
        'PROTOCOL_ERROR',
        `reply from ${this.#name()} is not json: ${decoded.error.message}`,
        { details: { topic: reply.topic } },
      );
    }
    const classified = classifyJsonRpc(decoded.value);
    if (classified.kind === 'response') return { kind: 'result', result: classified.message.result };
    if (classified.kind === 'error')
      return { kind: 'error', error: classified.message.error, id: classified.message.id };
    throw new MqttAgentsError('PROTOCOL_ERROR', `reply from ${this.#name()} is not a JSON-RPC response`, {
      details: { topic: reply.topic, kind: classified.kind },
    });
  }
}
