// Shared pool dispatch (Extended): agents serve `$share/{group}/$a2a/v1/request/{org}/{unit}/pool/{pool}`,
// requesters publish to the pool topic, require `a2a-responder-agent-id` on pooled replies, remember
// (taskId -> responder) and send follow-ups and their retries to the responder's direct topic.
//
// Mosquitto 2.x grants `$share` subscriptions on `$`-topics but delivers nothing to them: tests that need the
// broker to deliver to a pool member are expected failures there (itFailsOn('mosquitto')).
import { TaskState } from '@a2a-js/sdk';
import type { Task } from '@a2a-js/sdk';
import { AgentEvent, InMemoryTaskStore } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import {
  MqttAgentsError,
  a2aPoolRequestTopic,
  a2aRequestTopic,
  deriveA2aPoolGroupId,
} from '@mqtt-agents/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttTransportFactory, serveA2AOverMqtt } from '../src/index.js';
import type { A2AMqttAgent } from '../src/index.js';
import {
  FakeResponder,
  RawClient,
  artifactUpdate,
  hasCorrelation,
  itFailsOn,
  newTask,
  rawRequest,
  sendMessageBody,
  statusUpdate,
  taskJson,
  textOf,
  uniqueId,
  userMessage,
  within,
} from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

/** "ask" -> INPUT_REQUIRED; the next message on the task completes it, saying which member served it. */
class MemberExecutor implements AgentExecutor {
  readonly served: Array<{ taskId: string; text: string }> = [];
  constructor(readonly memberId: string) {}
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const text = textOf(context.userMessage);
    this.served.push({ taskId: context.taskId, text });
    bus.publish(AgentEvent.task(context.task ?? newTask(context)));
    if (text === 'ask') {
      bus.publish(
        AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_INPUT_REQUIRED, 'go on')),
      );
    } else {
      bus.publish(AgentEvent.artifactUpdate(artifactUpdate(context, `served by ${this.memberId}`)));
      bus.publish(AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_COMPLETED, 'done')));
    }
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

async function pool(org: string, size: number) {
  const members: Array<{ agent: A2AMqttAgent; executor: MemberExecutor }> = [];
  for (let index = 0; index < size; index++) {
    const agentId = `member-${index}`;
    const executor = new MemberExecutor(agentId);
    const agent = await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId,
      card: { name: 'Worker', capabilities: { streaming: true, extensions: [] } },
      executor,
      taskStore: new InMemoryTaskStore(), // members share nothing: a follow-up elsewhere would fail
      pools: ['workers'],
    });
    members.push({ agent, executor });
  }
  return {
    members,
    async [Symbol.asyncDispose]() {
      await Promise.all(members.map((member) => member.agent.close()));
    },
  };
}

describe('shared pool dispatch', { concurrent: true }, () => {
  itFailsOn('mosquitto')(
    'spreads pooled requests over three members and sends every follow-up of a task to the member that took it',
    async () => {
      const org = uniqueId('org');
      await using members = await pool(org, 3);
      await using sniffer = await RawClient.connect(broker.url);
      await sniffer.subscribe(`$a2a/v1/request/${org}/u/#`);
      await using factory = mqttTransportFactory({
        mqtt: { url: broker.url },
        org,
        unit: 'u',
        agentId: 'requester',
        // Mosquitto delivers nothing to the pool: fail fast there instead of after the profile's 3 x 15 s.
        retry: { replyFirstTimeoutMs: 3_000, maxAttempts: 1 },
      });
      const transport = await factory.transportFor({ org, unit: 'u', poolId: 'workers' });
      expect(transport.requestTopic).toBe(
        a2aPoolRequestTopic({ orgId: org, unitId: 'u', poolId: 'workers' }),
      );

      const tasks: Task[] = [];
      for (let index = 0; index < 9; index++) {
        const answer = await transport.sendMessage({
          tenant: '',
          message: userMessage('ask'),
          configuration: undefined,
          metadata: undefined,
        });
        tasks.push(answer as Task);
      }
      const load = members.members.map((member) => member.executor.served.length);
      expect(load.reduce((sum, count) => sum + count, 0)).toBe(9);
      expect(load.every((count) => count >= 1)).toBe(true);
      if (broker.kind === 'embedded') expect(load).toEqual([3, 3, 3]); // the embedded broker round-robins

      const ownerOf = (taskId: string): string =>
        members.members.find((member) => member.executor.served.some((entry) => entry.taskId === taskId))
          ?.agent.agentId ?? 'nobody';
      for (const task of tasks) {
        expect(task.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
        const owner = ownerOf(task.id);
        expect((await factory.taskRoutes.get(task.id))?.agentId).toBe(owner);
        // GetTask only works on the member holding the task (stores are not shared).
        expect((await transport.getTask({ tenant: '', id: task.id })).id).toBe(task.id);
        const done = (await transport.sendMessage({
          tenant: '',
          message: userMessage('go', { taskId: task.id, contextId: task.contextId }),
          configuration: undefined,
          metadata: undefined,
        })) as Task;
        expect(done.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
        expect(done.artifacts[0]?.parts[0]?.content).toEqual({ $case: 'text', value: `served by ${owner}` });
      }
      // Nine publications to the pool topic, every follow-up on a member's direct topic.
      const poolTopic = transport.requestTopic;
      expect(sniffer.all((message) => message.topic === poolTopic)).toHaveLength(9);
      for (const task of tasks) {
        const direct = a2aRequestTopic({ orgId: org, unitId: 'u', agentId: ownerOf(task.id) });
        const followUps = sniffer.all(
          (message) =>
            message.topic === direct &&
            JSON.stringify(message.json).includes(task.id) &&
            message.topic !== poolTopic,
        );
        expect(followUps).toHaveLength(2); // GetTask and the second turn
      }
    },
  );

  itFailsOn('mosquitto')(
    'members subscribe with the deterministic group id and name themselves in a2a-responder-agent-id on every pooled reply only',
    async () => {
      const org = uniqueId('org');
      await using members = await pool(org, 2);
      const group = deriveA2aPoolGroupId({ orgId: org, unitId: 'u', poolId: 'workers' });
      expect(group).toBe(`a2a.${org}.u.workers`.replace(/[^A-Za-z0-9._]/g, '_'));
      for (const { agent } of members.members) {
        expect(agent.poolSubscriptions).toEqual([`$share/${group}/$a2a/v1/request/${org}/u/pool/workers`]);
        if (broker.broker) {
          expect(broker.broker.getSubscriptions(agent.clientId).map((entry) => entry.topicFilter)).toContain(
            agent.poolSubscriptions[0],
          );
        }
      }
      await using raw = await RawClient.connect(broker.url);
      const replyTopic = `$a2a/v1/reply/${org}/u/raw/${uniqueId('s')}`;
      await raw.subscribe(replyTopic);
      const poolTopic = a2aPoolRequestTopic({ orgId: org, unitId: 'u', poolId: 'workers' });
      const streamed = await rawRequest(raw, poolTopic, sendMessageBody('go', {}, 'SendStreamingMessage'), {
        responseTopic: replyTopic,
      });
      const last = await within(
        raw.next(
          (message) =>
            hasCorrelation(streamed)(message) &&
            JSON.stringify(message.json).includes('TASK_STATE_COMPLETED') &&
            JSON.stringify(message.json).includes('statusUpdate'),
        ),
        3_000,
        'the end of the pooled stream',
      );
      const items = raw.all(hasCorrelation(streamed));
      expect(items.length).toBeGreaterThanOrEqual(3);
      const responder = last.packet.properties?.userProperties?.['a2a-responder-agent-id'];
      expect(['member-0', 'member-1']).toContain(responder);
      for (const item of items) {
        expect(item.packet.properties?.userProperties?.['a2a-responder-agent-id']).toBe(responder);
      }
      // A direct request to the same member: no responder id (nothing to learn).
      const direct = await rawRequest(
        raw,
        a2aRequestTopic({ orgId: org, unitId: 'u', agentId: responder as string }),
        sendMessageBody('go'),
        { responseTopic: replyTopic },
      );
      const answer = await raw.next(hasCorrelation(direct));
      expect(answer.packet.properties?.userProperties?.['a2a-responder-agent-id']).toBeUndefined();
    },
  );

  it('treats a pooled reply without a2a-responder-agent-id as a protocol error', async () => {
    const org = uniqueId('org');
    const poolTopic = a2aPoolRequestTopic({ orgId: org, unitId: 'u', poolId: 'workers' });
    // A member that forgets to name itself (subscribed without $share, so every broker delivers).
    await using member = await FakeResponder.start(broker.url, poolTopic, async (request, responder) => {
      const message = request.body.params.message as { taskId: string; contextId?: string };
      await responder.reply(request, {
        result: { task: taskJson(message.taskId, message.contextId ?? 'c', 'TASK_STATE_COMPLETED') },
      });
    });
    await using factory = mqttTransportFactory({ mqtt: { url: broker.url }, org, unit: 'u', agentId: 'req' });
    const transport = await factory.transportFor({ org, unit: 'u', poolId: 'workers' });
    const failure = await transport
      .sendMessage({ tenant: '', message: userMessage('hi'), configuration: undefined, metadata: undefined })
      .catch((error: unknown) => error);
    expect(MqttAgentsError.hasCode(failure, 'PROTOCOL_ERROR')).toBe(true);
    expect((failure as Error).message).toMatch(/a2a-responder-agent-id/);
    expect(member.requests).toHaveLength(1); // a protocol error is not retried
  });

  it('retries to the pool topic until a member answered, then sends follow-ups and their retries to that member', async () => {
    const org = uniqueId('org');
    const poolTopic = a2aPoolRequestTopic({ orgId: org, unitId: 'u', poolId: 'workers' });
    const directTopic = a2aRequestTopic({ orgId: org, unitId: 'u', agentId: 'member-7' });
    let poolCalls = 0;
    // Drops the first pooled request (as if the member that got it crashed), answers the retry.
    await using poolMember = await FakeResponder.start(broker.url, poolTopic, async (request, responder) => {
      poolCalls++;
      if (poolCalls === 1) return;
      const message = request.body.params.message as { taskId: string; contextId?: string };
      await responder.raw.publish(
        request.responseTopic,
        JSON.stringify({
          jsonrpc: '2.0',
          id: request.body.id,
          result: { task: taskJson(message.taskId, message.contextId ?? 'c', 'TASK_STATE_INPUT_REQUIRED') },
        }),
        {
          properties: {
            correlationData: request.correlation,
            userProperties: { 'a2a-responder-agent-id': 'member-7' },
          },
        },
      );
    });
    let directCalls = 0;
    // The member's direct topic: drops the first GetTask, answers the retry.
    await using direct = await FakeResponder.start(broker.url, directTopic, async (request, responder) => {
      directCalls++;
      if (directCalls === 1) return;
      await responder.reply(request, {
        result: taskJson(request.body.params.id as string, 'c', 'TASK_STATE_INPUT_REQUIRED'),
      });
    });
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'req',
      retry: { replyFirstTimeoutMs: 300, initialBackoffMs: 10 },
    });
    const transport = await factory.transportFor({ org, unit: 'u', poolId: 'workers' });
    const task = (await transport.sendMessage({
      tenant: '',
      message: userMessage('hi'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect(poolMember.requests).toHaveLength(2);
    const [first, second] = poolMember.requests;
    expect(Buffer.compare(first?.correlation as Buffer, second?.correlation as Buffer)).not.toBe(0);
    expect((second?.body.params.message as { taskId: string }).taskId).toBe(task.id);
    expect(await factory.taskRoutes.get(task.id)).toEqual({ org, unit: 'u', agentId: 'member-7' });

    const fetched = await transport.getTask({ tenant: '', id: task.id });
    expect(fetched.id).toBe(task.id);
    expect(direct.requests.map((request) => request.body.method)).toEqual(['GetTask', 'GetTask']);
    expect(poolMember.requests).toHaveLength(2); // nothing more went to the pool
  });

  it('keeps the route of a pooled task in a store the user provides', async () => {
    const org = uniqueId('org');
    const routes = new Map<string, { org: string; unit: string; agentId: string }>();
    const store = {
      get: async (taskId: string) => routes.get(taskId),
      set: async (taskId: string, responder: { org: string; unit: string; agentId: string }) => {
        routes.set(taskId, responder);
      },
      delete: async (taskId: string) => {
        routes.delete(taskId);
      },
    };
    const taskId = globalThis.crypto.randomUUID();
    routes.set(taskId, { org, unit: 'u', agentId: 'member-3' }); // learnt before a restart
    await using member = await FakeResponder.start(
      broker.url,
      a2aRequestTopic({ orgId: org, unitId: 'u', agentId: 'member-3' }),
      async (request, responder) => {
        await responder.reply(request, { result: taskJson(taskId, 'c', 'TASK_STATE_WORKING') });
      },
    );
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'req',
      taskRoutes: store,
    });
    const transport = await factory.transportFor({ org, unit: 'u', poolId: 'workers' });
    expect((await transport.getTask({ tenant: '', id: taskId })).id).toBe(taskId);
    expect(member.requests).toHaveLength(1);
  });
});
