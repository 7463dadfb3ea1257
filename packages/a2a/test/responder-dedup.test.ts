// Responder-side deduplication on (taskId, messageId): retries get the existing task state instead of a
// second execution; QoS 1 redeliveries of one publish are answered once.
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveA2AOverMqtt } from '../src/index.js';
import { TaskState } from '@a2a-js/sdk';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import {
  Counter,
  EchoExecutor,
  Gate,
  MessageExecutor,
  RawClient,
  hasCorrelation,
  newTask,
  rawRequest,
  sendMessageBody,
  statusUpdate,
  uniqueId,
} from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

async function setup(executor: AgentExecutor) {
  const org = uniqueId('org');
  const agent = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'dedup',
    card: { name: 'Dedup', capabilities: { streaming: true, extensions: [] } },
    executor,
  });
  const raw = await RawClient.connect(broker.url);
  const replyTopic = `$a2a/v1/reply/${org}/u/raw/${uniqueId('s')}`;
  await raw.subscribe(replyTopic);
  return {
    agent,
    raw,
    replyTopic,
    send: (body: unknown, correlation?: Buffer) =>
      rawRequest(raw, agent.requestTopic, body, {
        responseTopic: replyTopic,
        ...(correlation ? { correlation } : {}),
      }),
    reply: (correlation: Buffer, predicate: (json: Record<string, unknown>) => boolean = () => true) =>
      raw.next(
        (message) =>
          message.topic === replyTopic &&
          hasCorrelation(correlation)(message) &&
          predicate(message.json as Record<string, unknown>),
      ),
    replies: (correlation: Buffer) =>
      raw.all((message) => message.topic === replyTopic && hasCorrelation(correlation)(message)),
    async [Symbol.asyncDispose]() {
      await raw.close();
      await agent.close();
    },
  };
}

type TaskReply = { result: { task: { id: string; status: { state: string } } } };

describe('responder deduplication', () => {
  it('answers a retried SendMessage (same taskId and messageId, new correlation) with the existing task, executing once', async () => {
    const executor = new EchoExecutor();
    await using fixture = await setup(executor);
    const body = sendMessageBody('once only');
    const first = await fixture.send(body);
    const firstReply = (await fixture.reply(first)).json as TaskReply;
    expect(firstReply.result.task.status.state).toBe('TASK_STATE_COMPLETED');
    // Without dedup, the SDK would refuse a message for a completed task.
    const retry = await fixture.send(body);
    const retryReply = (await fixture.reply(retry)).json as TaskReply;
    expect(retryReply.result.task.id).toBe(firstReply.result.task.id);
    expect(retryReply.result.task.status.state).toBe('TASK_STATE_COMPLETED');
    expect(executor.executions.value).toBe(1);
  });

  it('holds a retry that arrives while the first attempt runs, then answers both with the same task', async () => {
    const gate = new Gate();
    const executor = new EchoExecutor({ gate });
    await using fixture = await setup(executor);
    const body = sendMessageBody('slow');
    const first = await fixture.send(body);
    await executor.executions.reached(1);
    const retry = await fixture.send(body);
    gate.open();
    const [a, b] = await Promise.all([fixture.reply(first), fixture.reply(retry)]);
    expect((a.json as TaskReply).result.task.id).toBe((b.json as TaskReply).result.task.id);
    expect((b.json as TaskReply).result.task.status.state).toBe('TASK_STATE_COMPLETED');
    expect(executor.executions.value).toBe(1);
  });

  it('attaches a streaming retry to the running task instead of starting it again', async () => {
    const gate = new Gate();
    const executor = new EchoExecutor({ gate });
    await using fixture = await setup(executor);
    const body = sendMessageBody('stream twice', {}, 'SendStreamingMessage');
    const first = await fixture.send(body);
    await fixture.reply(first);
    const retry = await fixture.send(body);
    // The retry first gets the task as it stands...
    const snapshot = (await fixture.reply(retry)).json as TaskReply;
    expect(snapshot.result.task.status.state).toBe('TASK_STATE_WORKING');
    gate.open();
    // ...then the rest of it, up to the final state, on its own correlation.
    const done = (json: Record<string, unknown>) =>
      (json.result as { statusUpdate?: { status?: { state?: string } } }).statusUpdate?.status?.state ===
      'TASK_STATE_COMPLETED';
    await fixture.reply(retry, done);
    await fixture.reply(first, done);
    expect(executor.executions.value).toBe(1);
  });

  it('ends a streaming retry of a message whose task now waits for input with the task and its status', async () => {
    const calls = new Counter();
    const asking: AgentExecutor = {
      async execute(context, bus) {
        calls.increment();
        bus.publish(AgentEvent.task(newTask(context)));
        bus.publish(
          AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_INPUT_REQUIRED, 'which one?')),
        );
        bus.finished();
      },
      async cancelTask() {},
    };
    await using fixture = await setup(asking);
    const body = sendMessageBody('ambiguous', {}, 'SendStreamingMessage');
    const first = await fixture.send(body);
    await fixture.reply(
      first,
      (json) => (json.result as { statusUpdate?: unknown }).statusUpdate !== undefined,
    );
    const retry = await fixture.send(body);
    const last = await fixture.reply(
      retry,
      (json) => (json.result as { statusUpdate?: unknown }).statusUpdate !== undefined,
    );
    expect(
      (last.json as { result: { statusUpdate: { status: { state: string } } } }).result.statusUpdate.status
        .state,
    ).toBe('TASK_STATE_INPUT_REQUIRED');
    expect(
      fixture.replies(retry).map((reply) => Object.keys((reply.json as { result: object }).result)[0]),
    ).toEqual(['task', 'statusUpdate']);
    expect(calls.value).toBe(1);
  });

  it('replays a Message answer to a retry', async () => {
    const executor = new MessageExecutor();
    const calls = new Counter();
    const counting = {
      execute: (...args: Parameters<MessageExecutor['execute']>) => (
        calls.increment(),
        executor.execute(...args)
      ),
      cancelTask: async () => {},
    };
    await using fixture = await setup(counting);
    const body = sendMessageBody('Ada');
    const first = (await fixture.reply(await fixture.send(body))).json as { result: { message: unknown } };
    const retry = (await fixture.reply(await fixture.send(body))).json as { result: { message: unknown } };
    expect(retry.result.message).toEqual(first.result.message);
    expect(calls.value).toBe(1);
  });

  it('answers a QoS 1 redelivery of the same publish (same correlation and payload) once', async () => {
    const executor = new EchoExecutor();
    await using fixture = await setup(executor);
    const body = sendMessageBody('dup');
    const correlation = Buffer.from(globalThis.crypto.randomUUID());
    await fixture.send(body, correlation);
    await fixture.send(body, correlation);
    await fixture.reply(correlation);
    // A later request on the same path is a barrier: a second answer to the duplicate would be there by now.
    const barrier = await fixture.send(sendMessageBody('barrier'));
    await fixture.reply(barrier);
    expect(fixture.replies(correlation)).toHaveLength(1);
    expect(executor.executions.value).toBe(2);
  });
});
