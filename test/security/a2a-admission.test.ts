// Defect 9 (issue 12): a retry of a request the agent already holds (same taskId and messageId) is matched
// to it BEFORE admission control and gets the first attempt's answer; an error the requester sees means the
// task did not run, or says that it may have (`mayHaveRun`). Small admission limits keep the counts small.
// SDK-side: holds on every broker.
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { MqttAgentsError } from '@mqtt-agents/core';
import type { Logger } from '@mqtt-agents/core';
import { TaskState } from '@a2a-js/sdk';
import type { Task } from '@a2a-js/sdk';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import { MqttBindingError, mqttTransportFactory, serveA2AOverMqtt } from '@mqtt-agents/a2a';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle, userMessage } from '../reliability/helpers.js';
import { unique } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

/** Holds every task at `working` until the gate opens; records which messages ran. */
class GatedExecutor implements AgentExecutor {
  readonly ran = new Map<string, number>();
  #open!: () => void;
  readonly gate = new Promise<void>((resolve) => (this.#open = resolve));
  open(): void {
    this.#open();
  }
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const id = context.userMessage.messageId;
    this.ran.set(id, (this.ran.get(id) ?? 0) + 1);
    const status = (state: TaskState) => ({ state, message: undefined, timestamp: new Date().toISOString() });
    bus.publish(
      AgentEvent.task({
        id: context.taskId,
        contextId: context.contextId,
        status: status(TaskState.TASK_STATE_WORKING),
        artifacts: [],
        history: [context.userMessage],
        metadata: undefined,
      }),
    );
    await this.gate;
    bus.publish(
      AgentEvent.statusUpdate({
        taskId: context.taskId,
        contextId: context.contextId,
        status: status(TaskState.TASK_STATE_COMPLETED),
        metadata: undefined,
      }),
    );
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

/** A silent logger that resolves `seen` when a line matches `pattern`. */
function watchingLogger(pattern: RegExp): Logger & { seen: Promise<void> } {
  let resolve!: () => void;
  const seen = new Promise<void>((done) => (resolve = done));
  const write = (message: string) => {
    if (pattern.test(message)) resolve();
  };
  return { seen, debug: write, info: write, warn: write, error: write };
}

describe('A2A admission and retries (defect 9)', () => {
  it('matches retries of held requests before admission: every task that ran is reported as a success, refusals only for tasks that never ran', async () => {
    const org = unique('org');
    const executor = new GatedExecutor();
    // The agent says when it attached a retry to a request it holds (the fix); until then, or until every
    // requester has its answer, the executor stays blocked and the queue stays full.
    const logger = watchingLogger(/attached a retry/);
    await using _agent = await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'busy',
      card: { name: 'Busy' },
      executor,
      logger,
      limits: { maxConcurrentRequests: 1, maxQueuedRequests: 1 },
    });
    await using transports = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'requester',
      retry: { replyFirstTimeoutMs: 1_000, maxAttempts: 5, initialBackoffMs: 100 },
    });
    const transport = await transports.transportFor({ org, unit: 'u', agentId: 'busy' });
    const messages = Array.from({ length: 6 }, (_, index) => userMessage(`job ${index}`));
    const outcomes = Promise.all(
      messages.map((message) =>
        settle(transport.sendMessage({ tenant: '', message, configuration: undefined, metadata: undefined })),
      ),
    );
    await Promise.race([logger.seen, outcomes]);
    executor.open();
    const results = await outcomes;

    expect(executor.ran.size).toBeGreaterThan(0);
    results.forEach((outcome, index) => {
      const id = messages[index]!.messageId;
      if (executor.ran.has(id)) {
        // It ran: its requester must hear so.
        expect(outcome.error).toBeUndefined();
        expect((outcome.value as Task).status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
      } else {
        // It never ran: the only acceptable error is the agent's retryable refusal.
        expect(outcome.error).toBeInstanceOf(MqttBindingError);
        expect((outcome.error as MqttBindingError).kind).toBe('responder_unavailable');
      }
    });
    expect([...executor.ran.values()].every((runs) => runs === 1)).toBe(true);
  });

  it('says mayHaveRun on REQUEST_TIMEOUT after an attempt the agent accepted', async () => {
    const org = unique('org');
    const executor = new GatedExecutor();
    await using agent = await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'slow',
      card: { name: 'Slow' },
      executor,
    });
    await using transports = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'requester',
      retry: { replyFirstTimeoutMs: 300, maxAttempts: 2, initialBackoffMs: 20 },
    });
    const transport = await transports.transportFor({ org, unit: 'u', agentId: 'slow' });
    const message = userMessage('never done in time');
    const error = await transport
      .sendMessage({ tenant: '', message, configuration: undefined, metadata: undefined })
      .catch((caught: unknown) => caught);
    executor.open();
    expect(MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT')).toBe(true);
    expect((error as MqttAgentsError).details).toMatchObject({ mayHaveRun: true });
    expect(executor.ran.get(message.messageId)).toBe(1);
    expect(agent.requestTopic).toContain('/slow');
  });
});
