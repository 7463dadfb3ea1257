// The differential suite: every scenario runs over an SDK InMemoryTransport and over MQTT (a real broker,
// the server host and the client host) and must give identical results. Each scenario also checks its own
// result, so a scenario that silently did nothing on both sides fails too. It runs for every pairing of the
// MCP SDK majors (client x server: 1.x x 1.x, 2.x x 2.x, 2.x x 1.x, 1.x x 2.x): the same scenarios, each
// client major talking to each server major, in memory and over MQTT. 2.x clients connect through
// `@mqtt-agents/mcp/sdk-v2/client`, as a 2.x user would.
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '../src/index.js';
import type { McpClientHost, McpServerHost } from '../src/index.js';
import { settle, unique } from './helpers.js';
import { MAJORS, newClient, newServer } from './sdk-majors.js';
import type { Major, Seen, ServerUnderTest, TestClient, TestServer } from './sdk-majors.js';

interface Session {
  client: TestClient;
  server: TestServer;
  /** Things the client's handlers saw, for scenarios to read. */
  seen: Seen;
  close(): Promise<void>;
}

/** Which SDK major runs on each side. */
interface Pairing {
  client: Major;
  server: Major;
}

const PAIRINGS: Pairing[] = [
  { client: '1.x', server: '1.x' },
  { client: '2.x', server: '2.x' },
  { client: '2.x', server: '1.x' },
  { client: '1.x', server: '2.x' },
];

async function inMemory(pairing: Pairing): Promise<Session> {
  const seen: Seen = { notifications: [] };
  const server = newServer(pairing.server);
  const client = newClient(pairing.client, seen);
  await client.connectInMemory(server);
  return { client: client.client, server: server.server, seen, close: () => client.client.close() };
}

let broker: TestBroker;
/** One server host per server major; each session gets its own server object. */
const serverHosts = new Map<Major, McpServerHost>();
let clientHost: McpClientHost;
const mqttServers = new Map<string, ServerUnderTest>();

async function overMqtt(pairing: Pairing): Promise<Session> {
  const seen: Seen = { notifications: [] };
  const client = newClient(pairing.client, seen);
  const host = serverHosts.get(pairing.server);
  if (!host) throw new Error(`no server host for ${pairing.server}`);
  // One client host, one dedicated connection (a fresh mcp-client-id) per session.
  const transport = await client.connectOverMqtt(clientHost, host.serverName);
  const server = mqttServers.get(transport.mcpClientId);
  if (!server) throw new Error('no server object for the session');
  return { client: client.client, server: server.server, seen, close: () => client.client.close() };
}

beforeAll(async () => {
  broker = await startTestBroker();
  for (const major of MAJORS) {
    serverHosts.set(
      major,
      await serveMcpOverMqtt({
        mqtt: { url: broker.url },
        serverName: `diff/${unique(`press-${major}`)}`,
        description: `differential, SDK ${major}`,
        createServer: (session) => {
          const server = newServer(major);
          mqttServers.set(session.mcpClientId, server);
          return server;
        },
      }),
    );
  }
  clientHost = await createMcpMqttClientHost({ mqtt: { url: broker.url }, serverNameFilters: ['diff/#'] });
  for (const host of serverHosts.values()) await clientHost.waitForServer(host.serverName);
});

afterAll(async () => {
  await clientHost?.close();
  for (const host of serverHosts.values()) await host.close();
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
  /** What the result must be; `pairing` where the majors differ in what they return. */
  check(result: unknown, pairing: Pairing): void;
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
      await server.sendResourceUpdated({ uri: 'file:///press/telemetry.json' });
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
      const sessionId = server.sessionId();
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
      const result = await client.callTool(
        { name: 'count', arguments: { to: 4 } },
        {
          onprogress: (update) => progress.push({ progress: update.progress, total: update.total }),
        },
      );
      return { result, progress };
    },
    check: (result) => expect((result as { progress: unknown[] }).progress).toHaveLength(4),
  },
  {
    name: 'cancellation',
    run: async ({ client }) => {
      const controller = new AbortController();
      const pending = outcome(
        client.callTool({ name: 'hang', arguments: {} }, { signal: controller.signal }),
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
      timedOut: await outcome(client.callTool({ name: 'hang', arguments: {} }, { timeout: 100 })),
      after: await outcome(client.callTool({ name: 'echo', arguments: { text: 'after' } })),
    }),
    // 1.x raises McpError -32001 (RequestTimeout); 2.x raises SdkError 'REQUEST_TIMEOUT' (a local error,
    // no longer dressed as a JSON-RPC code).
    check: (result, pairing) =>
      expect(result).toMatchObject({
        timedOut: { code: pairing.client === '1.x' ? -32001 : 'REQUEST_TIMEOUT' },
        after: { result: { content: [{ text: 'after' }] } },
      }),
  },
  {
    name: 'sampling (server-to-client request)',
    run: ({ server }) =>
      outcome(
        server.createMessage({
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
        server.elicitInput({
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
      server.onRootsListChanged(() => void changed++);
      const roots = await server.listRoots();
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
      server.addDoublingTool();
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
      fromServer: await server.ping(),
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

for (const pairing of PAIRINGS) {
  describe(`differential, client SDK ${pairing.client} x server SDK ${pairing.server}: InMemoryTransport and MQTT give identical results`, () => {
    for (const scenario of scenarios) {
      it(scenario.name, async () => {
        const reference = await inMemory(pairing);
        const viaMqtt = await overMqtt(pairing);
        try {
          const expected = await scenario.run(reference);
          scenario.check(expected, pairing);
          const actual = await scenario.run(viaMqtt);
          expect(actual).toEqual(expected);
        } finally {
          await reference.close();
          await viaMqtt.close();
        }
      });
    }
  });
}
