import type { JSONRPCMessage, MessageExtraInfo } from '../json-rpc-types.js';
import { isNotification, isResponse } from '../inbound/inbound-messages.js';

function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Delivers inbound messages in order, one at a time. The SDK handles a notification a few microtasks after
 * it receives it but a response at once, and drops a request's progress handler with its response: when a
 * progress notification and the response arrive in the same network read (common over MQTT, and MQTT.js
 * may hand them over with `process.nextTick` in between, before any promise job runs), the last progress
 * would be lost. So a response that arrives while a notification delivered in the same macrotask may still
 * be pending in the SDK waits one macrotask. Everything else is delivered at once. Each message keeps the
 * `MessageExtraInfo` (the caller's identity) it was pushed with.
 */
export class InboundSequencer {
  private readonly inbox: Array<{ message: JSONRPCMessage; extra: MessageExtraInfo | undefined }> = [];
  private draining = false;
  private notificationInFlight = false;
  private readonly deliver: (message: JSONRPCMessage, extra: MessageExtraInfo | undefined) => void;

  constructor(deliver: (message: JSONRPCMessage, extra: MessageExtraInfo | undefined) => void) {
    this.deliver = deliver;
  }

  push(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    this.inbox.push({ message, extra });
    if (!this.draining) void this.drain();
  }

  clear(): void {
    this.inbox.length = 0;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let item = this.inbox.shift(); item !== undefined; item = this.inbox.shift()) {
        const { message, extra } = item;
        if (this.notificationInFlight && isResponse(message)) await nextMacrotask();
        this.deliver(message, extra);
        if (isNotification(message) && !this.notificationInFlight) {
          this.notificationInFlight = true;
          setTimeout(() => (this.notificationInFlight = false), 0);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
