// The broker restarts while thousands of A2A requests and MCP calls are in flight. Every A2A request ends
// exactly once (its answer, or a clear error once its retries are spent) and no executor runs twice for one
// message (retry dedup); every MCP call resolves or rejects with a clear error within its timeout; clients
// reconnect, resubscribe and re-announce by themselves, and discovery converges.
//
// Scale: 10,000 + 10,000 (RELIABILITY_RESTART_REQUESTS overrides it), about 15-25 s per lane on 2 cores. The
// A2A requester uses the profile's default reply timeout (15 s): with the queue limits lifted so nothing is
// shed, a shorter one expires while thousands of requests still wait in the agent's queue on a busy machine.
import { TaskState } from '@a2a-js/sdk';
import type { Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { AgentEvent, InMemoryTaskStore } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { discoverAgents, mqttTransportFactory, serveA2AOverMqtt } from '@mqtt-agents/a2a';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '@mqtt-agents/mcp';
import { expect, it } from 'vitest';
import { z } from 'zod';
import {
  brokerKind,
  delay,
  eventually,
  settle,
  startRestartableBroker,
  textPart,
  unique,
  userMessage,
} from './helpers.js';

const REQUESTS = Number(process.env.RELIABILITY_RESTART_REQUESTS ?? 10_000);
/** How long each MCP call may take before the SDK gives up on it. */
const MCP_CALL_TIMEOUT_MS = 30_000;
/** The A2A requester's retry profile for the test: the broker is away for well under one reply timeout. */
const RETRY = { replyFirstTimeoutMs: 15_000, maxAttempts: 4, initialBackoffMs: 250 };
/** The longest an A2A request may take: every attempt's reply timeout plus every backoff (+20% jitter). */
const A2A_BUDGET_MS = RETRY.maxAttempts * RETRY.replyFirstTimeoutMs + (250 + 500 + 1_000) * 1.2;
const WORK_MS = 300;

/** Completes every task after WORK_MS with an artifact echoing the message; counts runs per message id. */
class CountingExecutor implements AgentExecutor {
  readonly runs = new Map<string, number>();
  started = 0;
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    this.started++;
    const messageId = context.userMessage.messageId;
    this.runs.set(messageId, (this.runs.get(messageId) ?? 0) + 1);
    const { taskId, contextId } = context;
    const status = (state: TaskState) => ({ state, message: undefined, timestamp: new Date().toISOString() });
    bus.publish(
      AgentEvent.task({
        id: taskId,
        contextId,
        status: status(TaskState.TASK_STATE_WORKING),
        artifacts: [],
        history: [context.userMessage],
        metadata: undefined,
      }),
    );
    await delay(WORK_MS);
    const echoed =
      context.userMessage.parts[0]?.content?.$case === 'text'
        ? context.userMessage.parts[0].content.value
        : '';
    bus.publish(
      AgentEvent.artifactUpdate({
        taskId,
        contextId,
        artifact: {
          artifactId: 'echo',
          name: 'echo',
          description: '',
          parts: [textPart(echoed)],
          metadata: undefined,
          extensions: [],
        },
        append: false,
        lastChunk: true,
        metadata: undefined,
      }),
    );
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: status(TaskState.TASK_STATE_COMPLETED),
        metadata: undefined,
      }),
    );
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

const settledPromises = new WeakSet<Promise<unknown>>();
/** Track which outcome promises have settled, to count what is still in flight. */
function tracked<T>(promise: Promise<T>): Promise<T> {
  void promise.then(() => settledPromises.add(promise));
  return promise;
}
function settledCount(promises: ReadonlyArray<Promise<unknown>>): number {
  return promises.filter((promise) => settledPromises.has(promise)).length;
}

it.skipIf(brokerKind === 'external')(
  `${REQUESTS.toLocaleString('en-US')} A2A requests and ${REQUESTS.toLocaleString('en-US')} MCP calls in flight across a broker restart`,
  { timeout: 180_000 },
  async () => {
    const broker = await startRestartableBroker();
    const url = broker.url;
    const org = unique('org');
    const serverName = `restart/${unique('press')}`;
    let toolCalls = 0;
    const executor = new CountingExecutor();
    try {
      // --- MCP: a server host and a client host with one session ---
      await using server = await serveMcpOverMqtt({
        mqtt: { url, reconnectPeriodMs: 100 },
        serverName,
        description: 'survives restarts',
        createServer: () => {
          const mcp = new McpServer({ name: 'restart', version: '1.0.0' });
          mcp.registerTool('slow-echo', { inputSchema: { text: z.string() } }, async ({ text: value }) => {
            toolCalls++;
            await delay(WORK_MS);
            return { content: [{ type: 'text', text: value }] };
          });
          return mcp;
        },
      });
      await using clients = await createMcpMqttClientHost({
        mqtt: { url, reconnectPeriodMs: 100 },
        serverNameFilters: ['restart/#'],
      });
      const client = new Client({ name: 'restart', version: '1.0.0' });
      await clients.connect(client, serverName, { waitTimeoutMs: 10_000 });

      // --- A2A: an agent, a registry, a requester ---
      await using agent = await serveA2AOverMqtt({
        mqtt: { url },
        org,
        unit: 'u',
        agentId: 'worker',
        card: { name: 'Worker' },
        executor,
        taskStore: new InMemoryTaskStore(),
        limits: { maxConcurrentRequests: REQUESTS * 2, maxQueuedRequests: REQUESTS * 4 },
      });
      await using registry = await discoverAgents({ mqtt: { url }, org, unit: 'u' });
      const { card } = await registry.waitFor('worker', { online: true, timeoutMs: 10_000 });
      await using transports = mqttTransportFactory({
        mqtt: { url },
        org,
        unit: 'u',
        agentId: 'requester',
        retry: RETRY,
      });
      const a2a = await new ClientFactory({ transports: [transports] }).createFromAgentCard(card);

      // --- everything in flight at once ---
      const startedAt = Date.now();
      const mcpCalls = Array.from({ length: REQUESTS }, (_, index) =>
        tracked(
          settle(
            client.callTool({ name: 'slow-echo', arguments: { text: `call ${index}` } }, undefined, {
              timeout: MCP_CALL_TIMEOUT_MS,
            }),
          ),
        ),
      );
      const a2aRequests = Array.from({ length: REQUESTS }, (_, index) =>
        tracked(
          settle(
            a2a.sendMessage({
              tenant: '',
              message: userMessage(`request ${index}`, {
                messageId: `message-${index}-${globalThis.crypto.randomUUID()}`,
              }),
              configuration: undefined,
              metadata: undefined,
            }),
          ),
        ),
      );
      // Restart while both sides are busy: half of the work has reached the servers.
      await eventually(
        () => toolCalls >= REQUESTS / 2 && executor.started >= REQUESTS / 2,
        'half of the requests to reach the servers',
        60_000,
      );
      // Both sides really have work in flight when the broker goes away.
      const inFlight = { mcp: REQUESTS - settledCount(mcpCalls), a2a: REQUESTS - settledCount(a2aRequests) };
      expect(inFlight.mcp).toBeGreaterThan(0);
      expect(inFlight.a2a).toBeGreaterThan(0);
      await broker.stop();
      await delay(200);
      await broker.start();
      const restartedAt = Date.now();

      const mcpOutcomes = await Promise.all(mcpCalls);
      const a2aOutcomes = await Promise.all(a2aRequests);

      // MCP: every call resolved with its own echo, or rejected with a clear error, within its timeout.
      const mcpOk = mcpOutcomes.filter((outcome) => outcome.ok);
      const mcpFailed = mcpOutcomes.filter((outcome) => !outcome.ok);
      expect(mcpOk.length + mcpFailed.length).toBe(REQUESTS);
      mcpOutcomes.forEach((outcome, index) => {
        if (outcome.ok) expect(outcome.value?.content).toEqual([{ type: 'text', text: `call ${index}` }]);
        expect(outcome.settledAt - startedAt).toBeLessThanOrEqual(MCP_CALL_TIMEOUT_MS + 2_000);
      });
      for (const outcome of mcpFailed) {
        expect([ErrorCode.ConnectionClosed, ErrorCode.RequestTimeout]).toContain(
          (outcome.error as { code?: unknown }).code,
        );
      }
      // The session died with the connection: the calls still pending then failed at once, not at their timeout.
      expect(mcpFailed.length).toBeGreaterThan(0);
      for (const outcome of mcpFailed) expect(outcome.settledAt).toBeLessThan(restartedAt + 2_000);

      // A2A: every request ended exactly once; no message ran twice at the executor.
      const a2aOk = a2aOutcomes.filter((outcome) => outcome.ok);
      const a2aFailed = a2aOutcomes.filter((outcome) => !outcome.ok);
      expect(a2aOk.length + a2aFailed.length).toBe(REQUESTS);
      a2aOutcomes.forEach((outcome, index) => {
        expect(outcome.settledAt - startedAt).toBeLessThanOrEqual(A2A_BUDGET_MS + 5_000);
        if (!outcome.ok) return;
        const task = outcome.value as Task;
        expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
        expect(task.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'text', value: `request ${index}` });
      });
      for (const outcome of a2aFailed) {
        expect(outcome.error).toMatchObject({ code: expect.stringMatching(/^(REQUEST_TIMEOUT)$/) });
      }
      const duplicates = [...executor.runs.values()].filter((runs) => runs > 1).length;
      expect(duplicates).toBe(0);
      expect(executor.runs.size).toBeLessThanOrEqual(REQUESTS);
      // The broker was away far shorter than one reply timeout: retries carry every request through.
      expect(a2aOk.length).toBe(REQUESTS);

      console.info(
        `in flight at the restart: ${inFlight.mcp} MCP calls, ${inFlight.a2a} A2A requests; ` +
          `MCP ${mcpOk.length} answered, ${mcpFailed.length} failed; A2A ${a2aOk.length} answered, ` +
          `${executor.runs.size} executed`,
      );

      // Everyone came back by themselves: presence, card, subscriptions.
      await clients.waitForServer(serverName, { timeoutMs: 10_000 });
      await eventually(() => registry.get('worker')?.status === 'online', 'the agent card online again');
      expect(registry.get('worker')?.statusSource).toBe('agent');
      const again = new Client({ name: 'restart-again', version: '1.0.0' });
      await clients.connect(again, serverName, { waitTimeoutMs: 10_000 });
      expect((await again.callTool({ name: 'slow-echo', arguments: { text: 'back' } })).content).toEqual([
        { type: 'text', text: 'back' },
      ]);
      await again.close();
      const after = (await a2a.sendMessage({
        tenant: '',
        message: userMessage('after'),
        configuration: undefined,
        metadata: undefined,
      })) as Task;
      expect(after.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
      expect(agent.registered && !server.closed).toBe(true);
    } finally {
      await broker.close();
    }
  },
);
