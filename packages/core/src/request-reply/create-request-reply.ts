// `createRequestReply`: validate the reply topic, start an engine and wait for its reply subscription.
import { MqttAgentsError } from '../errors.js';
import { startOrClose } from '../lifecycle.js';
import { Engine } from './engine.js';
import type { RequestReply, RequestReplyOptions } from './types.js';

function validateReplyTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic === '') {
    throw new MqttAgentsError('INVALID_TOPIC', 'the reply topic must be a non-empty string');
  }
  if (topic.includes('+') || topic.includes('#') || topic.startsWith('$share/')) {
    throw new MqttAgentsError(
      'INVALID_TOPIC',
      `invalid reply topic '${topic}': it must be a topic name, not a filter`,
      {
        details: { topic },
      },
    );
  }
}

/**
 * Start correlated request/reply on a connection: subscribes to `replyTopic` and waits for SUBACK, so the
 * subscription is in place before the first request.
 *
 * Correlation Data is 21 fresh random characters per request, sent as UTF-8 text; reply correlation is compared as
 * opaque bytes. Replies with missing or unknown correlation are logged and passed to `onUnmatched`.
 *
 * Connection loss: pending requests survive a transient drop while MQTT.js reconnects (their timeouts keep
 * running). New requests wait until the reply subscription is known to be back (the resumed session has it,
 * or the engine re-subscribes on a fresh session and waits for SUBACK). Replies the broker dropped while we
 * were away surface as `REQUEST_TIMEOUT`, which callers treat as retry-eligible, as the A2A profile's
 * retry rules expect. With `rejectOnDisconnect`, or when no reconnect will happen, every pending request
 * is rejected with `CONNECTION_CLOSED` at once; closing the engine or the connection does the same.
 */
export async function createRequestReply(options: RequestReplyOptions): Promise<RequestReply> {
  validateReplyTopic(options.replyTopic);
  if (options.connection.closed) {
    throw new MqttAgentsError('CLOSED', 'cannot start request/reply: the connection is closed');
  }
  return startOrClose(new Engine(options), (engine) => engine.start(options.signal));
}
