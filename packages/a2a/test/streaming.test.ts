// Streaming reply mapping: discrete items on the reply topic, stream end on terminal and interrupted
// states (INPUT_REQUIRED and AUTH_REQUIRED), one reply for non-streaming SendMessage, folding of a
// streamed SendMessage answer.
import { TaskState } from '@a2a-js/sdk';
import type { Message, StreamResponse, Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttTransportFactory, serveA2AOverMqtt } from '../src/index.js';
import type { MqttClientTransport } from '../src/index.js';
import {
  EchoExecutor,
  FakeResponder,
  Gate,
  MessageExecutor,
  RawClient,
  hasCorrelation,
  newTask,
  statusUpdate,
  taskJson,
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

/** task -> working -> AUTH_REQUIRED, then (after `resume`) completed. */
class AuthRequiredExecutor implements AgentExecutor {
  readonly resume = new Gate();
  readonly finished = new Gate();
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    bus.publish(AgentEvent.task(newTask(context)));
    bus.publish(AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_WORKING)));
    bus.publish(
      AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_AUTH_REQUIRED, 'please sign in')),
    );
    await this.resume.promise;
    bus.publish(
      AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_COMPLETED, 'signed in and done')),
    );
    bus.finished();
    this.finished.open();
  }
  async cancelTask(): Promise<void> {}
}

/** task -> INPUT_REQUIRED. */
class InputRequiredExecutor implements AgentExecutor {
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    bus.publish(AgentEvent.task(newTask(context)));
    bus.publish(
      AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_INPUT_REQUIRED, 'which city?')),
    );
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

async function setup(executor: AgentExecutor) {
  const org = uniqueId('org');
  const agent = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'streamer',
    card: { name: 'Streamer', capabilities: { streaming: true, extensions: [] } },
    executor,
  });
  const factory = mqttTransportFactory({ mqtt: { url: broker.url }, org, unit: 'u', agentId: 'requester' });
  const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(agent.card);
  const sniffer = await RawClient.connect(broker.url);
  await sniffer.subscribe(agent.requestTopic);
  await sniffer.subscribe(factory.replyTopic);
  return {
    org,
    agent,
    factory,
    client,
    sniffer,
    /** Replies published for the nth request seen on the request topic. */
    repliesTo(index: number) {
      const request = sniffer.all((message) => message.topic === agent.requestTopic)[index];
      if (!request) return [];
      const correlation = Buffer.from(request.packet.properties?.correlationData as Buffer);
      return sniffer.all(
        (message) => message.topic === factory.replyTopic && hasCorrelation(correlation)(message),
      );
    },
    async [Symbol.asyncDispose]() {
      await sniffer.close();
      await factory.close();
      await agent.close();
    },
  };
}

function stateOf(event: StreamResponse): TaskState | undefined {
  const payload = event.payload;
  if (payload?.$case === 'task') return payload.value.status?.state;
  if (payload?.$case === 'statusUpdate') return payload.value.status?.state;
  return undefined;
}

describe('streaming reply mapping', () => {
  it('publishes each stream item as a discrete message with the same correlation and ends at COMPLETED', async () => {
    await using fixture = await setup(new EchoExecutor());
    const events: StreamResponse[] = [];
    for await (const event of fixture.client.sendMessageStream({
      tenant: '',
      message: userMessage('go'),
      configuration: undefined,
      metadata: undefined,
    })) {
      events.push(event);
    }
    expect(events.map((event) => event.payload?.$case)).toEqual([
      'task',
      'statusUpdate',
      'artifactUpdate',
      'statusUpdate',
    ]);
    expect(stateOf(events.at(-1) as StreamResponse)).toBe(TaskState.TASK_STATE_COMPLETED);
    await expect.poll(() => fixture.repliesTo(0).length).toBe(4);
    expect(fixture.repliesTo(0).every((reply) => reply.packet.qos === 1)).toBe(true);
  });

  it.each([
    ['FAILED', TaskState.TASK_STATE_FAILED],
    ['CANCELED', TaskState.TASK_STATE_CANCELED],
    ['REJECTED', TaskState.TASK_STATE_REJECTED],
  ])('ends the stream at %s', async (_name, state) => {
    const ending: AgentExecutor = {
      async execute(context, bus) {
        bus.publish(AgentEvent.task(newTask(context)));
        bus.publish(AgentEvent.statusUpdate(statusUpdate(context, state)));
        bus.finished();
      },
      async cancelTask() {},
    };
    await using fixture = await setup(ending);
    const states: Array<TaskState | undefined> = [];
    for await (const event of fixture.client.sendMessageStream({
      tenant: '',
      message: userMessage('end'),
      configuration: undefined,
      metadata: undefined,
    })) {
      states.push(stateOf(event));
    }
    expect(states).toEqual([TaskState.TASK_STATE_SUBMITTED, state]);
  });

  it('ends the stream at FAILED when the executor throws', async () => {
    const failing: AgentExecutor = {
      async execute() {
        throw new Error('model unavailable');
      },
      async cancelTask() {},
    };
    await using fixture = await setup(failing);
    const states: Array<TaskState | undefined> = [];
    for await (const event of fixture.client.sendMessageStream({
      tenant: '',
      message: userMessage('boom'),
      configuration: undefined,
      metadata: undefined,
    })) {
      states.push(stateOf(event));
    }
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_FAILED);
  });

  it('ends the stream for the correlation on INPUT_REQUIRED', async () => {
    await using fixture = await setup(new InputRequiredExecutor());
    const states: Array<TaskState | undefined> = [];
    for await (const event of fixture.client.sendMessageStream({
      tenant: '',
      message: userMessage('weather'),
      configuration: undefined,
      metadata: undefined,
    })) {
      states.push(stateOf(event));
    }
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
  });

  it('ends the stream on AUTH_REQUIRED although the SDK keeps going, and still records what follows', async () => {
    const executor = new AuthRequiredExecutor();
    await using fixture = await setup(executor);
    const message = userMessage('secret stuff');
    const states: Array<TaskState | undefined> = [];
    // The loop ends while the executor is still parked after AUTH_REQUIRED: the stream is over for this correlation.
    for await (const event of fixture.client.sendMessageStream({
      tenant: '',
      message,
      configuration: undefined,
      metadata: undefined,
    })) {
      states.push(stateOf(event));
    }
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_AUTH_REQUIRED);
    const request = await fixture.sniffer.next((entry) => entry.topic === fixture.agent.requestTopic);
    const taskId = (request.json as { params: { message: { taskId: string } } }).params.message.taskId;
    executor.resume.open();
    await executor.finished.promise;
    // The agent keeps consuming (and persisting) the events after AUTH_REQUIRED without publishing them.
    await expect
      .poll(async () => (await fixture.client.getTask({ tenant: '', id: taskId })).status?.state)
      .toBe(TaskState.TASK_STATE_COMPLETED);
    expect(
      fixture.repliesTo(0).map((reply) => (reply.json as { result: Record<string, unknown> }).result),
    ).toHaveLength(3);
  });

  it('answers a non-streaming SendMessage with exactly one reply', async () => {
    await using fixture = await setup(new EchoExecutor());
    const result = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('once'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect(result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    // A GetTask round trip after it: any extra reply to the SendMessage would have arrived by now (same path, in order).
    await fixture.client.getTask({ tenant: '', id: result.id });
    expect(fixture.repliesTo(0)).toHaveLength(1);
  });

  it('ends the stream on a Message answer', async () => {
    await using fixture = await setup(new MessageExecutor());
    const events: StreamResponse[] = [];
    for await (const event of fixture.client.sendMessageStream({
      tenant: '',
      message: userMessage('Ada'),
      configuration: undefined,
      metadata: undefined,
    })) {
      events.push(event);
    }
    expect(events).toHaveLength(1);
    expect(textOf(events[0]?.payload?.value as Message)).toBe('hello Ada');
    const answer = await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('Bob'),
      configuration: undefined,
      metadata: undefined,
    });
    expect(textOf(answer as Message)).toBe('hello Bob');
  });

  it('drops byte-identical replies of one stream (QoS 1 redelivery), the first one included, and keeps the rest', async () => {
    const org = uniqueId('org');
    const requestTopic = `$a2a/v1/request/${org}/u/echoing`;
    await using responder = await FakeResponder.start(broker.url, requestTopic, async (request, fake) => {
      const { taskId, contextId } = request.body.params.message as { taskId: string; contextId: string };
      const submitted = { result: { task: taskJson(taskId, contextId, 'TASK_STATE_SUBMITTED') } };
      const working = {
        result: { statusUpdate: { taskId, contextId, status: { state: 'TASK_STATE_WORKING' } } },
      };
      const chunk = {
        result: {
          artifactUpdate: {
            taskId,
            contextId,
            append: true,
            artifact: { artifactId: 'a', parts: [{ text: 'x' }] },
          },
        },
      };
      const done = {
        result: { statusUpdate: { taskId, contextId, status: { state: 'TASK_STATE_COMPLETED' } } },
      };
      for (const body of [submitted, submitted, working, chunk, chunk, working, submitted, done]) {
        await fake.reply(request, body);
      }
    });
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'requester',
    });
    const transport = await factory.transportFor({ org, unit: 'u', agentId: 'echoing' });
    const items: StreamResponse[] = [];
    for await (const item of transport.sendMessageStream({
      tenant: '',
      message: userMessage('say it twice'),
      configuration: undefined,
      metadata: undefined,
    })) {
      items.push(item);
    }
    expect(items.map((item) => item.payload?.$case)).toEqual([
      'task',
      'statusUpdate',
      'artifactUpdate',
      'statusUpdate',
    ]);
    expect(responder.requests).toHaveLength(1);
  });

  it('accepts a streamed answer to a non-streaming SendMessage and folds it into the final task', async () => {
    const org = uniqueId('org');
    const requestTopic = `$a2a/v1/request/${org}/u/pythonic`;
    // Like EMQX's Python responder: every SendMessage is answered with a stream of updates.
    await using responder = await FakeResponder.start(broker.url, requestTopic, async (request, fake) => {
      const message = request.body.params.message as { taskId: string; contextId: string };
      const { taskId, contextId } = message;
      await fake.reply(request, { result: { task: taskJson(taskId, contextId, 'TASK_STATE_SUBMITTED') } });
      await fake.reply(request, {
        result: { statusUpdate: { taskId, contextId, status: { state: 'TASK_STATE_WORKING' } } },
      });
      await fake.reply(request, {
        result: {
          artifactUpdate: {
            taskId,
            contextId,
            artifact: { artifactId: 'a1', parts: [{ text: 'part one, ' }] },
          },
        },
      });
      await fake.reply(request, {
        result: {
          artifactUpdate: {
            taskId,
            contextId,
            append: true,
            artifact: { artifactId: 'a1', parts: [{ text: 'part two' }] },
          },
        },
      });
      await fake.reply(request, {
        result: {
          statusUpdate: {
            taskId,
            contextId,
            status: {
              state: 'TASK_STATE_COMPLETED',
              message: { messageId: 'm-done', role: 'ROLE_AGENT', parts: [{ text: 'done' }] },
            },
          },
        },
      });
    });
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'requester',
    });
    const transport: MqttClientTransport = await factory.transportFor({
      org,
      unit: 'u',
      agentId: 'pythonic',
    });
    const result = (await transport.sendMessage({
      tenant: '',
      message: userMessage('fold me'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect(result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(result.artifacts).toHaveLength(1);
    expect(
      result.artifacts[0]?.parts
        .map((part) => (part.content?.$case === 'text' ? part.content.value : ''))
        .join(''),
    ).toBe('part one, part two');
    expect(result.history.some((entry) => entry.messageId === 'm-done')).toBe(true);
    expect(responder.requests).toHaveLength(1);
  });
});
