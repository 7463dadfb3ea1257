// Request/reply mapping: reply subscription first, QoS 1 requests with Response Topic + Correlation Data,
// requester-generated UUIDv4 task and context ids, correlation echoed (opaque bytes), in-flight map.
import { TaskState } from '@a2a-js/sdk';
import type { Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { InMemoryTaskStore, ServerCallContext } from '@a2a-js/sdk/server';
import { isValidUtf8 } from '@mqtt-agents/core';
import type { UnmatchedReplyReason } from '@mqtt-agents/core';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttTransportFactory, serveA2AOverMqtt } from '../src/index.js';
import {
  EchoExecutor,
  RawClient,
  hasCorrelation,
  rawRequest,
  sendMessageBody,
  uniqueId,
  userMessage,
} from './helpers.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

async function setup(options: { taskStore?: InMemoryTaskStore } = {}) {
  const org = uniqueId('org');
  const agent = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'agent-b',
    card: { name: 'B', capabilities: { streaming: true, extensions: [] } },
    executor: new EchoExecutor(),
    ...(options.taskStore ? { taskStore: options.taskStore } : {}),
  });
  const unmatched: Array<{ reason: UnmatchedReplyReason; topic: string }> = [];
  const factory = mqttTransportFactory({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'agent-a',
    onUnmatchedReply: (reply, reason) => unmatched.push({ reason, topic: reply.topic }),
    // The service-parameter test sends a bearer token over plain mqtt:// (oauth.test.ts covers the refusal).
    auth: { allowInsecureTransport: true },
  });
  const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(agent.card);
  const sniffer = await RawClient.connect(broker.url);
  await sniffer.subscribe(agent.requestTopic);
  await sniffer.subscribe(`$a2a/v1/reply/${org}/u/agent-a/+`);
  return {
    org,
    agent,
    factory,
    client,
    sniffer,
    unmatched,
    async [Symbol.asyncDispose]() {
      await sniffer.close();
      await factory.close();
      await agent.close();
    },
  };
}

describe('request/reply mapping', () => {
  it('subscribes to its reply topic before the first request and ignores (and reports) replies with unknown or missing correlation', async () => {
    await using fixture = await setup();
    const connection = await fixture.factory.connect();
    expect(fixture.factory.replyTopic).toMatch(
      new RegExp(`^\\$a2a/v1/reply/${fixture.org}/u/agent-a/[A-Za-z0-9_.-]+$`),
    );
    expect(connection.client.options.clientId).toBe(`${fixture.org}/u/agent-a`);
    // No request was sent yet, but the reply subscription is in place: stray replies reach the requester.
    await fixture.sniffer.publish(fixture.factory.replyTopic, '{"jsonrpc":"2.0","id":1,"result":{}}', {
      properties: { correlationData: Buffer.from('nobody-asked') },
    });
    await fixture.sniffer.publish(fixture.factory.replyTopic, '{"jsonrpc":"2.0","id":2,"result":{}}');
    await expect
      .poll(() => fixture.unmatched.map((entry) => entry.reason).sort())
      .toEqual(['missing-correlation', 'unknown-correlation']);
    // The requester still works.
    const task = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('after strays'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
  });

  it('publishes requests at QoS 1 with Response Topic, UTF-8 Correlation Data and a requester-generated UUIDv4 taskId and contextId', async () => {
    await using fixture = await setup();
    const task = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('hello'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    const request = await fixture.sniffer.next((message) => message.topic === fixture.agent.requestTopic);
    expect(request.packet.qos).toBe(1);
    expect(request.packet.properties?.responseTopic).toBe(fixture.factory.replyTopic);
    const correlation = request.packet.properties?.correlationData as Buffer;
    expect(correlation.length).toBeGreaterThan(0);
    expect(isValidUtf8(correlation)).toBe(true);
    const body = request.json as {
      method: string;
      params: { message: { taskId: string; contextId: string }; tenant: string };
    };
    expect(body.method).toBe('SendMessage');
    expect(body.params.message.taskId).toMatch(UUID_V4);
    expect(body.params.message.contextId).toMatch(UUID_V4);
    expect(body.params.tenant).toBe(`${fixture.org}/u`);
    // The responder used the requester's ids: Correlation Data is not the task id.
    expect(task.id).toBe(body.params.message.taskId);
    expect(task.contextId).toBe(body.params.message.contextId);
    expect(task.id).not.toBe(correlation.toString('utf8'));
  });

  it('the responder tracks the task under the requester-provided id and echoes it in every reply', async () => {
    const store = new InMemoryTaskStore();
    await using fixture = await setup({ taskStore: store });
    const taskId = globalThis.crypto.randomUUID();
    const ids: string[] = [];
    for await (const event of fixture.client.sendMessageStream({
      tenant: '',
      message: userMessage('track me', { taskId, contextId: globalThis.crypto.randomUUID() }),
      configuration: undefined,
      metadata: undefined,
    })) {
      const payload = event.payload;
      if (payload?.$case === 'task') ids.push(payload.value.id);
      if (payload?.$case === 'statusUpdate' || payload?.$case === 'artifactUpdate')
        ids.push(payload.value.taskId);
    }
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ids)).toEqual(new Set([taskId]));
    const context = new ServerCallContext();
    context.setTenant(`${fixture.org}/u`);
    expect((await store.load(taskId, context))?.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    // Follow-up operations use the same id.
    expect((await fixture.client.getTask({ tenant: '', id: taskId })).id).toBe(taskId);
  });

  it('replies on the Response Topic with the request Correlation Data, matching concurrent requests by correlation', async () => {
    await using fixture = await setup();
    const texts = ['one', 'two', 'three', 'four', 'five'];
    const results = await Promise.all(
      texts.map((text) =>
        fixture.client.sendMessage({
          tenant: '',
          message: userMessage(text),
          configuration: undefined,
          metadata: undefined,
        }),
      ),
    );
    for (const [index, result] of results.entries()) {
      const artifact = (result as Task).artifacts[0]?.parts[0]?.content;
      expect(artifact?.$case === 'text' && artifact.value).toBe(`echo: ${texts[index]}`);
    }
    const requests = fixture.sniffer.all((message) => message.topic === fixture.agent.requestTopic);
    expect(requests).toHaveLength(5);
    const correlations = requests.map((message) =>
      Buffer.from(message.packet.properties?.correlationData as Buffer).toString('hex'),
    );
    expect(new Set(correlations).size).toBe(5);
    for (const request of requests) {
      const reply = await fixture.sniffer.next(
        (message) =>
          message.topic === fixture.factory.replyTopic &&
          hasCorrelation(Buffer.from(request.packet.properties?.correlationData as Buffer))(message),
      );
      expect(reply.packet.qos).toBe(1);
    }
  });

  it('carries service parameters as a2a- user properties (a2a-version, a2a-extensions, a2a-authorization)', async () => {
    await using fixture = await setup();
    const task = (await fixture.client.sendMessage({
      tenant: '',
      message: userMessage('params'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    await fixture.client.getTask(
      { tenant: '', id: task.id },
      { serviceParameters: { 'A2A-Extensions': 'urn:example:ext', Authorization: 'Bearer test-token' } },
    );
    const requests = fixture.sniffer.all((message) => message.topic === fixture.agent.requestTopic);
    const properties = requests[1]?.packet.properties?.userProperties ?? {};
    expect(properties).toMatchObject({
      'a2a-version': '1.0',
      'a2a-extensions': 'urn:example:ext',
      'a2a-authorization': 'Bearer test-token',
    });
    expect(requests[0]?.packet.properties?.userProperties?.['a2a-context-id']).toBe(task.contextId);
    // Never echoed back.
    const replies = fixture.sniffer.all((message) => message.topic === fixture.factory.replyTopic);
    expect(
      replies.every((reply) => !JSON.stringify(reply.packet.properties ?? {}).includes('test-token')),
    ).toBe(true);
    expect(replies.every((reply) => !reply.payload.toString('utf8').includes('test-token'))).toBe(true);
  });

  it('treats inbound Correlation Data as opaque bytes: non-UTF-8 correlation is echoed unchanged', async () => {
    await using fixture = await setup();
    const replyTopic = `$a2a/v1/reply/${fixture.org}/u/raw/${uniqueId('s')}`;
    await fixture.sniffer.subscribe(replyTopic);
    const correlation = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]);
    await rawRequest(fixture.sniffer, fixture.agent.requestTopic, sendMessageBody('bytes'), {
      responseTopic: replyTopic,
      correlation,
    });
    const reply = await fixture.sniffer.next((message) => message.topic === replyTopic);
    expect(Buffer.compare(Buffer.from(reply.packet.properties?.correlationData as Buffer), correlation)).toBe(
      0,
    );
    expect((reply.json as { result: { task: { status: { state: string } } } }).result.task.status.state).toBe(
      'TASK_STATE_COMPLETED',
    );
  });
});
