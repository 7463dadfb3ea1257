// Task handover (Extended): a card-owning agent delegates a task to another instance by naming it in
// `a2a-responder-agent-id`; requesters send the task's next operations there, honour the most recent value,
// keep routing to the card's agent without one, and fall back to it when the delegate stays silent.
import { TaskState } from '@a2a-js/sdk';
import type { Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { AgentEvent, InMemoryTaskStore } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext, TaskStore } from '@a2a-js/sdk/server';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { a2aRequestTopic } from '@mqtt-agents/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handOverTask, mqttTransportFactory, serveA2AOverMqtt } from '../src/index.js';
import {
  Gate,
  RawClient,
  artifactUpdate,
  newTask,
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
 * The card agent: "start" creates the task, hands it over to each id of `handTo` in turn (between status
 * updates) and asks for input. Anything else is answered here.
 */
class FrontExecutor implements AgentExecutor {
  readonly served: string[] = [];
  /** Opened by the test once it saw the status update of a handover: the next one waits for it. */
  readonly seen = new Map<string, Gate>();
  constructor(readonly handTo: string[]) {
    for (const agentId of handTo) this.seen.set(agentId, new Gate());
  }
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    this.served.push(textOf(context.userMessage));
    bus.publish(AgentEvent.task(context.task ?? newTask(context)));
    if (textOf(context.userMessage) !== 'start') {
      bus.publish(AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_COMPLETED, 'front')));
      bus.finished();
      return;
    }
    for (const [index, agentId] of this.handTo.entries()) {
      if (index > 0) await this.seen.get(this.handTo[index - 1] as string)?.promise;
      handOverTask(context, agentId);
      bus.publish(AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_WORKING, agentId)));
    }
    bus.publish(AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_INPUT_REQUIRED, 'go on')));
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

/** A spawned instance: completes whatever task it gets, saying who it is. */
class InstanceExecutor implements AgentExecutor {
  readonly served: Array<{ taskId: string; existing: boolean }> = [];
  constructor(readonly id: string) {}
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    this.served.push({ taskId: context.taskId, existing: context.task !== undefined });
    bus.publish(AgentEvent.task(context.task ?? newTask(context)));
    bus.publish(AgentEvent.artifactUpdate(artifactUpdate(context, `done by ${this.id}`)));
    bus.publish(AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_COMPLETED, this.id)));
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

async function setup(handTo: string[], instances: string[], requesterOptions: object = {}) {
  const org = uniqueId('org');
  const store: TaskStore = new InMemoryTaskStore(); // the card agent and its instances share their tasks
  const front = new FrontExecutor(handTo);
  const card = { name: 'Front', capabilities: { streaming: true, extensions: [] } };
  const frontAgent = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'front',
    card,
    executor: front,
    taskStore: store,
  });
  const spawned = await Promise.all(
    instances.map(async (id) => {
      const executor = new InstanceExecutor(id);
      const agent = await serveA2AOverMqtt({
        mqtt: { url: broker.url },
        org,
        unit: 'u',
        agentId: id,
        card,
        executor,
        taskStore: store,
        publishCard: false,
      });
      return { id, executor, agent };
    }),
  );
  const sniffer = await RawClient.connect(broker.url);
  await sniffer.subscribe(`$a2a/v1/request/${org}/u/#`);
  await sniffer.subscribe(`$a2a/v1/reply/${org}/u/#`);
  const factory = mqttTransportFactory({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'requester',
    ...requesterOptions,
  });
  const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(frontAgent.card);
  const to = (agentId: string) => (message: { topic: string }) =>
    message.topic === a2aRequestTopic({ orgId: org, unitId: 'u', agentId });
  const requestsTo = (agentId: string) => sniffer.all(to(agentId));
  /** The requests the sniffer saw to `agentId`, once there are `count` of them. */
  const seenRequestsTo = (agentId: string, count: number) => sniffer.nextCount(to(agentId), count);
  return {
    org,
    front,
    frontAgent,
    spawned,
    sniffer,
    factory,
    client,
    requestsTo,
    seenRequestsTo,
    async [Symbol.asyncDispose]() {
      await factory.close();
      await sniffer.close();
      await Promise.all([frontAgent.close(), ...spawned.map((entry) => entry.agent.close())]);
    },
  };
}

describe('task handover', { concurrent: true }, () => {
  it('sends the next turn of a handed-over task to the delegate: same task id, new correlation', async () => {
    await using fixture = await setup(['worker-1'], ['worker-1']);
    const task = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('start'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    const done = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('more', { taskId: task.id, contextId: task.contextId }),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect(done.id).toBe(task.id);
    expect(done.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(done.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'text', value: 'done by worker-1' });
    expect(fixture.front.served).toEqual(['start']);
    expect(fixture.spawned[0]?.executor.served).toEqual([{ taskId: task.id, existing: true }]);
    const [toFront] = await fixture.seenRequestsTo('front', 1);
    const [toWorker] = await fixture.seenRequestsTo('worker-1', 1);
    expect(JSON.stringify(toWorker?.json)).toContain(task.id);
    expect(
      Buffer.compare(
        Buffer.from(toFront?.packet.properties?.correlationData as Buffer),
        Buffer.from(toWorker?.packet.properties?.correlationData as Buffer),
      ),
    ).not.toBe(0);
    // GetTask follows the handover too.
    expect((await fixture.client.getTask({ tenant: '', id: task.id })).status?.state).toBe(
      TaskState.TASK_STATE_COMPLETED,
    );
    await fixture.seenRequestsTo('worker-1', 2);
    expect(fixture.requestsTo('front')).toHaveLength(1);
  });

  it('honours the most recent a2a-responder-agent-id of a stream with several handovers', async () => {
    await using fixture = await setup(['worker-1', 'worker-2'], ['worker-1', 'worker-2']);
    const items = [];
    let taskId = '';
    let contextId = '';
    for await (const item of fixture.client.sendMessageStream({
      tenant: '',
      message: userMessage('start'),
      configuration: undefined,
      metadata: undefined,
    })) {
      items.push(item);
      if (item.payload?.$case === 'statusUpdate') {
        fixture.front.seen.get(textOf(item.payload.value.status?.message))?.open();
      }
      if (item.payload?.$case === 'task') {
        taskId = item.payload.value.id;
        contextId = item.payload.value.contextId;
      }
    }
    expect(items.at(-1)?.payload?.$case).toBe('statusUpdate');
    const replies = await fixture.sniffer.nextCount(
      (message) => message.topic === fixture.factory.replyTopic,
      items.length,
    );
    const handovers = replies.map(
      (message) => message.packet.properties?.userProperties?.['a2a-responder-agent-id'],
    );
    expect(handovers.at(-1)).toBe('worker-2');
    expect(handovers).toContain('worker-1');
    expect((await fixture.factory.taskRoutes.get(taskId))?.agentId).toBe('worker-2');
    const done = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('more', { taskId, contextId }),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect(done.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'text', value: 'done by worker-2' });
    expect(fixture.spawned[0]?.executor.served).toEqual([]);
    await fixture.seenRequestsTo('worker-2', 1);
    expect(fixture.requestsTo('worker-1')).toHaveLength(0);
  });

  it('keeps routing to the card agent when replies name no other responder', async () => {
    await using fixture = await setup([], []);
    const task = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('start'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('more', { taskId: task.id, contextId: task.contextId }),
      configuration: undefined,
      metadata: undefined,
    });
    expect(fixture.front.served).toEqual(['start', 'more']);
    expect(await fixture.factory.taskRoutes.get(task.id)).toBeUndefined();
    const replies = await fixture.sniffer.nextCount(
      (message) => message.topic === fixture.factory.replyTopic,
      2,
    );
    expect(
      replies.every(
        (reply) => reply.packet.properties?.userProperties?.['a2a-responder-agent-id'] === undefined,
      ),
    ).toBe(true);
  });

  it('hands a task over from outside the executor, and back to the card agent', async () => {
    await using fixture = await setup([], ['worker-1']);
    const task = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('start'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    fixture.frontAgent.handOver(task.id, 'worker-1');
    await fixture.client.getTask({ tenant: '', id: task.id }); // answered by front, naming worker-1
    expect((await fixture.factory.taskRoutes.get(task.id))?.agentId).toBe('worker-1');
    fixture.spawned[0]?.agent.handOver(task.id, 'front');
    await fixture.client.getTask({ tenant: '', id: task.id }); // answered by worker-1, naming front
    expect((await fixture.factory.taskRoutes.get(task.id))?.agentId).toBe('front');
    await fixture.seenRequestsTo('front', 2);
    await fixture.seenRequestsTo('worker-1', 1);
    expect(fixture.requestsTo('front')).toHaveLength(2);
    expect(fixture.requestsTo('worker-1')).toHaveLength(1);
  });

  it('falls back to the card agent when the delegate does not answer within all attempts', async () => {
    await using fixture = await setup(['vanished'], [], {
      retry: { replyFirstTimeoutMs: 250, maxAttempts: 2, initialBackoffMs: 10 },
    });
    const task = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('start'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect((await fixture.factory.taskRoutes.get(task.id))?.agentId).toBe('vanished');
    const fetched = await fixture.client.getTask({ tenant: '', id: task.id });
    expect(fetched.id).toBe(task.id);
    await fixture.seenRequestsTo('front', 2); // the first turn and the fallback
    expect(fixture.requestsTo('vanished')).toHaveLength(2);
    expect(fixture.requestsTo('front')).toHaveLength(2);
  });
});
