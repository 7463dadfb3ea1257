// Shared fixtures of the broker-backed MCP suites: a real SDK McpServer with tools, resources and prompts,
// raw MQTT 5 peers for hand-made (and malformed) traffic, and waiting helpers. No sleeps where an event can be
// awaited; `quiet()` is only used to prove that something does NOT happen.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { testBrokerKind } from '@mqtt-agents/broker/vitest';
import type { Logger } from '@mqtt-agents/core';
import mqtt from 'mqtt';
import type { IClientOptions, IClientPublishOptions, IPublishPacket, MqttClient, Packet } from 'mqtt';
import { z } from 'zod';

export const brokerKind = testBrokerKind();
export const embedded = brokerKind === 'embedded';

/** How long a wait for something that must happen may take before the test fails. */
export const WAIT_TIMEOUT = 5_000;
/** How long we watch to prove that something does NOT happen. */
export const QUIET_PERIOD = 200;

let sequence = 0;
/** An identifier (client id, server name level) that no other test, file or lane uses. */
export function unique(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}-${Math.random().toString(36).slice(2, 8)}`;
}

export function quiet(ms = QUIET_PERIOD): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll a condition until it holds (for state that has no event), failing after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = WAIT_TIMEOUT,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolve with the first value `subscribe` hands to its callback that passes `predicate`. */
export function nextEvent<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  predicate: (value: T) => boolean = () => true,
  what = 'an event',
  timeoutMs = WAIT_TIMEOUT,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const unsubscribe = subscribe((value) => {
      if (!predicate(value)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
}

/** A logger that records what it is told, for asserting that bad input was reported. */
export function recordingLogger(): Logger & { lines: Array<{ level: string; message: string }> } {
  const lines: Array<{ level: string; message: string }> = [];
  const record =
    (level: string) =>
    (message: string): void => {
      lines.push({ level, message });
    };
  return {
    lines,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
}

/** Collects errors passed to an `onerror` callback and lets a test wait for a matching one. */
export class ErrorSink {
  readonly errors: Error[] = [];
  private readonly listeners = new Set<(error: Error) => void>();
  readonly onerror = (error: Error): void => {
    this.errors.push(error);
    for (const listener of [...this.listeners]) listener(error);
  };

  waitFor(pattern: RegExp, timeoutMs = WAIT_TIMEOUT): Promise<Error> {
    const found = this.errors.find((error) => pattern.test(error.message));
    if (found) return Promise.resolve(found);
    return nextEvent<Error>(
      (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
      (error) => pattern.test(error.message),
      `an error matching ${pattern}`,
      timeoutMs,
    );
  }

  matching(pattern: RegExp): Error[] {
    return this.errors.filter((error) => pattern.test(error.message));
  }
}

export interface RecordedMessage {
  topic: string;
  payload: Buffer;
  text: string;
  retain: boolean;
  userProperties: Record<string, string | string[]>;
}

/** A raw MQTT 5 peer for hand-made traffic and for watching topics. */
export class RawPeer {
  readonly client: MqttClient;
  readonly messages: RecordedMessage[] = [];
  readonly sent: Packet[] = [];
  readonly received: Packet[] = [];
  private readonly listeners = new Set<(message: RecordedMessage) => void>();

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
      const message: RecordedMessage = {
        topic,
        payload,
        text: payload.toString('utf8'),
        retain: packet.retain,
        userProperties: (packet.properties?.userProperties ?? {}) as Record<string, string | string[]>,
      };
      this.messages.push(message);
      for (const listener of [...this.listeners]) listener(message);
    });
    client.on('packetsend', (packet: Packet) => this.sent.push(packet));
    client.on('packetreceive', (packet: Packet) => this.received.push(packet));
  }

  static async connect(url: string, options: IClientOptions = {}): Promise<RawPeer> {
    const client = mqtt.connect(url, {
      protocolVersion: 5,
      clientId: unique('raw'),
      reconnectPeriod: 0,
      ...options,
    });
    const peer = new RawPeer(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return peer;
  }

  get clientId(): string {
    return this.client.options.clientId ?? '';
  }

  async subscribe(filters: string | string[], options: { nl?: boolean } = {}): Promise<void> {
    await this.client.subscribeAsync(filters, { qos: 1, nl: options.nl ?? false });
  }

  async publish(topic: string, payload: string | Buffer, options: IClientPublishOptions = {}): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, ...options });
  }

  /** Publish as an MCP component would: with MCP-COMPONENT-TYPE and MCP-MQTT-CLIENT-ID. */
  async publishAs(
    componentType: 'mcp-client' | 'mcp-server',
    topic: string,
    payload: unknown,
    options: { clientId?: string; retain?: boolean } = {},
  ): Promise<void> {
    const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    await this.publish(topic, body, {
      retain: options.retain ?? false,
      properties: {
        userProperties: {
          'MCP-COMPONENT-TYPE': componentType,
          'MCP-MQTT-CLIENT-ID': options.clientId ?? this.clientId,
        },
      },
    });
  }

  next(
    predicate: (message: RecordedMessage) => boolean,
    what = 'a message',
    timeoutMs = WAIT_TIMEOUT,
  ): Promise<RecordedMessage> {
    const found = this.messages.find(predicate);
    if (found) return Promise.resolve(found);
    return nextEvent<RecordedMessage>(
      (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
      predicate,
      what,
      timeoutMs,
    );
  }

  on(topic: string): RecordedMessage[] {
    return this.messages.filter((message) => message.topic === topic);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Parse a recorded payload as JSON (undefined for empty or invalid). */
export function json(message: RecordedMessage): Record<string, unknown> | undefined {
  if (message.payload.length === 0) return undefined;
  try {
    return JSON.parse(message.text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The server every suite uses: tools (plain, structured output, failing, slow with progress, never-ending),
 * resources (static, template, subscribable), prompts with completion, logging.
 */
export function buildTestServer(
  options: { name?: string; onSubscribe?: (uri: string) => void } = {},
): McpServer {
  const server = new McpServer(
    { name: options.name ?? 'test-server', version: '1.0.0' },
    { capabilities: { logging: {}, resources: { subscribe: true, listChanged: true } } },
  );
  server.registerTool(
    'echo',
    { description: 'Echo the text back', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool(
    'add',
    {
      description: 'Add two numbers',
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
    },
    async ({ a, b }) => ({
      content: [{ type: 'text', text: String(a + b) }],
      structuredContent: { sum: a + b },
    }),
  );
  server.registerTool('fail', { description: 'Always fails' }, async () => {
    throw new Error('the press is jammed');
  });
  server.registerTool(
    'count',
    { description: 'Counts with progress', inputSchema: { to: z.number() } },
    async ({ to }, extra) => {
      for (let index = 1; index <= to; index++) {
        const token = extra._meta?.progressToken;
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: index, total: to },
          });
        }
      }
      return { content: [{ type: 'text', text: `counted to ${to}` }] };
    },
  );
  server.registerTool('hang', { description: 'Never answers until cancelled' }, async (extra) => {
    await new Promise<void>((resolve) =>
      extra.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    return { content: [{ type: 'text', text: 'cancelled' }] };
  });
  server.registerTool('whoami', { description: 'Tells the session id' }, async (extra) => ({
    content: [{ type: 'text', text: String(extra.sessionId) }],
  }));
  server.registerResource(
    'telemetry',
    'file:///press/telemetry.json',
    { description: 'Live telemetry', mimeType: 'application/json' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: '{"pressure":7}' }] }),
  );
  server.registerResource(
    'station',
    new ResourceTemplate('station://{id}', {
      list: async () => ({ resources: [{ uri: 'station://1', name: 'station 1' }] }),
      complete: { id: async (value) => ['1', '2', '12'].filter((id) => id.startsWith(value)) },
    }),
    { description: 'A station' },
    async (uri, { id }) => ({ contents: [{ uri: uri.href, text: `station ${String(id)}` }] }),
  );
  server.registerPrompt(
    'inspect',
    { description: 'Inspect a station', argsSchema: { station: z.string() } },
    ({ station }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `inspect ${station}` } }],
    }),
  );
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    options.onSubscribe?.(request.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async () => ({}));
  return server;
}

/** A valid `initialize` request, as a hand-made client sends it. */
export function initializeRequest(id: string | number = 1): Record<string, unknown> {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'raw-client', version: '1.0.0' },
    },
  };
}

/** Topics of one session, spelled out as the spec writes them. */
export function sessionTopics(address: { mcpClientId: string; serverId: string; serverName: string }) {
  return {
    control: `$mcp-server/${address.serverId}/${address.serverName}`,
    rpc: `$mcp-rpc/${address.mcpClientId}/${address.serverId}/${address.serverName}`,
    serverCapability: `$mcp-server/capability/${address.serverId}/${address.serverName}`,
    serverPresence: `$mcp-server/presence/${address.serverId}/${address.serverName}`,
    clientCapability: `$mcp-client/capability/${address.mcpClientId}`,
    clientPresence: `$mcp-client/presence/${address.mcpClientId}`,
  };
}

/**
 * A hand-made MCP client on a raw MQTT peer: subscribes to the session's RPC topic (No Local) and runs
 * `initialize` on the control topic. Used where the SDK client would hide what a test checks.
 */
export async function rawInitialize(
  peer: RawPeer,
  server: { serverId: string; serverName: string },
  id: string | number = 1,
): Promise<{ topics: ReturnType<typeof sessionTopics>; response: Record<string, unknown> }> {
  const topics = sessionTopics({ mcpClientId: peer.clientId, ...server });
  await peer.subscribe([topics.rpc, topics.serverCapability], { nl: true });
  const before = peer.messages.length;
  await peer.publishAs('mcp-client', topics.control, initializeRequest(id));
  const message = await peer.next(
    (candidate) =>
      peer.messages.indexOf(candidate) >= before &&
      candidate.topic === topics.rpc &&
      json(candidate)?.id === id,
    'the initialize response',
  );
  return { topics, response: json(message) ?? {} };
}

/** Catch a promise's outcome at once (no unhandled rejection while the test awaits something else). */
export function settle<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** The error a settled promise failed with (fails the test when it did not fail). */
export async function failure(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await settle(promise);
  if (outcome.ok) throw new Error('expected a failure, got a result');
  return outcome.error;
}
