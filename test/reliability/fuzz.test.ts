// Fuzz every topic each package subscribes to with property-based garbage (fast-check), for a bounded number
// of runs: nothing crashes, nothing rejects unhandled, every bad message is reported (onerror, an error
// reply, an `invalid` registry change, an unmatched-reply callback), and everything still works afterwards.
import { ClientFactory } from '@a2a-js/sdk/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { discoverAgents, mqttTransportFactory, serveA2AOverMqtt } from '@mqtt-agents/a2a';
import type { AgentRegistryChange } from '@mqtt-agents/a2a';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '@mqtt-agents/mcp';
import fc from 'fast-check';
import mqtt from 'mqtt';
import type { IClientPublishOptions, MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { answeringExecutor, eventually, recordingLogger, unique, userMessage } from './helpers.js';

/** Runs per topic: enough to cover every generator branch many times, bounded to seconds. */
const RUNS = Number(process.env.RELIABILITY_FUZZ_RUNS ?? 40);
const REPORT_TIMEOUT_MS = 3_000;

let broker: TestBroker;
let fuzzer: MqttClient;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  broker = await startTestBroker();
  fuzzer = mqtt.connect(broker.url, { protocolVersion: 5, clientId: unique('fuzzer'), reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    fuzzer.once('connect', () => resolve());
    fuzzer.once('error', reject);
  });
});
afterAll(async () => {
  await fuzzer.endAsync(true);
  await broker.close();
  process.off('unhandledRejection', onUnhandled);
});

// --- what a bad message is -------------------------------------------------------------------------------------

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const json = (value: unknown): Buffer => utf8(JSON.stringify(value));

/** The oracle: a single JSON-RPC 2.0 request, notification or response (what a transport must accept). */
function isJsonRpcMessage(payload: Buffer): boolean {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return false;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const message = value as Record<string, unknown>;
  if (message.jsonrpc !== '2.0') return false;
  const idOk = (id: unknown) => typeof id === 'string' || typeof id === 'number';
  if (typeof message.method === 'string') return !('id' in message) || idOk(message.id);
  return idOk(message.id) && ('result' in message || 'error' in message);
}

/** Payloads that are never a valid JSON-RPC message, from raw bytes to almost-right objects. Never empty. */
const badPayload: fc.Arbitrary<Buffer> = fc
  .oneof(
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    fc.string({ minLength: 1, maxLength: 200 }).map(utf8),
    fc.constantFrom(
      Buffer.from([0xff, 0xfe, 0xfd]),
      Buffer.from([0xc3, 0x28]),
      utf8('{"jsonrpc":"2.0","id":1,"method":"tools/call"'),
      utf8('\u0000'),
      utf8('[]'),
      utf8('{}'),
      utf8('null'),
    ),
    fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string()).map(json),
    fc
      .array(fc.oneof(fc.integer(), fc.string(), fc.constant(null)), { minLength: 1, maxLength: 5 })
      .map(json),
    fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }).map(json),
    fc
      .record({
        jsonrpc: fc.constantFrom('2.0', '1.0', 2),
        id: fc.oneof(fc.object({ maxDepth: 1 }), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 })),
        method: fc.oneof(fc.integer(), fc.constant(null), fc.string({ maxLength: 20 })),
      })
      .map(json),
    fc.jsonValue({ maxDepth: 3 }).map((value) => utf8(`${JSON.stringify(value) ?? ''}}`)),
  )
  .filter((payload) => payload.length > 0 && !isJsonRpcMessage(payload));

/** Publish as the fuzzer, failing (not hanging) if the broker does not acknowledge it. */
async function publish(topic: string, payload: Buffer, options: IClientPublishOptions = {}): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const properties = { ...options.properties };
  // mqtt-packet writes an empty user property map as nothing at all, and MQTT.js then never sends the packet.
  if (properties.userProperties && Object.keys(properties.userProperties).length === 0)
    delete properties.userProperties;
  await Promise.race([
    fuzzer.publishAsync(topic, payload, { qos: 1, ...options, properties }),
    new Promise((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`the broker did not acknowledge a publish on '${topic}' (${JSON.stringify(options)})`),
          ),
        REPORT_TIMEOUT_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

function asMcp(component: 'mcp-client' | 'mcp-server', clientId: string): IClientPublishOptions {
  return {
    properties: { userProperties: { 'MCP-COMPONENT-TYPE': component, 'MCP-MQTT-CLIENT-ID': clientId } },
  };
}

/** Send every generated payload to `topic` and wait, each time, until `reported()` counts one more report. */
async function expectEachReported(
  topic: string,
  reported: () => number,
  options: IClientPublishOptions = {},
): Promise<number> {
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(badPayload, async (payload) => {
      const before = reported();
      await publish(topic, payload, options);
      sent++;
      await eventually(
        () => reported() > before,
        `a report of a bad message on '${topic}'`,
        REPORT_TIMEOUT_MS,
      );
    }),
    { numRuns: RUNS },
  );
  return sent;
}

// --- MCP -------------------------------------------------------------------------------------------------------

describe('MCP: server host and client host', () => {
  it(
    'every bad message on every subscribed topic is reported, and the session still works',
    { timeout: 120_000 },
    async () => {
      const serverErrors: Error[] = [];
      const clientErrors: Error[] = [];
      const serverName = `fuzz/${unique('press')}`;
      await using server = await serveMcpOverMqtt({
        mqtt: { url: broker.url },
        serverName,
        description: 'fuzzed',
        createServer: () => {
          const mcp = new McpServer({ name: 'fuzz', version: '1.0.0' });
          mcp.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
            content: [{ type: 'text', text }],
          }));
          return mcp;
        },
        onerror: (error) => void serverErrors.push(error),
        logger: recordingLogger(),
      });
      await using clients = await createMcpMqttClientHost({
        mqtt: { url: broker.url },
        serverNameFilters: ['fuzz/#'],
        onerror: (error) => void clientErrors.push(error),
        logger: recordingLogger(),
      });
      const client = new Client({ name: 'fuzzed', version: '1.0.0' });
      const sessionErrors: Error[] = [];
      client.onerror = (error) => void sessionErrors.push(error);
      const transport = await clients.connect(client, serverName);
      const mcpClientId = transport.mcpClientId;
      const { serverId } = server;

      // The server host's topics: control, the session's RPC topic, the client's capability and presence topics.
      const sent = [
        await expectEachReported(
          `$mcp-server/${serverId}/${serverName}`,
          () => serverErrors.length,
          asMcp('mcp-client', unique('stranger')),
        ),
        await expectEachReported(
          `$mcp-rpc/${mcpClientId}/${serverId}/${serverName}`,
          () => serverErrors.length,
          asMcp('mcp-client', mcpClientId),
        ),
        await expectEachReported(
          `$mcp-client/capability/${mcpClientId}`,
          () => serverErrors.length,
          asMcp('mcp-client', mcpClientId),
        ),
        await expectEachReported(
          `$mcp-client/presence/${mcpClientId}`,
          () => serverErrors.length,
          asMcp('mcp-client', mcpClientId),
        ),
        // The client host's topics: presence of any server, the capability topic and the RPC topic of its session.
        await expectEachReported(
          `$mcp-server/presence/${unique('ghost')}/fuzz/ghost`,
          () => clientErrors.length,
          asMcp('mcp-server', 'ignored'),
        ),
        await expectEachReported(
          `$mcp-server/capability/${serverId}/${serverName}`,
          () => clientErrors.length,
          asMcp('mcp-server', serverId),
        ),
        await expectEachReported(
          `$mcp-rpc/${mcpClientId}/${serverId}/${serverName}`,
          () => sessionErrors.length,
          asMcp('mcp-server', serverId),
        ),
      ];
      expect(sent.reduce((sum, count) => sum + count, 0)).toBe(7 * RUNS);

      // Still standing: the same session answers, the server is still listed, no unhandled rejection.
      expect((await client.callTool({ name: 'echo', arguments: { text: 'still here' } })).content).toEqual([
        { type: 'text', text: 'still here' },
      ]);
      expect(clients.instancesOf(serverName).map((instance) => instance.serverId)).toEqual([serverId]);
      expect(server.sessions.has(mcpClientId)).toBe(true);
      expect(unhandled).toEqual([]);
      await client.close();
    },
  );
});

// --- A2A -------------------------------------------------------------------------------------------------------

const answering = answeringExecutor('pong');

describe('A2A: agent, registry and requester', () => {
  it(
    'every bad message on every subscribed topic is reported, and requests still work',
    { timeout: 120_000 },
    async () => {
      const org = unique('org');
      const agentLogger = recordingLogger();
      await using agent = await serveA2AOverMqtt({
        mqtt: { url: broker.url },
        org,
        unit: 'u',
        agentId: 'target',
        card: { name: 'Target' },
        executor: answering,
        logger: agentLogger,
      });
      await using registry = await discoverAgents({
        mqtt: { url: broker.url },
        org,
        logger: recordingLogger(),
      });
      await registry.waitFor('target', { online: true, timeoutMs: 5_000 });
      let invalidCards = 0;
      const changes = registry.changes();
      void (async () => {
        for await (const change of changes as AsyncIterable<AgentRegistryChange>)
          if (change.type === 'invalid') invalidCards++;
      })();
      let unmatchedReplies = 0;
      await using transports = mqttTransportFactory({
        mqtt: { url: broker.url },
        org,
        unit: 'u',
        agentId: 'requester',
        logger: recordingLogger(),
        onUnmatchedReply: () => void unmatchedReplies++,
      });
      const client = await new ClientFactory({ transports: [transports] }).createFromAgentCard(agent.card);
      const ping = () =>
        client.sendMessage({
          tenant: '',
          message: userMessage('ping'),
          configuration: undefined,
          metadata: undefined,
        });

      // Learn the requester's reply topic from a real request, seen by a spy on the agent's request topic.
      const spy = mqtt.connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
      await new Promise<void>((resolve) => spy.once('connect', () => resolve()));
      let replyTopic = '';
      spy.on(
        'message',
        (_topic, _payload, packet) => (replyTopic = packet.properties?.responseTopic ?? replyTopic),
      );
      await spy.subscribeAsync(agent.requestTopic, { qos: 1 });
      await ping();
      await eventually(() => replyTopic !== '', 'the reply topic of a real request');
      await spy.endAsync(true);

      // Agent request topic with a Response Topic: every bad request gets an error reply there.
      const errorReplies = new Map<string, unknown>();
      // A reply topic of the profile: agents answer nowhere else.
      const fuzzReplies = `$a2a/v1/reply/${org}/u/fuzzer/${unique('r')}`;
      fuzzer.on('message', (topic, payload, packet) => {
        if (topic !== fuzzReplies) return;
        const correlation = Buffer.from(packet.properties?.correlationData ?? []).toString('hex');
        errorReplies.set(correlation, JSON.parse(payload.toString('utf8')));
      });
      await fuzzer.subscribeAsync(fuzzReplies, { qos: 1 });
      let requests = 0;
      await fc.assert(
        fc.asyncProperty(
          badPayload,
          fc.uint8Array({ minLength: 1, maxLength: 16 }),
          async (payload, correlation) => {
            const key = `${requests++}-${Buffer.from(correlation).toString('hex')}`;
            await publish(agent.requestTopic, payload, {
              properties: { responseTopic: fuzzReplies, correlationData: Buffer.from(key) },
            });
            await eventually(
              () => errorReplies.has(Buffer.from(key).toString('hex')),
              'an error reply',
              REPORT_TIMEOUT_MS,
            );
            const reply = errorReplies.get(Buffer.from(key).toString('hex')) as {
              error?: { code?: unknown };
            };
            expect(reply.error?.code).toEqual(expect.any(Number));
          },
        ),
        { numRuns: RUNS },
      );
      // Without a Response Topic no reply is possible: each is logged instead.
      const warnings = () => agentLogger.lines.filter((line) => line.level === 'warn').length;
      const sent = [
        requests,
        await expectEachReported(agent.requestTopic, warnings),
        // Discovery: a card that is not a card is an `invalid` change.
        await expectEachReported(`$a2a/v1/discovery/${org}/u/${unique('bogus')}`, () => invalidCards),
        // The requester's reply topic: replies matching no request are reported (without and with a stranger's correlation).
        await expectEachReported(replyTopic, () => unmatchedReplies),
        await expectEachReported(replyTopic, () => unmatchedReplies, {
          properties: { correlationData: Buffer.from('not-yours') },
        }),
      ];
      expect(sent.reduce((sum, count) => sum + count, 0)).toBe(5 * RUNS);

      // Still standing.
      const answer = await ping();
      expect('parts' in answer && answer.parts[0]?.content).toEqual({ $case: 'text', value: 'pong' });
      expect(registry.get('target')?.status).toBe('online');
      expect(unhandled).toEqual([]);
      await changes.return?.();
    },
  );
});

// --- anything at all -------------------------------------------------------------------------------------------

describe('random topics, properties and payloads under every root', () => {
  it('never crash a component or leave a rejection unhandled', { timeout: 120_000 }, async () => {
    const org = unique('org');
    const serverName = `fuzz/${unique('any')}`;
    await using server = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName,
      description: 'anything',
      createServer: () => new McpServer({ name: 'any', version: '1.0.0' }),
      logger: recordingLogger(),
    });
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['#'],
      logger: recordingLogger(),
    });
    await using agent = await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'any',
      card: { name: 'Any' },
      executor: answering,
      logger: recordingLogger(),
    });
    await using registry = await discoverAgents({ mqtt: { url: broker.url }, logger: recordingLogger() });
    const level = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
    const topic = fc.oneof(
      fc.tuple(level, level).map(([a, b]) => `$mcp-server/${a}/${b}`),
      fc.constant(`$mcp-server/${server.serverId}/${serverName}`),
      fc.tuple(level, level).map(([a, b]) => `$mcp-server/presence/${a}/fuzz/${b}`),
      fc.tuple(level, level).map(([a, b]) => `$mcp-rpc/${a}/${server.serverId}/${serverName}/${b}`),
      fc.constant(`$mcp-rpc/${clients.mcpClientId}/${server.serverId}/${serverName}`),
      level.map((a) => `$mcp-client/presence/${a}`),
      level.map((a) => `$mcp-client/capability/${a}`),
      fc.constant(agent.requestTopic),
      level.map((a) => `$a2a/v1/discovery/${org}/u/${a}`),
    );
    const properties = fc.record(
      {
        userProperties: fc.dictionary(
          fc.constantFrom('MCP-COMPONENT-TYPE', 'MCP-MQTT-CLIENT-ID', 'a2a-status', 'a2a-status-source', 'x'),
          fc.string({ maxLength: 20 }),
        ),
        responseTopic: fc.constantFrom('fuzz/any/replies', `$a2a/v1/reply/${org}/u/x/y`),
        correlationData: fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)),
        contentType: fc.string({ maxLength: 10 }),
      },
      { requiredKeys: [] },
    );
    const payload = fc.oneof(
      badPayload,
      fc.jsonValue({ maxDepth: 3 }).map(json),
      fc.constant(Buffer.alloc(0)),
    );
    let published = 0;
    await fc.assert(
      fc.asyncProperty(topic, payload, properties, fc.boolean(), async (name, body, props, retain) => {
        await publish(name, body, {
          properties: props,
          retain: retain && !name.startsWith(`$mcp-server/${server.serverId}`),
        });
        published++;
      }),
      { numRuns: RUNS * 10 },
    );
    expect(published).toBe(RUNS * 10);
    // Everything still answers.
    const client = new Client({ name: 'after', version: '1.0.0' });
    await clients.connect(client, serverName, { serverId: server.serverId });
    await client.ping();
    await client.close();
    await registry.waitFor('any', { online: true, timeoutMs: 5_000 });
    expect(unhandled).toEqual([]);
  });
});
