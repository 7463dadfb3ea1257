// Shared fixtures of the broker-backed A2A suites: real @a2a-js/sdk executors, a raw MQTT 5 client for
// hand-made (and malformed) traffic, and small waiting helpers. No sleeps: everything waits for an event.
import { Role, TaskState } from '@a2a-js/sdk';
import type { Message, Part, Task, TaskArtifactUpdateEvent, TaskStatusUpdateEvent } from '@a2a-js/sdk';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import type { Logger } from '@mqtt-agents/core';
import { testBrokerKind } from '@mqtt-agents/broker/vitest';
import type { TestBrokerKind } from '@mqtt-agents/broker/vitest';
import mqtt from 'mqtt';
import type { IClientPublishOptions, IPublishPacket, MqttClient } from 'mqtt';
import { it } from 'vitest';

/** The broker of this test lane. */
export const brokerKind: TestBrokerKind = testBrokerKind();

/**
 * `it`, but expected to fail on the given lane: a documented limitation of that broker (see the broker
 * compatibility table in docs/a2a-conformance.md). If the broker ever gets it right, the test turns red and
 * the mark has to go.
 */
export function itFailsOn(lane: TestBrokerKind): typeof it {
  return (brokerKind === lane ? it.fails : it) as typeof it;
}

let counter = 0;
/** An identifier no other test (or test file running in parallel) uses. */
export function uniqueId(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export function textPart(text: string): Part {
  return {
    content: { $case: 'text', value: text },
    mediaType: 'text/plain',
    filename: '',
    metadata: undefined,
  };
}

export function textOf(message: Message | undefined): string {
  return (message?.parts ?? [])
    .map((part) => (part.content?.$case === 'text' ? part.content.value : ''))
    .join('');
}

export function userMessage(
  text: string,
  ids: { taskId?: string; contextId?: string; messageId?: string } = {},
): Message {
  return {
    messageId: ids.messageId ?? globalThis.crypto.randomUUID(),
    contextId: ids.contextId ?? '',
    taskId: ids.taskId ?? '',
    role: Role.ROLE_USER,
    parts: [textPart(text)],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

export function agentMessage(text: string, taskId: string, contextId: string): Message {
  return {
    messageId: globalThis.crypto.randomUUID(),
    contextId,
    taskId,
    role: Role.ROLE_AGENT,
    parts: [textPart(text)],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

export function newTask(context: RequestContext, state = TaskState.TASK_STATE_SUBMITTED): Task {
  return {
    id: context.taskId,
    contextId: context.contextId,
    status: { state, message: undefined, timestamp: new Date().toISOString() },
    artifacts: [],
    history: [context.userMessage],
    metadata: undefined,
  };
}

export function statusUpdate(
  context: RequestContext,
  state: TaskState,
  text?: string,
): TaskStatusUpdateEvent {
  return {
    taskId: context.taskId,
    contextId: context.contextId,
    status: {
      state,
      message: text === undefined ? undefined : agentMessage(text, context.taskId, context.contextId),
      timestamp: new Date().toISOString(),
    },
    metadata: undefined,
  };
}

export function artifactUpdate(
  context: RequestContext,
  text: string,
  artifactId = 'result',
): TaskArtifactUpdateEvent {
  return {
    taskId: context.taskId,
    contextId: context.contextId,
    artifact: {
      artifactId,
      name: artifactId,
      description: '',
      parts: [textPart(text)],
      metadata: undefined,
      extensions: [],
    },
    append: false,
    lastChunk: true,
    metadata: undefined,
  };
}

/** A one-shot gate a test opens when it wants an executor to go on. */
export class Gate {
  readonly promise: Promise<void>;
  #open!: () => void;
  constructor() {
    this.promise = new Promise<void>((resolve) => (this.#open = resolve));
  }
  open(): void {
    this.#open();
  }
}

/** Resolves when `count` calls were recorded. */
export class Counter {
  value = 0;
  readonly #waiters: Array<{ count: number; resolve: () => void }> = [];
  increment(): void {
    this.value++;
    for (const waiter of [...this.#waiters]) {
      if (this.value >= waiter.count) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }
  reached(count: number): Promise<void> {
    if (this.value >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }
}

/**
 * The usual task lifecycle: task (submitted) -> working -> artifact "echo: <text>" -> completed.
 * `gate` holds it after `working`; `executions` counts calls.
 */
export class EchoExecutor implements AgentExecutor {
  readonly executions = new Counter();
  readonly contexts: RequestContext[] = [];
  constructor(readonly options: { gate?: Gate; prefix?: string } = {}) {}
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    this.contexts.push(context);
    this.executions.increment();
    bus.publish(AgentEvent.task(newTask(context)));
    bus.publish(AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_WORKING)));
    if (this.options.gate) await this.options.gate.promise;
    bus.publish(
      AgentEvent.artifactUpdate(
        artifactUpdate(context, `${this.options.prefix ?? 'echo'}: ${textOf(context.userMessage)}`),
      ),
    );
    bus.publish(AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_COMPLETED, 'done')));
    bus.finished();
  }
  async cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    const context = this.contexts.find((entry) => entry.taskId === taskId);
    if (!context) return;
    bus.publish(AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_CANCELED, 'canceled')));
    this.options.gate?.open();
  }
}

/** Answers with a bare Message (no task). */
export class MessageExecutor implements AgentExecutor {
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    bus.publish(
      AgentEvent.message(agentMessage(`hello ${textOf(context.userMessage)}`, '', context.contextId)),
    );
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

/** A silent logger that remembers what it was told. */
export function recordingLogger(): Logger & {
  lines: Array<{ level: string; message: string }>;
  waitFor(pattern: RegExp): Promise<void>;
} {
  const lines: Array<{ level: string; message: string }> = [];
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const write = (level: string) => (message: string) => {
    lines.push({ level, message });
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  return {
    lines,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    waitFor(pattern: RegExp): Promise<void> {
      if (lines.some((line) => pattern.test(line.message))) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}

export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
  json: unknown;
}

/** A plain MQTT.js 5 client for hand-made traffic, with a queue of everything it receives. */
export class RawClient {
  readonly received: ReceivedMessage[] = [];
  readonly #waiters: Array<{
    predicate: (message: ReceivedMessage) => boolean;
    resolve: (message: ReceivedMessage) => void;
  }> = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      let json: unknown;
      try {
        json = JSON.parse(payload.toString('utf8'));
      } catch {
        json = undefined;
      }
      const message = { topic, payload, packet, json };
      this.received.push(message);
      for (const waiter of [...this.#waiters]) {
        if (waiter.predicate(message)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
  }

  static async connect(url: string, clientId = uniqueId('raw')): Promise<RawClient> {
    const client = mqtt.connect(url, { protocolVersion: 5, clientId, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return new RawClient(client);
  }

  async subscribe(filter: string): Promise<void> {
    await this.client.subscribeAsync(filter, { qos: 1 });
  }

  async publish(topic: string, payload: string | Buffer, options: IClientPublishOptions = {}): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, ...options });
  }

  /** The first message (already received or future) that matches. */
  next(predicate: (message: ReceivedMessage) => boolean = () => true): Promise<ReceivedMessage> {
    const found = this.received.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.#waiters.push({ predicate, resolve }));
  }

  /** Messages received so far that match. */
  all(predicate: (message: ReceivedMessage) => boolean): ReceivedMessage[] {
    return this.received.filter(predicate);
  }

  /** The first `count` matching messages, once that many arrived. */
  async nextCount(
    predicate: (message: ReceivedMessage) => boolean,
    count: number,
  ): Promise<ReceivedMessage[]> {
    for (;;) {
      const found = this.all(predicate);
      if (found.length >= count) return found.slice(0, count);
      await this.next((message) => predicate(message) && !found.includes(message));
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** True when the message's Correlation Data equals `correlation`. */
export function hasCorrelation(correlation: Buffer): (message: ReceivedMessage) => boolean {
  return (message) => {
    const data = message.packet.properties?.correlationData;
    return data !== undefined && Buffer.compare(Buffer.from(data), correlation) === 0;
  };
}

/** Publish a hand-made request and return the correlation it used. */
export async function rawRequest(
  raw: RawClient,
  requestTopic: string,
  body: unknown,
  options: {
    responseTopic?: string;
    correlation?: Buffer;
    properties?: IClientPublishOptions['properties'];
  } = {},
): Promise<Buffer> {
  const correlation = options.correlation ?? Buffer.from(globalThis.crypto.randomUUID());
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  await raw.publish(requestTopic, payload, {
    properties: {
      ...(options.responseTopic === undefined ? {} : { responseTopic: options.responseTopic }),
      correlationData: correlation,
      ...options.properties,
    },
  });
  return correlation;
}

export function sendMessageBody(
  text: string,
  ids: { taskId?: string; contextId?: string; messageId?: string } = {},
  method = 'SendMessage',
): unknown {
  return {
    jsonrpc: '2.0',
    id: uniqueId('rpc'),
    method,
    params: {
      message: {
        messageId: ids.messageId ?? globalThis.crypto.randomUUID(),
        role: 'ROLE_USER',
        parts: [{ text }],
        ...(ids.taskId === undefined
          ? { taskId: globalThis.crypto.randomUUID() }
          : ids.taskId === ''
            ? {}
            : { taskId: ids.taskId }),
        ...(ids.contextId ? { contextId: ids.contextId } : {}),
      },
    },
  };
}

export interface FakeRequest {
  topic: string;
  /** The payload as received (the body is a placeholder when it is not JSON, e.g. encrypted). */
  payload: Buffer;
  body: { jsonrpc: string; id: string | number; method: string; params: Record<string, unknown> };
  correlation: Buffer;
  responseTopic: string;
  packet: IPublishPacket;
}

function parseOr(payload: Buffer, fallback: unknown): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return fallback;
  }
}

/**
 * A hand-written responder on a raw MQTT client, for behaviour our own agent never shows (a responder that
 * streams SendMessage like EMQX's Python SDK, one that goes silent, one that answers with binding errors).
 */
export class FakeResponder {
  readonly requests: FakeRequest[] = [];
  private constructor(
    readonly raw: RawClient,
    readonly requestTopic: string,
  ) {}

  static async start(
    url: string,
    requestTopic: string,
    handle: (request: FakeRequest, responder: FakeResponder) => void | Promise<void>,
  ): Promise<FakeResponder> {
    const raw = await RawClient.connect(url);
    const responder = new FakeResponder(raw, requestTopic);
    raw.client.on('message', (topic, payload, packet) => {
      if (topic !== requestTopic) return;
      const request: FakeRequest = {
        topic,
        body: parseOr(payload, { jsonrpc: '2.0', id: 0, method: '', params: {} }) as FakeRequest['body'],
        payload,
        correlation: Buffer.from(packet.properties?.correlationData ?? Buffer.alloc(0)),
        responseTopic: packet.properties?.responseTopic ?? '',
        packet,
      };
      responder.requests.push(request);
      void handle(request, responder);
    });
    await raw.subscribe(requestTopic);
    return responder;
  }

  async reply(request: FakeRequest, body: Record<string, unknown>): Promise<void> {
    await this.raw.publish(
      request.responseTopic,
      JSON.stringify({ jsonrpc: '2.0', id: request.body.id, ...body }),
      {
        properties: { correlationData: request.correlation },
      },
    );
  }

  async close(): Promise<void> {
    await this.raw.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The JSON form of a task, as a responder would put it on the wire. */
export function taskJson(
  id: string,
  contextId: string,
  state: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { id, contextId, status: { state, timestamp: new Date().toISOString() }, ...extra };
}

/** `promise`, or a rejection after `ms` (for waits that a broker limitation may leave hanging). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
