import { printable } from '@mqtt-agents/core';
import type { MqttMessage } from '@mqtt-agents/core';
import { stampedSender } from './caller-identity.js';
import type { StampedSender } from './caller-identity.js';

export type SenderVerdict = { ok: true; sender: StampedSender | undefined } | { ok: false; problem: string };

/**
 * With `trustBrokerIdentity`: the broker-stamped sender of a message for client `mcpClientId`, or the
 * reason to drop it (no stamp, or another client's). Undefined sender when the host does not trust stamps.
 */
export function verifySender(
  message: MqttMessage,
  mcpClientId: string,
  options: { trustBrokerIdentity: boolean; allowUnstamped: boolean },
): SenderVerdict {
  if (!options.trustBrokerIdentity) return { ok: true, sender: undefined };
  const sender = stampedSender(message);
  if (sender === undefined) {
    return options.allowUnstamped
      ? { ok: true, sender: undefined }
      : {
          ok: false,
          problem: `no broker-stamped sender on '${printable(message.topic)}' (trustBrokerIdentity is on): dropped`,
        };
  }
  if (sender.clientId !== mcpClientId) {
    return {
      ok: false,
      problem: `mqtt client '${printable(sender.clientId)}' sent a message for client '${printable(mcpClientId)}' on '${printable(message.topic)}': dropped`,
    };
  }
  return { ok: true, sender };
}
