// Every A2A v1.0 operation over MQTT: SendMessage, SendStreamingMessage, GetTask, ListTasks, CancelTask,
// SubscribeToTask, the push notification config methods and GetExtendedAgentCard, through the SDK's Client.
import { TaskState } from '@a2a-js/sdk';
import type { AgentCard, StreamResponse, Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { TaskNotFoundError } from '@a2a-js/sdk/errors';
import { InMemoryPushNotificationStore } from '@a2a-js/sdk/server';
import type { PushNotificationSender } from '@a2a-js/sdk/server';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { A2A_METHODS, buildAgentCard, mqttTransportFactory, serveA2AOverMqtt } from '../src/index.js';
import { EchoExecutor, Gate, uniqueId, userMessage } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

async function setup() {
  const org = uniqueId('org');
  const gate = new Gate();
  const executor = new EchoExecutor({ gate });
  const pushed: unknown[] = [];
  const sender: PushNotificationSender = { send: async (response) => void pushed.push(response) };
  const extended: AgentCard = buildAgentCard(
    { name: 'Ops (extended)', description: 'secret skills' },
    { brokerUrl: broker.url, org, unit: 'u' },
  );
  const agent = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'ops',
    card: {
      name: 'Ops',
      capabilities: { streaming: true, pushNotifications: true, extendedAgentCard: true, extensions: [] },
    },
    executor,
    pushNotificationStore: new InMemoryPushNotificationStore(),
    pushNotificationSender: sender,
    extendedAgentCard: async () => extended,
  });
  const factory = mqttTransportFactory({ mqtt: { url: broker.url }, org, unit: 'u', agentId: 'caller' });
  const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(agent.card);
  return {
    org,
    agent,
    executor,
    gate,
    client,
    async [Symbol.asyncDispose]() {
      gate.open();
      await factory.close();
      await agent.close();
    },
  };
}

describe('A2A operations over MQTT', () => {
  it('lists every A2A v1.0 JSON-RPC method', () => {
    expect([...A2A_METHODS].sort()).toEqual(
      [
        'CancelTask',
        'CreateTaskPushNotificationConfig',
        'DeleteTaskPushNotificationConfig',
        'GetExtendedAgentCard',
        'GetTask',
        'GetTaskPushNotificationConfig',
        'ListTaskPushNotificationConfigs',
        'ListTasks',
        'SendMessage',
        'SendStreamingMessage',
        'SubscribeToTask',
      ].sort(),
    );
  });

  it('SendMessage with returnImmediately, GetTask, SubscribeToTask and ListTasks follow one task', async () => {
    await using fixture = await setup();
    const contextId = globalThis.crypto.randomUUID();
    const submitted = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('long job', { contextId }),
      configuration: {
        acceptedOutputModes: [],
        taskPushNotificationConfig: undefined,
        returnImmediately: true,
      },
      metadata: undefined,
    })) as Task;
    expect(submitted.contextId).toBe(contextId);
    const current = await fixture.client.getTask({ tenant: '', id: submitted.id });
    expect(current.id).toBe(submitted.id);
    expect(current.status?.state).toBe(TaskState.TASK_STATE_WORKING);

    const subscribed: StreamResponse[] = [];
    const subscription = (async () => {
      for await (const event of fixture.client.resubscribeTask({ tenant: '', id: submitted.id })) {
        subscribed.push(event);
        if (subscribed.length === 1) fixture.gate.open();
      }
    })();
    await subscription;
    expect(subscribed[0]?.payload?.$case).toBe('task');
    const last = subscribed.at(-1)?.payload;
    expect(last?.$case === 'statusUpdate' && last.value.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);

    const listed = await fixture.client.listTasks({
      tenant: '',
      contextId,
      status: TaskState.TASK_STATE_UNSPECIFIED,
      pageSize: 10,
      pageToken: '',
      statusTimestampAfter: undefined,
      includeArtifacts: true,
    });
    expect(listed.tasks.map((task) => task.id)).toEqual([submitted.id]);
    expect(listed.tasks[0]?.artifacts).toHaveLength(1);
  });

  it('CancelTask cancels a running task, and GetTask of an unknown id is TaskNotFound', async () => {
    await using fixture = await setup();
    const submitted = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('cancel me'),
      configuration: {
        acceptedOutputModes: [],
        taskPushNotificationConfig: undefined,
        returnImmediately: true,
      },
      metadata: undefined,
    })) as Task;
    const canceled = await fixture.client.cancelTask({ tenant: '', id: submitted.id, metadata: undefined });
    expect(canceled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    await expect(
      fixture.client.getTask({ tenant: '', id: globalThis.crypto.randomUUID() }),
    ).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  it('push notification config methods: create, get, list, delete', async () => {
    await using fixture = await setup();
    fixture.gate.open();
    const task = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('notify'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    const config = {
      tenant: '',
      id: 'hook-1',
      taskId: task.id,
      url: 'https://example.invalid/hook',
      token: 'opaque',
      authentication: undefined,
    };
    const created = await fixture.client.createTaskPushNotificationConfig(config);
    expect(created.id).toBe('hook-1');
    const fetched = await fixture.client.getTaskPushNotificationConfig({
      tenant: '',
      taskId: task.id,
      id: 'hook-1',
    });
    expect(fetched.url).toBe('https://example.invalid/hook');
    const list = await fixture.client.listTaskPushNotificationConfig({
      tenant: '',
      taskId: task.id,
      pageSize: 10,
      pageToken: '',
    });
    expect(list.configs.map((entry) => entry.id)).toEqual(['hook-1']);
    await fixture.client.deleteTaskPushNotificationConfig({ tenant: '', taskId: task.id, id: 'hook-1' });
    const after = await fixture.client.listTaskPushNotificationConfig({
      tenant: '',
      taskId: task.id,
      pageSize: 10,
      pageToken: '',
    });
    expect(after.configs).toEqual([]);
  });

  it('GetExtendedAgentCard returns the extended card', async () => {
    await using fixture = await setup();
    const card = await fixture.client.getAgentCard();
    expect(card.name).toBe('Ops (extended)');
    expect(card.description).toBe('secret skills');
  });
});
