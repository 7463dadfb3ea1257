// The differential suite: every scenario runs over the SDK's InMemoryTransport and over MQTT (a real broker,
// the server host and the client host) and must give identical results. Each scenario also checks its own
// result, so a scenario that silently did nothing on both sides fails too.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  RootsListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '../src/index.js';
import type { McpClientHost, McpServerHost } from '../src/index.js';
import { buildTestServer, settle, unique } from './helpers.js';

interface Session {
  client: Client;
  server: McpServer;
  /** Things the client's handlers saw, for scenarios to read. */
  seen: { notifications: Array<{ method: string; params?: unknown }> };
  close(): Promise<void>;
}

type Connect = () => Promise<Session>;

function newClient(seen: Session['seen']): Client {
  const client = new Client(
    { name: 'differential', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
    role: 'assistant',
    model: 'test-model',
    content: { type: 'text', text: `sampled: ${JSON.stringify(request.params.messages[0]?.content)}` },
    stopReason: 'endTurn',
  }));
  client.setRequestHandler(ElicitRequestSchema, async (request) => ({
    action: 'accept',
    content: { answer: `yes to ${request.params.message}` },
  }));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({
    roots: [{ uri: 'file:///plant', name: 'plant' }],
  }));
  const record = (method: string) => (notification: { params?: unknown }) => {
    seen.notifications.push({ method, params: notification.params });
  };
  client.setNotificationHandler(LoggingMessageNotificationSchema, record('notifications/message'));
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, record('notifications/resources/updated'));
  client.setNotificationHandler(
    ToolListChangedNotificationSchema,
    record('notifications/tools/list_changed'),
  );
  return client;
}

const memory: Connect = async () => {
  const seen: Session['seen'] = { notifications: [] };
  const server = buildTestServer();
  const client = newClient(seen);
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  return { client, server, seen, close: () => client.close() };
};

let broker: TestBroker;
let serverHost: McpServerHost;
let clientHost: McpClientHost;
const mqttServers = new Map<string, McpServer>();

const overMqtt: Connect = async () => {
  const seen: Session['seen'] = { notifications: [] };
  const client = newClient(seen);
  // One client host, one dedicated connection (a fresh mcp-client-id) per session.
  const transport = await clientHost.connect(client, serverHost.serverName, { dedicatedConnection: true });
  const server = mqttServers.get(transport.mcpClientId);
  if (!server) throw new Error('no server object for the session');
  return { client, server, seen, close: () => client.close() };
};

beforeAll(async () => {
  broker = await startTestBroker();
  serverHost = await serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `diff/${unique('press')}`,
    description: 'differential',
    createServer: (session) => {
      const server = buildTestServer();
      mqttServers.set(session.mcpClientId, server);
      return server;
    },
  });
  clientHost = await createMcpMqttClientHost({ mqtt: { url: broker.url }, serverNameFilters: ['diff/#'] });
  await clientHost.waitForServer(serverHost.serverName);
});

afterAll(async () => {
  await clientHost?.close();
  await serverHost?.close();
  await broker?.close();
});

/** Errors compared by what a user sees: class, code and message. */
function describeError(error: unknown): Record<string, unknown> {
  const value = error as { constructor?: { name?: string }; code?: unknown; message?: unknown };
  return { error: value.constructor?.name, code: value.code, message: value.message };
}

async function outcome<T>(promise: Promise<T>): Promise<unknown> {
  const settled = await settle(promise);
  return settled.ok ? { result: settled.value } : describeError(settled.error);
}

function waitUntil(check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (check()) return resolve();
      if (Date.now() - started > 5_000) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

interface Scenario {
  name: string;
  run(session: Session): Promise<unknown>;
  check(result: unknown): void;
}

const scenarios: Scenario[] = [
  {
    name: 'tools/list',
    run: async ({ client }) =>
      (await client.listTools()).tools.map((tool) => ({
        name: tool.name,
        input: tool.inputSchema,
        output: tool.outputSchema,
      })),
    check: (result) => expect((result as Array<{ name: string }>).map((tool) => tool.name)).toContain('add'),
  },
  {
    name: 'tools/call with text content',
    run: ({ client }) => outcome(client.callTool({ name: 'echo', arguments: { text: 'héllo ✓' } })),
    check: (result) => expect(result).toEqual({ result: { content: [{ type: 'text', text: 'héllo ✓' }] } }),
  },
  {
    name: 'tools/call with structured output',
    run: ({ client }) => outcome(client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })),
    check: (result) => expect(result).toMatchObject({ result: { structuredContent: { sum: 42 } } }),
  },
  {
    name: 'tools/call of a tool that throws',
    run: ({ client }) => outcome(client.callTool({ name: 'fail', arguments: {} })),
    check: (result) =>
      expect(result).toMatchObject({
        result: { isError: true, content: [{ text: expect.stringMatching(/jammed/) }] },
      }),
  },
  {
    name: 'tools/call with invalid arguments',
    run: ({ client }) => outcome(client.callTool({ name: 'add', arguments: { a: 'two' } })),
    check: (result) => expect(JSON.stringify(result)).toMatch(/error|invalid/i),
  },
  {
    name: 'tools/call of an unknown tool',
    run: ({ client }) => outcome(client.callTool({ name: 'nope', arguments: {} })),
    check: (result) => expect(JSON.stringify(result)).toMatch(/nope/),
  },
  {
    name: 'resources/list, resources/templates/list and resources/read',
    run: async ({ client }) => ({
      list: (await client.listResources()).resources,
      templates: (await client.listResourceTemplates()).resourceTemplates,
      read: await client.readResource({ uri: 'file:///press/telemetry.json' }),
      template: await client.readResource({ uri: 'station://12' }),
      missing: await outcome(client.readResource({ uri: 'file:///nowhere' })),
    }),
    check: (result) => expect(result).toMatchObject({ template: { contents: [{ text: 'station 12' }] } }),
  },
  {
    name: 'resources/subscribe and notifications/resources/updated',
    run: async ({ client, server, seen }) => {
      await client.subscribeResource({ uri: 'file:///press/telemetry.json' });
      await server.server.sendResourceUpdated({ uri: 'file:///press/telemetry.json' });
      await waitUntil(
        () => seen.notifications.some((n) => n.method === 'notifications/resources/updated'),
        'the update',
      );
      await client.unsubscribeResource({ uri: 'file:///press/telemetry.json' });
      return seen.notifications.filter((n) => n.method === 'notifications/resources/updated');
    },
    check: (result) =>
      expect(result).toEqual([
        { method: 'notifications/resources/updated', params: { uri: 'file:///press/telemetry.json' } },
      ]),
  },
  {
    name: 'prompts/list and prompts/get',
    run: async ({ client }) => ({
      list: (await client.listPrompts()).prompts,
      get: await client.getPrompt({ name: 'inspect', arguments: { station: '7' } }),
      missing: await outcome(client.getPrompt({ name: 'nope' })),
    }),
    check: (result) =>
      expect(result).toMatchObject({ get: { messages: [{ content: { text: 'inspect 7' } }] } }),
  },
  {
    name: 'completion/complete',
    run: ({ client }) =>
      outcome(
        client.complete({
          ref: { type: 'ref/resource', uri: 'station://{id}' },
          argument: { name: 'id', value: '1' },
        }),
      ),
    check: (result) => expect(result).toMatchObject({ result: { completion: { values: ['1', '12'] } } }),
  },
  {
    name: 'logging/setLevel and notifications/message',
    run: async ({ client, server, seen }) => {
      await client.setLoggingLevel('warning');
      const sessionId = server.server.transport?.sessionId;
      await server.sendLoggingMessage({ level: 'info', data: 'hidden' }, sessionId);
      await server.sendLoggingMessage({ level: 'error', data: 'shown', logger: 'press' }, sessionId);
      await waitUntil(
        () => seen.notifications.some((n) => n.method === 'notifications/message'),
        'a log message',
      );
      await client.ping();
      return seen.notifications.filter((n) => n.method === 'notifications/message');
    },
    check: (result) =>
      expect(result).toEqual([
        { method: 'notifications/message', params: { level: 'error', data: 'shown', logger: 'press' } },
      ]),
  },
  {
    name: 'progress notifications',
    run: async ({ client }) => {
      const progress: Array<{ progress: number; total?: number }> = [];
      const result = await client.callTool({ name: 'count', arguments: { to: 4 } }, undefined, {
        onprogress: (update) => progress.push({ progress: update.progress, total: update.total }),
      });
      return { result, progress };
    },
    check: (result) => expect((result as { progress: unknown[] }).progress).toHaveLength(4),
  },
  {
    name: 'cancellation',
    run: async ({ client }) => {
      const controller = new AbortController();
      const pending = outcome(
        client.callTool({ name: 'hang', arguments: {} }, undefined, { signal: controller.signal }),
      );
      controller.abort('user changed their mind');
      const cancelled = await pending;
      return {
        cancelled,
        after: await outcome(client.callTool({ name: 'echo', arguments: { text: 'after' } })),
      };
    },
    check: (result) => expect(JSON.stringify(result)).toMatch(/user changed their mind/),
  },
  {
    name: 'request timeout',
    run: async ({ client }) => ({
      timedOut: await outcome(client.callTool({ name: 'hang', arguments: {} }, undefined, { timeout: 100 })),
      after: await outcome(client.callTool({ name: 'echo', arguments: { text: 'after' } })),
    }),
    check: (result) => expect(result).toMatchObject({ timedOut: { code: -32001 } }),
  },
  {
    name: 'sampling (server-to-client request)',
    run: ({ server }) =>
      outcome(
        server.server.createMessage({
          messages: [{ role: 'user', content: { type: 'text', text: 'status?' } }],
          maxTokens: 50,
        }),
      ),
    check: (result) => expect(result).toMatchObject({ result: { model: 'test-model', role: 'assistant' } }),
  },
  {
    name: 'elicitation (server-to-client request)',
    run: ({ server }) =>
      outcome(
        server.server.elicitInput({
          message: 'stop the press?',
          requestedSchema: { type: 'object', properties: { answer: { type: 'string' } } },
        }),
      ),
    check: (result) =>
      expect(result).toEqual({ result: { action: 'accept', content: { answer: 'yes to stop the press?' } } }),
  },
  {
    name: 'roots/list and roots list_changed',
    run: async ({ client, server }) => {
      let changed = 0;
      server.server.setNotificationHandler(RootsListChangedNotificationSchema, () => void changed++);
      const roots = await server.server.listRoots();
      await client.sendRootsListChanged();
      await waitUntil(() => changed === 1, 'roots/list_changed on the server');
      return { roots, changed };
    },
    check: (result) =>
      expect(result).toEqual({ roots: { roots: [{ uri: 'file:///plant', name: 'plant' }] }, changed: 1 }),
  },
  {
    name: 'tools list_changed from server to client',
    run: async ({ client, server, seen }) => {
      server.registerTool(
        'added',
        { description: 'added later', inputSchema: { n: z.number() } },
        async ({ n }) => ({
          content: [{ type: 'text', text: String(n * 2) }],
        }),
      );
      await waitUntil(
        () => seen.notifications.some((n) => n.method === 'notifications/tools/list_changed'),
        'list_changed',
      );
      return {
        names: (await client.listTools()).tools.map((tool) => tool.name).sort(),
        call: await client.callTool({ name: 'added', arguments: { n: 21 } }),
      };
    },
    check: (result) => expect(result).toMatchObject({ call: { content: [{ text: '42' }] } }),
  },
  {
    name: 'ping both ways',
    run: async ({ client, server }) => ({
      fromClient: await client.ping(),
      fromServer: await server.server.ping(),
    }),
    check: (result) => expect(result).toEqual({ fromClient: {}, fromServer: {} }),
  },
  {
    name: 'server info, capabilities and instructions after initialize',
    run: async ({ client }) => ({
      version: client.getServerVersion(),
      capabilities: client.getServerCapabilities(),
      instructions: client.getInstructions(),
    }),
    check: (result) => expect(result).toMatchObject({ version: { name: 'test-server' } }),
  },
];

describe('differential: InMemoryTransport and MQTT give identical results', () => {
  for (const scenario of scenarios) {
    it(scenario.name, async () => {
      const inMemory = await memory();
      const viaMqtt = await overMqtt();
      try {
        const expected = await scenario.run(inMemory);
        scenario.check(expected);
        const actual = await scenario.run(viaMqtt);
        expect(actual).toEqual(expected);
      } finally {
        await inMemory.close();
        await viaMqtt.close();
      }
    });
  }
});
