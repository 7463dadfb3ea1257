import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readConnackInfo } from '../connection/connack.js';
import type {
  ConnackInfo,
  MqttConnection,
  MqttConnectionEvents,
  MqttMessage,
  MqttMessageHandler,
  MqttPublishOptions,
  PublishResult,
  SubscriptionGrant,
} from '../connection/types.js';
import { MqttAgentsError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createRequestReply } from './create-request-reply.js';

const REPLY_TOPIC = 'test/reply/inbox';

interface Published {
  topic: string;
  payload: Uint8Array | string;
  options: MqttPublishOptions | undefined;
}

/** An in-memory MqttConnection: records publishes and subscribes, lets the test drive events and replies. */
class FakeConnection implements MqttConnection {
  readonly client = {} as MqttClient;
  connack: ConnackInfo = readConnackInfo({ cmd: 'connack', sessionPresent: false, reasonCode: 0 }, 'fake');
  connected = true;
  closed = false;
  readonly published: Published[] = [];
  readonly subscribed: string[] = [];
  readonly unsubscribed: string[] = [];
  publishResult: () => Promise<PublishResult> = async () => ({ reasonCode: 0, noMatchingSubscribers: false });
  subscribeResult: () => Promise<SubscriptionGrant[]> = async () => [{ filter: REPLY_TOPIC, reasonCode: 1 }];
  readonly #handlers = new Set<{ filter: string; handler: MqttMessageHandler }>();
  readonly #listeners = new Map<string, Set<(...args: never[]) => void>>();
  readonly #publishWaiters: Array<() => void> = [];

  publish(topic: string, payload: Uint8Array | string, options?: MqttPublishOptions): Promise<PublishResult> {
    this.published.push({ topic, payload, options });
    for (const waiter of this.#publishWaiters.splice(0)) waiter();
    return this.publishResult();
  }

  subscribe(filters: string | readonly string[]): Promise<SubscriptionGrant[]> {
    this.subscribed.push(...(typeof filters === 'string' ? [filters] : filters));
    return this.subscribeResult();
  }

  async unsubscribe(filters: string | readonly string[]): Promise<void> {
    this.unsubscribed.push(...(typeof filters === 'string' ? [filters] : filters));
  }

  addMessageHandler(filter: string, handler: MqttMessageHandler): () => void {
    const entry = { filter, handler };
    this.#handlers.add(entry);
    return () => this.#handlers.delete(entry);
  }

  on<E extends keyof MqttConnectionEvents>(event: E, listener: MqttConnectionEvents[E]): () => void {
    const set = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, set);
    set.add(listener as (...args: never[]) => void);
    return () => set.delete(listener as (...args: never[]) => void);
  }

  emit<E extends keyof MqttConnectionEvents>(event: E, ...args: Parameters<MqttConnectionEvents[E]>): void {
    for (const listener of this.#listeners.get(event) ?? [])
      (listener as (...values: unknown[]) => void)(...args);
  }

  /** Deliver a reply to handlers whose filter is exactly its topic (enough for these tests). */
  reply(payload: string, correlationData: Uint8Array | undefined, topic = REPLY_TOPIC): void {
    const message: MqttMessage = {
      topic,
      payload: new TextEncoder().encode(payload),
      qos: 1,
      retain: false,
      dup: false,
      properties: correlationData ? { correlationData } : {},
    };
    for (const entry of this.#handlers) if (entry.filter === topic) void entry.handler(message);
  }

  /** Resolves once `count` publishes have happened. */
  async publishes(count: number): Promise<Published[]> {
    while (this.published.length < count)
      await new Promise<void>((resolve) => this.#publishWaiters.push(resolve));
    return this.published;
  }

  get handlerCount(): number {
    return this.#handlers.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.emit('connection-close');
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { lines, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

function correlationOf(published: Published): Uint8Array {
  const correlation = published.options?.properties?.correlationData;
  if (!correlation) throw new Error('request without correlation data');
  return correlation;
}

function text(message: MqttMessage): string {
  return new TextDecoder().decode(message.payload);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createRequestReply (in-memory connection)', () => {
  it('subscribes to the reply topic before it returns, and refuses wildcard reply topics', async () => {
    const connection = new FakeConnection();
    await using engine = await createRequestReply({ connection, replyTopic: REPLY_TOPIC });
    expect(connection.subscribed).toEqual([REPLY_TOPIC]);
    expect(engine.replyTopic).toBe(REPLY_TOPIC);
    await expect(createRequestReply({ connection, replyTopic: 'test/+/reply' })).rejects.toMatchObject({
      code: 'INVALID_TOPIC',
    });
  });

  it('fails and cleans up when the reply subscription is refused', async () => {
    const connection = new FakeConnection();
    connection.subscribeResult = async () => {
      throw new MqttAgentsError('SUBSCRIBE_FAILED', 'refused');
    };
    await expect(createRequestReply({ connection, replyTopic: REPLY_TOPIC })).rejects.toMatchObject({
      code: 'SUBSCRIBE_FAILED',
    });
    expect(connection.handlerCount).toBe(0);
  });

  it('publishes with Response Topic, UTF-8 Correlation Data and the caller properties', async () => {
    const connection = new FakeConnection();
    await using engine = await createRequestReply({ connection, replyTopic: REPLY_TOPIC });
    const pending = engine.request('svc/request', 'ping', {
      qos: 0,
      properties: { userProperties: { 'a2a-version': '1.0' }, contentType: 'application/json' },
    });
    const [sent] = await connection.publishes(1);
    expect(sent?.topic).toBe('svc/request');
    expect(sent?.options?.qos).toBe(0);
    expect(sent?.options?.properties).toMatchObject({
      responseTopic: REPLY_TOPIC,
      contentType: 'application/json',
      userProperties: { 'a2a-version': '1.0' },
    });
    const correlation = correlationOf(sent as Published);
    expect(new TextDecoder().decode(correlation)).toMatch(/^[A-Za-z0-9_-]{21}$/);
    connection.reply('pong', correlation.slice());
    expect(text(await pending)).toBe('pong');
    expect(engine.pendingCount).toBe(0);
  });

  it('matches correlation data as opaque bytes, whatever their encoding', async () => {
    const connection = new FakeConnection();
    const onUnmatched = vi.fn();
    await using engine = await createRequestReply({ connection, replyTopic: REPLY_TOPIC, onUnmatched });
    connection.reply('binary', new Uint8Array([0xff, 0x00, 0xfe]));
    connection.reply('empty', new Uint8Array(0));
    expect(onUnmatched.mock.calls.map(([, reason]) => reason)).toEqual([
      'unknown-correlation',
      'missing-correlation',
    ]);
    expect(engine.pendingCount).toBe(0);
  });

  it('never lets a throwing onUnmatched or isFinal escape', async () => {
    const connection = new FakeConnection();
    const logger = memoryLogger();
    await using engine = await createRequestReply({
      connection,
      replyTopic: REPLY_TOPIC,
      logger,
      onUnmatched: () => {
        throw new Error('boom');
      },
    });
    expect(() => connection.reply('x', undefined)).not.toThrow();
    const replies = engine.stream('svc/request', 'go', {
      isFinal: (reply) => {
        if (text(reply) === 'bad') throw new Error('cannot parse');
        return text(reply) === 'end';
      },
    });
    const [sent] = await connection.publishes(1);
    const correlation = correlationOf(sent as Published);
    connection.reply('bad', correlation);
    connection.reply('end', correlation);
    const seen: string[] = [];
    for await (const reply of replies) seen.push(text(reply));
    expect(seen).toEqual(['bad', 'end']);
    expect(logger.lines.some((line) => line.startsWith('error onUnmatched threw'))).toBe(true);
    expect(logger.lines.some((line) => line.startsWith('error isFinal threw'))).toBe(true);
  });

  it('rejects with PUBLISH_FAILED when the request publish fails, and forgets the request', async () => {
    const connection = new FakeConnection();
    connection.publishResult = async () => {
      throw new MqttAgentsError('PUBLISH_FAILED', "publish to 'svc/request' failed: 0x87 (Not authorized)");
    };
    await using engine = await createRequestReply({ connection, replyTopic: REPLY_TOPIC });
    await expect(engine.request('svc/request', 'x')).rejects.toMatchObject({ code: 'PUBLISH_FAILED' });
    expect(engine.pendingCount).toBe(0);
  });

  it('hands the advisory PUBACK result to onPublished without failing on "no matching subscribers"', async () => {
    const connection = new FakeConnection();
    connection.publishResult = async () => ({ reasonCode: 0x10, noMatchingSubscribers: true });
    await using engine = await createRequestReply({ connection, replyTopic: REPLY_TOPIC });
    let pending!: Promise<MqttMessage>;
    const published = new Promise<PublishResult>((resolve) => {
      pending = engine.request('svc/request', 'x', { onPublished: resolve });
    });
    const [sent] = await connection.publishes(1);
    expect(await published).toEqual({ reasonCode: 0x10, noMatchingSubscribers: true });
    connection.reply('ok', correlationOf(sent as Published));
    expect(text(await pending)).toBe('ok');
  });

  it('times out a silent request and reports its late reply as late, not unknown', async () => {
    vi.useFakeTimers();
    const connection = new FakeConnection();
    const onUnmatched = vi.fn();
    await using engine = await createRequestReply({
      connection,
      replyTopic: REPLY_TOPIC,
      timeoutMs: 1_000,
      onUnmatched,
    });
    const pending = engine.request('svc/request', 'x');
    const outcome = expect(pending).rejects.toMatchObject({
      code: 'REQUEST_TIMEOUT',
      details: { phase: 'first-reply', timeoutMs: 1_000 },
    });
    const [sent] = await connection.publishes(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(engine.pendingCount).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await outcome;
    expect(engine.pendingCount).toBe(0);
    connection.reply('too late', correlationOf(sent as Published));
    expect(onUnmatched).toHaveBeenCalledWith(expect.anything(), 'late-reply');
  });

  it('yields the replies a stream already received before its idle timeout error', async () => {
    vi.useFakeTimers();
    const connection = new FakeConnection();
    await using engine = await createRequestReply({ connection, replyTopic: REPLY_TOPIC });
    const replies = engine.stream('svc/request', 'x', {
      isFinal: () => false,
      timeoutMs: 1_000,
      idleTimeoutMs: 300,
    });
    const [sent] = await connection.publishes(1);
    const correlation = correlationOf(sent as Published);
    await vi.advanceTimersByTimeAsync(900);
    connection.reply('one', correlation);
    // The first-reply timer is gone: only the idle timer runs now.
    await vi.advanceTimersByTimeAsync(250);
    connection.reply('two', correlation);
    await vi.advanceTimersByTimeAsync(300);
    expect(text((await replies.next()).value as MqttMessage)).toBe('one');
    expect(text((await replies.next()).value as MqttMessage)).toBe('two');
    await expect(replies.next()).rejects.toMatchObject({
      code: 'REQUEST_TIMEOUT',
      details: { phase: 'idle' },
    });
    expect(await replies.next()).toEqual({ value: undefined, done: true });
  });

  it('keeps pending requests across a drop with reconnect, and rejects them when none will follow', async () => {
    const connection = new FakeConnection();
    await using engine = await createRequestReply({ connection, replyTopic: REPLY_TOPIC });
    const survivor = engine.request('svc/request', 'a');
    const [first] = await connection.publishes(1);
    connection.emit('connection-drop', { willReconnect: true, error: undefined });
    connection.emit('connection-open', { ...connection.connack, sessionPresent: true });
    connection.reply('a', correlationOf(first as Published));
    expect(text(await survivor)).toBe('a');

    const doomed = engine.request('svc/request', 'b');
    await connection.publishes(2);
    connection.emit('connection-drop', { willReconnect: false, error: new Error('socket hang up') });
    await expect(doomed).rejects.toMatchObject({
      code: 'CONNECTION_CLOSED',
      details: { willReconnect: false },
    });
  });

  it('with rejectOnDisconnect, rejects every pending request as soon as the connection drops', async () => {
    const connection = new FakeConnection();
    await using engine = await createRequestReply({
      connection,
      replyTopic: REPLY_TOPIC,
      rejectOnDisconnect: true,
    });
    const outcomes = [engine.request('svc/request', '1'), engine.request('svc/request', '2')].map((request) =>
      expect(request).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' }),
    );
    const stream = engine.stream('svc/request', '3', { isFinal: () => true });
    await connection.publishes(3);
    connection.emit('connection-drop', { willReconnect: true, error: undefined });
    await Promise.all(outcomes);
    await expect(stream.next()).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(engine.pendingCount).toBe(0);
  });

  it('holds new requests after a drop until the reply subscription is back on a fresh session', async () => {
    const connection = new FakeConnection();
    await using engine = await createRequestReply({ connection, replyTopic: REPLY_TOPIC });
    connection.emit('connection-drop', { willReconnect: true, error: undefined });
    let releaseSubscribe!: () => void;
    connection.subscribeResult = () =>
      new Promise((resolve) => {
        releaseSubscribe = () => resolve([{ filter: REPLY_TOPIC, reasonCode: 1 }]);
      });
    const pending = engine.request('svc/request', 'x');
    await Promise.resolve();
    expect(connection.published).toHaveLength(0);
    connection.emit('connection-open', { ...connection.connack, sessionPresent: false });
    expect(connection.subscribed).toEqual([REPLY_TOPIC, REPLY_TOPIC]);
    await Promise.resolve();
    expect(connection.published).toHaveLength(0);
    releaseSubscribe();
    const [sent] = await connection.publishes(1);
    connection.reply('back', correlationOf(sent as Published));
    expect(text(await pending)).toBe('back');
  });

  it('fails waiting requests when the reply subscription cannot be restored', async () => {
    const connection = new FakeConnection();
    await using engine = await createRequestReply({
      connection,
      replyTopic: REPLY_TOPIC,
      logger: memoryLogger(),
    });
    connection.emit('connection-drop', { willReconnect: true, error: undefined });
    connection.subscribeResult = async () => {
      throw new MqttAgentsError(
        'SUBSCRIBE_FAILED',
        "subscribe to 'test/reply/inbox' refused: 0x87 (Not authorized)",
      );
    };
    const pending = engine.request('svc/request', 'x');
    connection.emit('connection-open', { ...connection.connack, sessionPresent: false });
    await expect(pending).rejects.toMatchObject({ code: 'SUBSCRIBE_FAILED' });
    expect(connection.published).toHaveLength(0);
  });

  it('closes with the connection: pending requests get CONNECTION_CLOSED, later ones CLOSED', async () => {
    const connection = new FakeConnection();
    const engine = await createRequestReply({ connection, replyTopic: REPLY_TOPIC });
    const pending = engine.request('svc/request', 'x');
    const outcome = expect(pending).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    await connection.publishes(1);
    await connection.close();
    await outcome;
    await expect(engine.request('svc/request', 'y')).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => engine.stream('svc/request', 'y', { isFinal: () => true })).toThrow(/closed/);
    expect(connection.handlerCount).toBe(0);
    // The connection is gone: the engine does not try to unsubscribe on it.
    await engine.close();
    expect(connection.unsubscribed).toEqual([]);
  });

  it('close() is idempotent and unsubscribes the reply topic once', async () => {
    const connection = new FakeConnection();
    const engine = await createRequestReply({ connection, replyTopic: REPLY_TOPIC });
    const outcome = expect(engine.request('svc/request', 'x')).rejects.toMatchObject({
      code: 'CONNECTION_CLOSED',
    });
    const first = engine.close();
    expect(engine.close()).toBe(first);
    await first;
    await engine[Symbol.asyncDispose]();
    await outcome;
    expect(connection.unsubscribed).toEqual([REPLY_TOPIC]);
  });
});
