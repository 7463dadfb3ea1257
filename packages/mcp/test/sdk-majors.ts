// Both MCP SDK majors behind one small facade, for suites that run the same scenarios on 1.x
// (`@modelcontextprotocol/sdk`) and 2.x (`@modelcontextprotocol/client` / `server`): a client with the
// handlers the scenarios need, the test server of helpers.ts built with either major, and each major's
// InMemoryTransport. The facades only rename (1.x `callTool(params, schema, options)` is 2.x
// `callTool(params, options)`, schemas are method names in 2.x, handler contexts differ); results and errors
// pass through untouched, so a differential comparison sees what each SDK returns.
import { Client as ClientV2, InMemoryTransport as InMemoryTransportV2 } from '@modelcontextprotocol/client';
import {
  McpServer as McpServerV2,
  ResourceTemplate as ResourceTemplateV2,
} from '@modelcontextprotocol/server';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport as InMemoryTransportV1 } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  RootsListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { McpClientHost, McpServerLike } from '../src/index.js';
import { connectClient } from '../src/sdk-v2/client.js';
import { buildTestServer } from './helpers.js';

export type Major = '1.x' | '2.x';

export const MAJORS: readonly Major[] = ['1.x', '2.x'];

type Params = Record<string, unknown>;

interface RequestOptions {
  onprogress?: (progress: { progress: number; total?: number }) => void;
  signal?: AbortSignal;
  timeout?: number;
}

/** What the scenarios call on a client, either major. */
export interface TestClient {
  readonly major: Major;
  listTools(): Promise<{ tools: Array<{ name: string; inputSchema: unknown; outputSchema?: unknown }> }>;
  callTool(params: { name: string; arguments?: Params }, options?: RequestOptions): Promise<unknown>;
  listResources(): Promise<{ resources: unknown[] }>;
  listResourceTemplates(): Promise<{ resourceTemplates: unknown[] }>;
  readResource(params: { uri: string }): Promise<unknown>;
  subscribeResource(params: { uri: string }): Promise<unknown>;
  unsubscribeResource(params: { uri: string }): Promise<unknown>;
  listPrompts(): Promise<{ prompts: unknown[] }>;
  getPrompt(params: { name: string; arguments?: Record<string, string> }): Promise<unknown>;
  complete(params: {
    ref: { type: 'ref/resource'; uri: string };
    argument: { name: string; value: string };
  }): Promise<unknown>;
  setLoggingLevel(level: 'warning'): Promise<unknown>;
  ping(): Promise<unknown>;
  sendRootsListChanged(): Promise<void>;
  getServerVersion(): unknown;
  getServerCapabilities(): unknown;
  getInstructions(): unknown;
  close(): Promise<void>;
}

/** What the scenarios call on the server object of one session, either major. */
export interface TestServer {
  readonly major: Major;
  sessionId(): string | undefined;
  sendResourceUpdated(params: { uri: string }): Promise<void>;
  sendLoggingMessage(
    params: { level: 'info' | 'error'; data: unknown; logger?: string },
    sessionId?: string,
  ): Promise<void>;
  createMessage(params: {
    messages: Array<{ role: 'user'; content: { type: 'text'; text: string } }>;
    maxTokens: number;
  }): Promise<unknown>;
  elicitInput(params: {
    message: string;
    requestedSchema: { type: 'object'; properties: Record<string, { type: 'string' }> };
  }): Promise<unknown>;
  listRoots(): Promise<unknown>;
  onRootsListChanged(handler: () => void): void;
  /** Register tool `added` (doubles `n`): the server announces tools/list_changed. */
  addDoublingTool(): void;
  ping(): Promise<unknown>;
}

/** Notifications a client's handlers saw, for the scenarios to read. */
export interface Seen {
  notifications: Array<{ method: string; params?: unknown }>;
}

const CLIENT_CAPABILITIES = {
  capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } },
};

/** The sampling answer both majors' clients give. */
function sampled(params: { messages: Array<{ content: unknown }> }) {
  return {
    role: 'assistant' as const,
    model: 'test-model',
    content: { type: 'text' as const, text: `sampled: ${JSON.stringify(params.messages[0]?.content)}` },
    stopReason: 'endTurn',
  };
}

function elicited(params: { message: string }) {
  return { action: 'accept' as const, content: { answer: `yes to ${params.message}` } };
}

const ROOTS = { roots: [{ uri: 'file:///plant', name: 'plant' }] };

/** A client of either major with the scenario handlers, its facade, and how to connect it. */
export interface ClientUnderTest {
  client: TestClient;
  /** Connect over an InMemoryTransport of the client's major. */
  connectInMemory(server: ServerUnderTest): Promise<void>;
  /** Connect over MQTT through the client host (a dedicated connection per session). */
  connectOverMqtt(host: McpClientHost, serverName: string): Promise<{ mcpClientId: string }>;
}

export function newClient(major: Major, seen: Seen): ClientUnderTest {
  const record = (method: string) => (notification: { params?: unknown }) => {
    seen.notifications.push({ method, params: notification.params });
  };
  return major === '1.x' ? newClientV1(record) : newClientV2(record);
}

type Recorder = (method: string) => (notification: { params?: unknown }) => void;

function newClientV1(record: Recorder): ClientUnderTest {
  const client = new ClientV1({ name: 'differential', version: '1.0.0' }, CLIENT_CAPABILITIES);
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => sampled(request.params));
  client.setRequestHandler(ElicitRequestSchema, async (request) => elicited(request.params));
  client.setRequestHandler(ListRootsRequestSchema, async () => ROOTS);
  client.setNotificationHandler(LoggingMessageNotificationSchema, record('notifications/message'));
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, record('notifications/resources/updated'));
  client.setNotificationHandler(
    ToolListChangedNotificationSchema,
    record('notifications/tools/list_changed'),
  );
  const facade: TestClient = {
    major: '1.x',
    listTools: () => client.listTools(),
    callTool: (params, options) => client.callTool(params, undefined, options),
    listResources: () => client.listResources(),
    listResourceTemplates: () => client.listResourceTemplates(),
    readResource: (params) => client.readResource(params),
    subscribeResource: (params) => client.subscribeResource(params),
    unsubscribeResource: (params) => client.unsubscribeResource(params),
    listPrompts: () => client.listPrompts(),
    getPrompt: (params) => client.getPrompt(params),
    complete: (params) => client.complete(params),
    setLoggingLevel: (level) => client.setLoggingLevel(level),
    ping: () => client.ping(),
    sendRootsListChanged: () => client.sendRootsListChanged(),
    getServerVersion: () => client.getServerVersion(),
    getServerCapabilities: () => client.getServerCapabilities(),
    getInstructions: () => client.getInstructions(),
    close: () => client.close(),
  };
  return {
    client: facade,
    connectInMemory: async (server) => {
      const [clientSide, serverSide] = InMemoryTransportV1.createLinkedPair();
      await server.connect(serverSide);
      await client.connect(clientSide);
    },
    connectOverMqtt: (host, serverName) => host.connect(client, serverName, { dedicatedConnection: true }),
  };
}

function newClientV2(record: Recorder): ClientUnderTest {
  const client = new ClientV2({ name: 'differential', version: '1.0.0' }, CLIENT_CAPABILITIES);
  client.setRequestHandler('sampling/createMessage', async (request) => sampled(request.params));
  client.setRequestHandler('elicitation/create', async (request) => elicited(request.params));
  client.setRequestHandler('roots/list', async () => ROOTS);
  client.setNotificationHandler('notifications/message', record('notifications/message'));
  client.setNotificationHandler('notifications/resources/updated', record('notifications/resources/updated'));
  client.setNotificationHandler(
    'notifications/tools/list_changed',
    record('notifications/tools/list_changed'),
  );
  const facade: TestClient = {
    major: '2.x',
    listTools: () => client.listTools(),
    callTool: (params, options) => client.callTool(params, options),
    listResources: () => client.listResources(),
    listResourceTemplates: () => client.listResourceTemplates(),
    readResource: (params) => client.readResource(params),
    subscribeResource: (params) => client.subscribeResource(params),
    unsubscribeResource: (params) => client.unsubscribeResource(params),
    listPrompts: () => client.listPrompts(),
    getPrompt: (params) => client.getPrompt(params),
    complete: (params) => client.complete(params),
    setLoggingLevel: (level) => client.setLoggingLevel(level),
    ping: () => client.ping(),
    sendRootsListChanged: () => client.sendRootsListChanged(),
    getServerVersion: () => client.getServerVersion(),
    getServerCapabilities: () => client.getServerCapabilities(),
    getInstructions: () => client.getInstructions(),
    close: () => client.close(),
  };
  return {
    client: facade,
    connectInMemory: async (server) => {
      const [clientSide, serverSide] = InMemoryTransportV2.createLinkedPair();
      await server.connect(serverSide);
      await client.connect(clientSide);
    },
    // Through the 2.x client entry point, as a 2.x user would connect.
    connectOverMqtt: (host, serverName) =>
      connectClient(host, client, serverName, { dedicatedConnection: true }),
  };
}

/** The server object of one session, either major: what `createServer` returns, and its facade. */
export interface ServerUnderTest extends McpServerLike {
  server: TestServer;
}

export function newServer(major: Major): ServerUnderTest {
  return major === '1.x' ? wrapServerV1(buildTestServer()) : wrapServerV2(buildTestServerV2());
}

function wrapServerV1(server: McpServerV1): ServerUnderTest {
  return {
    connect: (transport) => server.connect(transport),
    close: () => server.close(),
    server: {
      major: '1.x',
      sessionId: () => server.server.transport?.sessionId,
      sendResourceUpdated: (params) => server.server.sendResourceUpdated(params),
      sendLoggingMessage: (params, sessionId) => server.sendLoggingMessage(params, sessionId),
      createMessage: (params) => server.server.createMessage(params),
      elicitInput: (params) => server.server.elicitInput(params),
      listRoots: () => server.server.listRoots(),
      onRootsListChanged: (handler) =>
        server.server.setNotificationHandler(RootsListChangedNotificationSchema, handler),
      addDoublingTool: () => {
        server.registerTool(
          'added',
          { description: 'added later', inputSchema: { n: z.number() } },
          async ({ n }) => ({ content: [{ type: 'text', text: String(n * 2) }] }),
        );
      },
      ping: () => server.server.ping(),
    },
  };
}

function wrapServerV2(server: McpServerV2): ServerUnderTest {
  return {
    connect: (transport) => server.connect(transport),
    close: () => server.close(),
    server: {
      major: '2.x',
      sessionId: () => server.server.transport?.sessionId,
      sendResourceUpdated: (params) => server.server.sendResourceUpdated(params),
      sendLoggingMessage: (params, sessionId) => server.sendLoggingMessage(params, sessionId),
      createMessage: (params) => server.server.createMessage(params),
      elicitInput: (params) => server.server.elicitInput(params),
      listRoots: () => server.server.listRoots(),
      onRootsListChanged: (handler) =>
        server.server.setNotificationHandler('notifications/roots/list_changed', handler),
      addDoublingTool: () => {
        server.registerTool(
          'added',
          { description: 'added later', inputSchema: { n: z.number() } },
          async ({ n }) => ({ content: [{ type: 'text', text: String(n * 2) }] }),
        );
      },
      ping: () => server.server.ping(),
    },
  };
}

/** helpers.ts's `buildTestServer`, written for the 2.x `McpServer` (same tools, resources and prompts). */
export function buildTestServerV2(options: { name?: string } = {}): McpServerV2 {
  const server = new McpServerV2(
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
    async ({ to }, ctx) => {
      for (let index = 1; index <= to; index++) {
        const token = ctx.mcpReq._meta?.progressToken;
        if (token !== undefined) {
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken: token, progress: index, total: to },
          });
        }
      }
      return { content: [{ type: 'text', text: `counted to ${to}` }] };
    },
  );
  server.registerTool('hang', { description: 'Never answers until cancelled' }, async (ctx) => {
    await new Promise<void>((resolve) =>
      ctx.mcpReq.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    return { content: [{ type: 'text', text: 'cancelled' }] };
  });
  server.registerTool('whoami', { description: 'Tells the session id' }, async (ctx) => ({
    content: [{ type: 'text', text: String(ctx.sessionId) }],
  }));
  server.registerResource(
    'telemetry',
    'file:///press/telemetry.json',
    { description: 'Live telemetry', mimeType: 'application/json' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: '{"pressure":7}' }] }),
  );
  server.registerResource(
    'station',
    new ResourceTemplateV2('station://{id}', {
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
  server.server.setRequestHandler('resources/subscribe', async () => ({}));
  server.server.setRequestHandler('resources/unsubscribe', async () => ({}));
  return server;
}
