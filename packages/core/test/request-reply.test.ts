import mqtt from 'mqtt';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
// The core package has no devDependency on the broker package yet, so import its test helper by path.
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { connectMqtt, createRequestReply } from '../src/index.js';
import type {
  Logger,
  MqttConnection,
  MqttMessage,
  RequestReplyOptions,
  UnmatchedReplyReason,
} from '../src/index.js';

type Reply = (payload: string | Uint8Array, userProperties?: Record<string, string>) => Promise<void>;
type Behaviour = (request: IPublishPacket, reply: Reply) => void | Promise<void>;

interface HeldRequest {
  payload: string;
  reply: Reply;
}

let broker: TestBroker;
let responder: MqttClient;
let connection: MqttConnection;
let held: HeldRequest[] = [];
let heldWaiters: Array<() => void> = [];
let topicCounter = 0;

/** What the responder does, by the last level of the request topic `rr/svc/{behaviour}`. */
const behaviours: Record<string, Behaviour> = {
  echo: (request, reply) =>
    reply(request.payload as Uint8Array, {
      'echo-of': request.topic,
      'echo-version': String(request.properties?.userProperties?.['a2a-version'] ?? ''),
    }),
  double: (request, reply) => reply(String(Number(request.payload.toString()) * 2)),
  silent: () => {},
  hold: (request, reply) => {
    held.push({ payload: request.payload.toString(), reply });
    for (const waiter of heldWaiters.splice(0)) waiter();
  },
  stream: async (request, reply) => {
    const count = Number(request.payload.toString());
    for (let index = 1; index <= count; index++)
      await reply(index === count ? `item-${index}:final` : `item-${index}`);
  },
  stall: async (_request, reply) => {
    await reply('item-1');
    await reply('item-2');
  },
  'dup-stream': async (_request, reply) => {
    for (const item of ['a', 'a', 'b', 'b', 'c:final', 'c:final']) await reply(item);
  },
  'dup-reply': async (_request, reply) => {
    await reply('once');
    await reply('once');
  },
  'seq-stream': async (_request, reply) => {
    await reply('x', { seq: '1' });
    await reply('x retried', { seq: '1' });
    await reply('x', { seq: '2' });
    await reply('done:final', { seq: '3' });
  },
};

/** Resolves once the responder holds `count` requests. */
async function heldRequests(count: number): Promise<HeldRequest[]> {
  while (held.length < count) await new Promise<void>((resolve) => heldWaiters.push(resolve));
  return held;
}

function text(message: MqttMessage): string {
  return new TextDecoder().decode(message.payload);
}

function freshReplyTopic(): string {
  topicCounter += 1;
  return `rr/reply/${process.pid}/${topicCounter}`;
}

function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { lines, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** Collects unmatched replies and lets a test await the next one. */
function unmatchedRecorder(): {
  onUnmatched: NonNullable<RequestReplyOptions['onUnmatched']>;
  seen: Array<{ reason: UnmatchedReplyReason; payload: string }>;
  next(): Promise<{ reason: UnmatchedReplyReason; payload: string }>;
} {
  const seen: Array<{ reason: UnmatchedReplyReason; payload: string }> = [];
  const waiters: Array<(entry: { reason: UnmatchedReplyReason; payload: string }) => void> = [];
  let delivered = 0;
  return {
    seen,
    onUnmatched: (reply, reason) => {
      const entry = { reason, payload: text(reply) };
      seen.push(entry);
      const waiter = waiters.shift();
      if (waiter) {
        delivered++;
        waiter(entry);
      }
    },
    next: () =>
      new Promise((resolve) => {
        if (delivered < seen.length)
          resolve(seen[delivered++] as { reason: UnmatchedReplyReason; payload: string });
        else waiters.push(resolve);
      }),
  };
}

beforeAll(async () => {
  broker = await startTestBroker();
  responder = await mqtt.connectAsync(broker.url, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    clientId: `responder-${process.pid}`,
  });
  // A bare MQTT.js client: without TCP_NODELAY its replies wait on Nagle's algorithm.
  (responder.stream as unknown as { setNoDelay(noDelay: boolean): void }).setNoDelay(true);
  await responder.subscribeAsync('rr/svc/+', { qos: 1 });
  responder.on('message', (topic, _payload, packet) => {
    const behaviour = behaviours[topic.split('/')[2] ?? ''];
    const responseTopic = packet.properties?.responseTopic;
    const correlationData = packet.properties?.correlationData;
    if (!behaviour || !responseTopic) return;
    const reply: Reply = async (payload, userProperties) => {
      await responder.publishAsync(responseTopic, payload as string, {
        qos: 1,
        properties: {
          ...(correlationData ? { correlationData } : {}),
          ...(userProperties ? { userProperties } : {}),
        },
      });
    };
    void behaviour(packet, reply);
  });
  connection = await connectMqtt({ url: broker.url });
});

afterAll(async () => {
  await connection?.close();
  await responder?.endAsync();
  await broker?.close();
});

afterEach(() => {
  held = [];
  heldWaiters = [];
});

describe('request()', () => {
  it('sends Response Topic and Correlation Data and resolves with the correlated reply', async () => {
    const replyTopic = freshReplyTopic();
    await using engine = await createRequestReply({ connection, replyTopic });
    const onPublished = vi.fn();
    const reply = await engine.request('rr/svc/echo', new Uint8Array([0x00, 0xff, 0x7f]), {
      properties: { userProperties: { 'a2a-version': '1.0' } },
      onPublished,
    });
    expect(reply.topic).toBe(replyTopic);
    expect([...reply.payload]).toEqual([0x00, 0xff, 0x7f]);
    expect(reply.properties.userProperties).toEqual({ 'echo-of': 'rr/svc/echo', 'echo-version': '1.0' });
    // The responder echoed our Correlation Data: 21 random URL-safe characters as UTF-8 text.
    expect(new TextDecoder().decode(reply.properties.correlationData)).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(onPublished).toHaveBeenCalledWith({ reasonCode: 0, noMatchingSubscribers: false });
    expect(engine.pendingCount).toBe(0);
  });

  it('matches 200 concurrent requests to their own replies', async () => {
    await using engine = await createRequestReply({ connection, replyTopic: freshReplyTopic() });
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, index) => engine.request('rr/svc/double', String(index))),
    );
    expect(replies.map(text)).toEqual(Array.from({ length: 200 }, (_, index) => String(index * 2)));
    expect(engine.pendingCount).toBe(0);
  });

  it('rejects with REQUEST_TIMEOUT when nobody answers in time', async () => {
    await using engine = await createRequestReply({
      connection,
      replyTopic: freshReplyTopic(),
      timeoutMs: 100,
    });
    const started = Date.now();
    await expect(engine.request('rr/svc/silent', 'hello?')).rejects.toMatchObject({
      code: 'REQUEST_TIMEOUT',
      details: { topic: 'rr/svc/silent', timeoutMs: 100, phase: 'first-reply' },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(engine.pendingCount).toBe(0);
  });

  it('does not publish a request whose signal is already aborted', async () => {
    await using engine = await createRequestReply({ connection, replyTopic: freshReplyTopic() });
    const controller = new AbortController();
    controller.abort();
    await expect(
      engine.request('rr/svc/hold', 'never sent', { signal: controller.signal }),
    ).rejects.toMatchObject({
      code: 'ABORTED',
    });
    // A later request on the same connection arrives after anything sent before it.
    await engine.request('rr/svc/echo', 'after');
    expect(held).toEqual([]);
    expect(engine.pendingCount).toBe(0);
  });

  it('rejects with ABORTED while waiting, and reports the reply that comes afterwards as late', async () => {
    const unmatched = unmatchedRecorder();
    await using engine = await createRequestReply({
      connection,
      replyTopic: freshReplyTopic(),
      onUnmatched: unmatched.onUnmatched,
    });
    const controller = new AbortController();
    const pending = engine.request('rr/svc/hold', 'slow', { signal: controller.signal });
    await heldRequests(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    expect(engine.pendingCount).toBe(0);
    await held[0]?.reply('finally');
    expect(await unmatched.next()).toEqual({ reason: 'late-reply', payload: 'finally' });
  });

  it('resolves once when the reply is delivered twice, and calls the second copy late', async () => {
    const unmatched = unmatchedRecorder();
    await using engine = await createRequestReply({
      connection,
      replyTopic: freshReplyTopic(),
      onUnmatched: unmatched.onUnmatched,
    });
    expect(text(await engine.request('rr/svc/dup-reply', ''))).toBe('once');
    expect(await unmatched.next()).toEqual({ reason: 'late-reply', payload: 'once' });
  });
});

describe('stream()', () => {
  it('yields every reply in order and ends after the one isFinal accepts', async () => {
    await using engine = await createRequestReply({ connection, replyTopic: freshReplyTopic() });
    const items: string[] = [];
    for await (const reply of engine.stream('rr/svc/stream', '5', {
      isFinal: (r) => text(r).endsWith(':final'),
    })) {
      items.push(text(reply));
    }
    expect(items).toEqual(['item-1', 'item-2', 'item-3', 'item-4', 'item-5:final']);
    expect(engine.pendingCount).toBe(0);
  });

  it('fails with REQUEST_TIMEOUT (idle) when the stream stalls, after the replies it got', async () => {
    await using engine = await createRequestReply({ connection, replyTopic: freshReplyTopic() });
    const items: string[] = [];
    const error = await (async () => {
      for await (const reply of engine.stream('rr/svc/stall', '', {
        isFinal: () => false,
        idleTimeoutMs: 150,
      })) {
        items.push(text(reply));
      }
    })().catch((caught: unknown) => caught);
    expect(items).toEqual(['item-1', 'item-2']);
    expect(error).toMatchObject({ code: 'REQUEST_TIMEOUT', details: { phase: 'idle', timeoutMs: 150 } });
    expect(engine.pendingCount).toBe(0);
  });

  it('fails with REQUEST_TIMEOUT (first reply) when nothing comes at all', async () => {
    await using engine = await createRequestReply({ connection, replyTopic: freshReplyTopic() });
    const stream = engine.stream('rr/svc/silent', '', {
      isFinal: () => true,
      timeoutMs: 100,
      idleTimeoutMs: 10_000,
    });
    await expect(stream.next()).rejects.toMatchObject({
      code: 'REQUEST_TIMEOUT',
      details: { phase: 'first-reply' },
    });
  });

  it('ends the request when the caller breaks out early', async () => {
    const unmatched = unmatchedRecorder();
    await using engine = await createRequestReply({
      connection,
      replyTopic: freshReplyTopic(),
      onUnmatched: unmatched.onUnmatched,
    });
    const stream = engine.stream('rr/svc/hold', '', { isFinal: () => false });
    await heldRequests(1);
    await held[0]?.reply('first');
    for await (const reply of stream) {
      expect(text(reply)).toBe('first');
      break;
    }
    expect(engine.pendingCount).toBe(0);
    await held[0]?.reply('second');
    expect(await unmatched.next()).toEqual({ reason: 'late-reply', payload: 'second' });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('drops duplicate deliveries: identical payloads by default, or by the caller key', async () => {
    await using engine = await createRequestReply({ connection, replyTopic: freshReplyTopic() });
    const isFinal = (reply: MqttMessage): boolean => text(reply).endsWith(':final');
    const collect = async (iterable: AsyncIterable<MqttMessage>): Promise<string[]> => {
      const items: string[] = [];
      for await (const reply of iterable) items.push(text(reply));
      return items;
    };
    expect(await collect(engine.stream('rr/svc/dup-stream', '', { isFinal }))).toEqual(['a', 'b', 'c:final']);
    expect(await collect(engine.stream('rr/svc/dup-stream', '', { isFinal, dedupKey: false }))).toEqual([
      'a',
      'a',
      'b',
      'b',
      'c:final',
    ]);
    const bySeq = (reply: MqttMessage): string | undefined => {
      const seq = reply.properties.userProperties?.seq;
      return typeof seq === 'string' ? seq : undefined;
    };
    expect(await collect(engine.stream('rr/svc/seq-stream', '', { isFinal, dedupKey: bySeq }))).toEqual([
      'x',
      'x',
      'done:final',
    ]);
  });
});

describe('replies that match nothing', () => {
  it('reports unknown and missing correlation through onUnmatched and the logger, and carries on', async () => {
    const replyTopic = freshReplyTopic();
    const logger = memoryLogger();
    const unmatched = unmatchedRecorder();
    await using engine = await createRequestReply({
      connection,
      replyTopic,
      logger,
      onUnmatched: unmatched.onUnmatched,
    });
    await responder.publishAsync(replyTopic, 'stranger', {
      qos: 1,
      properties: { correlationData: Buffer.from([0xfe, 0xed]) },
    });
    expect(await unmatched.next()).toEqual({ reason: 'unknown-correlation', payload: 'stranger' });
    await responder.publishAsync(replyTopic, 'anonymous', { qos: 1 });
    expect(await unmatched.next()).toEqual({ reason: 'missing-correlation', payload: 'anonymous' });
    expect(logger.lines.filter((line) => line.startsWith('warn'))).toHaveLength(2);
    expect(text(await engine.request('rr/svc/echo', 'still works'))).toBe('still works');
  });
});

describe('connection loss and close', () => {
  it('with rejectOnDisconnect, rejects every pending request when the link drops', async () => {
    await using own = await connectMqtt({ url: broker.url, reconnectPeriodMs: 20 });
    await using engine = await createRequestReply({
      connection: own,
      replyTopic: freshReplyTopic(),
      rejectOnDisconnect: true,
    });
    const pending = [1, 2, 3].map((index) => engine.request('rr/svc/hold', String(index)));
    const stream = engine.stream('rr/svc/hold', '4', { isFinal: () => true });
    await heldRequests(4);
    const outcomes = pending.map((request) =>
      expect(request).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' }),
    );
    own.client.stream.destroy();
    await Promise.all(outcomes);
    await expect(stream.next()).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(engine.pendingCount).toBe(0);
  });

  it('by default keeps pending requests across a reconnect, and answers them once the link is back', async () => {
    await using own = await connectMqtt({ url: broker.url, reconnectPeriodMs: 20 });
    await using engine = await createRequestReply({ connection: own, replyTopic: freshReplyTopic() });
    const first = engine.request('rr/svc/hold', 'before the drop');
    await heldRequests(1);
    const reopened = new Promise<void>((resolve) => own.on('connection-open', () => resolve()));
    own.client.stream.destroy();
    await reopened;
    // This request is published only once the reply subscription is back (fresh session: re-subscribed).
    expect(text(await engine.request('rr/svc/echo', 'after the drop'))).toBe('after the drop');
    await held[0]?.reply('answer to the first');
    expect(text(await first)).toBe('answer to the first');
  });

  it('rejects pending requests with CONNECTION_CLOSED when the connection closes', async () => {
    const own = await connectMqtt({ url: broker.url });
    const engine = await createRequestReply({ connection: own, replyTopic: freshReplyTopic() });
    const pending = [engine.request('rr/svc/hold', 'a'), engine.request('rr/svc/hold', 'b')];
    await heldRequests(2);
    const outcomes = pending.map((request) =>
      expect(request).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' }),
    );
    await own.close();
    await Promise.all(outcomes);
    await expect(engine.request('rr/svc/echo', 'x')).rejects.toMatchObject({ code: 'CLOSED' });
    await engine.close();
  });

  it('close() is idempotent, rejects what is pending and refuses new requests', async () => {
    const engine = await createRequestReply({ connection, replyTopic: freshReplyTopic() });
    const pending = engine.request('rr/svc/hold', 'x');
    await heldRequests(1);
    const outcome = expect(pending).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    const closing = engine.close();
    expect(engine.close()).toBe(closing);
    await closing;
    await engine[Symbol.asyncDispose]();
    await outcome;
    await expect(engine.request('rr/svc/echo', 'x')).rejects.toMatchObject({ code: 'CLOSED' });
    // The shared connection is untouched.
    expect(connection.connected).toBe(true);
  });
});
