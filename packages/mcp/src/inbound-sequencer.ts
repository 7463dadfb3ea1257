import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { isNotification, isResponse } from './inbound-messages.js';

/**
 * Delivers inbound messages in order, one at a time. The SDK handles notifications a microtask after it
 * receives them but responses at once, and forgets a request's progress handler with its response; when a
 * progress notification and the response arrive in the same network read (common over MQTT), the final
 * progress would be lost. A response that directly follows a notification is therefore delivered one
 * macrotask later, after the SDK has run the notification's handler. Everything else is delivered at once.
 */
export class InboundSequencer {
  private readonly inbox: JSONRPCMessage[] = [];
  private draining = false;
  private readonly deliver: (message: JSONRPCMessage) => void;

  constructor(deliver: (message: JSONRPCMessage) => void) {
    this.deliver = deliver;
  }

  push(message: JSONRPCMessage): void {
    this.inbox.push(message);
    if (!this.draining) void this.drain();
  }

  clear(): void {
    this.inbox.length = 0;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    let previousWasNotification = false;
    try {
      for (let message = this.inbox.shift(); message !== undefined; message = this.inbox.shift()) {
        if (previousWasNotification && isResponse(message)) {
          await new Promise<void>((resolve) => setTimeout(resolve, 0));
        }
        this.deliver(message);
        previousWasNotification = isNotification(message);
      }
    } finally {
      this.draining = false;
    }
  }
}
