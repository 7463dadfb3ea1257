// Multi-turn conversation patterns: contextId continuity across tasks, continuing an input-required task
// with the same taskId, -32602 on a contextId that contradicts the task's, new contexts for unknown ids.
import { TaskState } from '@a2a-js/sdk';
import type { Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import { AgentEvent, InMemoryTaskStore } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttTransportFactory, serveA2AOverMqtt } from '../src/index.js';
import {
  Gate,
  RawClient,
  artifactUpdate,
  hasCorrelation,
  newTask,
  rawRequest,
  sendMessageBody,
  statusUpdate,
  textOf,
  uniqueId,
  userMessage,
} from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

/**
 * A trip planner. "plan" asks for a city (INPUT_REQUIRED); the follow-up message on the same task completes
 * it. "recall" answers with how many earlier tasks share its context (prior context is available).
 */
class PlannerExecutor implements AgentExecutor {
  readonly seenNewTask: boolean[] = [];
  constructor(
    private readonly store: InMemoryTaskStore,
    private readonly gates: Map<string, Gate> = new Map(),
  ) {}
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const text = textOf(context.userMessage);
    this.seenNewTask.push(context.task === undefined);
    bus.publish(AgentEvent.task(context.task ?? newTask(context)));
    if (text === 'plan') {
      bus.publish(
        AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_INPUT_REQUIRED, 'which city?')),
      );
    } else if (text === 'recall') {
      const earlier = await this.store.list(
        {
          tenant: '',
          contextId: context.contextId,
          status: TaskState.TASK_STATE_UNSPECIFIED,
          pageSize: 100,
          pageToken: '',
          statusTimestampAfter: undefined,
          historyLength: undefined,
          includeArtifacts: false,
        },
        context.context,
      );
      const others = earlier.tasks.filter((task) => task.id !== context.taskId).length;
      bus.publish(AgentEvent.artifactUpdate(artifactUpdate(context, `earlier tasks in context: ${others}`)));
      bus.publish(AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_COMPLETED)));
    } else {
      await this.gates.get(text)?.promise;
      bus.publish(AgentEvent.artifactUpdate(artifactUpdate(context, `trip to ${text}`)));
      bus.publish(AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_COMPLETED)));
    }
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

function artifactText(task: Task): string {
  const part = task.artifacts[0]?.parts[0]?.content;
  return part?.$case === 'text' ? part.value : '';
}

async function setup(gates?: Map<string, Gate>) {
  const org = uniqueId('org');
  const store = new InMemoryTaskStore();
  const executor = new PlannerExecutor(store, gates);
  const agent = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'planner',
    card: { name: 'Planner', capabilities: { streaming: true, extensions: [] } },
    executor,
    taskStore: store,
  });
  const factory = mqttTransportFactory({ mqtt: { url: broker.url }, org, unit: 'u', agentId: 'traveller' });
  const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(agent.card);
  const send = async (text: string, ids: { taskId?: string; contextId?: string } = {}) =>
    (await client.sendMessage({
      tenant: '',
      message: userMessage(text, ids),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
  return {
    agent,
    executor,
    client,
    send,
    async [Symbol.asyncDispose]() {
      await factory.close();
      await agent.close();
    },
  };
}

describe('multi-turn conversations', () => {
  it('starts a conversation with a requester-generated contextId and keeps it across follow-up tasks', async () => {
    await using fixture = await setup();
    const first = await fixture.send('Paris');
    expect(first.contextId).toMatch(/^[0-9a-f-]{36}$/);
    const second = await fixture.send('recall', { contextId: first.contextId });
    expect(second.id).not.toBe(first.id);
    expect(second.contextId).toBe(first.contextId);
    // The agent can use what happened earlier in the same context.
    expect(artifactText(second)).toBe('earlier tasks in context: 1');
  });

  it('continues an input-required task with the same taskId and a new message, on a new correlation', async () => {
    await using fixture = await setup();
    const asked = await fixture.send('plan');
    expect(asked.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    expect(textOf(asked.status?.message)).toBe('which city?');
    const done = await fixture.send('Lisbon', { taskId: asked.id, contextId: asked.contextId });
    expect(done.id).toBe(asked.id);
    expect(done.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(artifactText(done)).toBe('trip to Lisbon');
    // The first turn was new to the executor, the continuation was not.
    expect(fixture.executor.seenNewTask).toEqual([true, false]);
    expect(done.history.map((message) => textOf(message))).toEqual(
      expect.arrayContaining(['plan', 'Lisbon']),
    );
  });

  it('continues an input-required task over a stream: the stale snapshot opens the stream, the new state ends it', async () => {
    await using fixture = await setup();
    const asked = await fixture.send('plan');
    const states: Array<[string | undefined, TaskState | undefined]> = [];
    for await (const event of fixture.client.sendMessageStream({
      tenant: '',
      message: userMessage('Porto', { taskId: asked.id, contextId: asked.contextId }),
      configuration: undefined,
      metadata: undefined,
    })) {
      const payload = event.payload;
      const state =
        payload?.$case === 'task' || payload?.$case === 'statusUpdate'
          ? payload.value.status?.state
          : undefined;
      states.push([payload?.$case, state]);
    }
    expect(states[0]).toEqual(['task', TaskState.TASK_STATE_INPUT_REQUIRED]);
    expect(states.at(-1)).toEqual(['statusUpdate', TaskState.TASK_STATE_COMPLETED]);
  });

  it('ends SubscribeToTask on an input-required task with its status instead of holding the stream open', async () => {
    await using fixture = await setup();
    const asked = await fixture.send('plan');
    const events = [];
    for await (const event of fixture.client.resubscribeTask({ tenant: '', id: asked.id }))
      events.push(event);
    expect(events.map((event) => event.payload?.$case)).toEqual(['task', 'statusUpdate']);
    const last = events[1]?.payload;
    expect(last?.$case === 'statusUpdate' && last.value.status?.state).toBe(
      TaskState.TASK_STATE_INPUT_REQUIRED,
    );
  });

  it('rejects a contextId that contradicts the stored task with -32602 (invalid params)', async () => {
    await using fixture = await setup();
    const asked = await fixture.send('plan');
    const error = await fixture
      .send('Rome', { taskId: asked.id, contextId: globalThis.crypto.randomUUID() })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RequestMalformedError);
    expect((error as { envelopeCode?: number }).envelopeCode).toBe(-32602);
    expect((error as Error).message).toMatch(/contextId mismatch/);
    // The task is untouched and can still be continued properly.
    const done = await fixture.send('Rome', { taskId: asked.id, contextId: asked.contextId });
    expect(done.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
  });

  it('treats an unknown contextId as the start of a new context', async () => {
    await using fixture = await setup();
    const contextId = globalThis.crypto.randomUUID();
    const task = await fixture.send('recall', { contextId });
    expect(task.contextId).toBe(contextId);
    expect(artifactText(task)).toBe('earlier tasks in context: 0');
  });

  it('runs concurrent tasks of one context independently, each on its own correlation', async () => {
    const gates = new Map([['Oslo', new Gate()]]);
    await using fixture = await setup(gates);
    const first = await fixture.send('Madrid');
    const slow = fixture.send('Oslo', { contextId: first.contextId });
    const fast = await fixture.send('Berlin', { contextId: first.contextId });
    expect(artifactText(fast)).toBe('trip to Berlin');
    gates.get('Oslo')?.open();
    const slowTask = await slow;
    expect(artifactText(slowTask)).toBe('trip to Oslo');
    expect(new Set([first.id, fast.id, slowTask.id]).size).toBe(3);
    expect(new Set([first.contextId, fast.contextId, slowTask.contextId]).size).toBe(1);
  });

  it('rejects an a2a-context-id user property that contradicts message.contextId as transport_protocol_error', async () => {
    await using fixture = await setup();
    await using raw = await RawClient.connect(broker.url);
    const replyTopic = `$a2a/v1/reply/${uniqueId('o')}/u/raw/s`;
    await raw.subscribe(replyTopic);
    const contextId = globalThis.crypto.randomUUID();
    const correlation = await rawRequest(
      raw,
      fixture.agent.requestTopic,
      sendMessageBody('Paris', { contextId }),
      {
        responseTopic: replyTopic,
        properties: { userProperties: { 'a2a-context-id': globalThis.crypto.randomUUID() } },
      },
    );
    const reply = await raw.next(hasCorrelation(correlation));
    expect(reply.json).toMatchObject({
      error: { code: -32005, data: [{ a2a_error: 'transport_protocol_error' }] },
    });
  });
});
