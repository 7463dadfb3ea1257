// Requester retry and timeout profile: defaults, new correlation per attempt with the same taskId, retry
// only before the first reply, GetTask recovery after a stalled stream, binding errors retried by marker.
import { TaskState } from '@a2a-js/sdk';
import type { StreamResponse, Task } from '@a2a-js/sdk';
import { MqttAgentsError } from '@mqtt-agents/core';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_POLICY,
  MqttBindingError,
  backoffDelay,
  bindingErrorObject,
  mqttTransportFactory,
} from '../src/index.js';
import type { RetryPolicy } from '../src/index.js';
import { FakeResponder, taskJson, uniqueId, userMessage } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

const FAST: Partial<RetryPolicy> = {
  replyFirstTimeoutMs: 250,
  streamIdleTimeoutMs: 250,
  initialBackoffMs: 20,
};

async function setup(handle: Parameters<typeof FakeResponder.start>[2], retry: Partial<RetryPolicy> = FAST) {
  const org = uniqueId('org');
  const responder = await FakeResponder.start(broker.url, `$a2a/v1/request/${org}/u/flaky`, handle);
  const factory = mqttTransportFactory({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'requester',
    retry,
  });
  const transport = await factory.transportFor({ org, unit: 'u', agentId: 'flaky' });
  return {
    responder,
    transport,
    async [Symbol.asyncDispose]() {
      await factory.close();
      await responder.close();
    },
  };
}

function messageIds(request: { body: { params: Record<string, unknown> } }): {
  taskId: string;
  contextId: string;
  messageId: string;
} {
  return request.body.params.message as { taskId: string; contextId: string; messageId: string };
}

describe('requester retry and timeout profile', () => {
  it('defaults to 15 s first reply, 30 s stream idle, 3 attempts and 1 s / 2 s / 4 s backoff with +/-20% jitter', () => {
    expect(DEFAULT_RETRY_POLICY).toMatchObject({
      replyFirstTimeoutMs: 15_000,
      streamIdleTimeoutMs: 30_000,
      maxAttempts: 3,
      initialBackoffMs: 1_000,
      backoffMultiplier: 2,
      backoffJitter: 0.2,
    });
    const policy = { ...DEFAULT_RETRY_POLICY };
    expect([1, 2, 3].map((retry) => backoffDelay(policy, retry, () => 0.5))).toEqual([1000, 2000, 4000]);
    expect(backoffDelay(policy, 1, () => 0)).toBe(800);
    expect(backoffDelay(policy, 1, () => 1)).toBe(1200);
    for (let sample = 0; sample < 50; sample++) {
      const wait = backoffDelay(policy, 2);
      expect(wait).toBeGreaterThanOrEqual(1600);
      expect(wait).toBeLessThanOrEqual(2400);
    }
  });

  it('retries a request that got no first reply with new Correlation Data and the same taskId', async () => {
    await using fixture = await setup(async (request, fake) => {
      if (fake.requests.length < 3) return; // the first two attempts are lost
      const { taskId, contextId } = messageIds(request);
      await fake.reply(request, { result: { task: taskJson(taskId, contextId, 'TASK_STATE_COMPLETED') } });
    });
    const task = (await fixture.transport.sendMessage({
      tenant: '',
      message: userMessage('retry me'),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const requests = fixture.responder.requests;
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((request) => request.correlation.toString('hex'))).size).toBe(3);
    expect(new Set(requests.map((request) => messageIds(request).taskId)).size).toBe(1);
    expect(new Set(requests.map((request) => messageIds(request).messageId)).size).toBe(1);
    expect(task.id).toBe(messageIds(requests[0]!).taskId);
  });

  it('gives up after maxAttempts with REQUEST_TIMEOUT', async () => {
    await using fixture = await setup(() => {}, { ...FAST, maxAttempts: 2 });
    const error = await fixture.transport
      .getTask({ tenant: '', id: globalThis.crypto.randomUUID() })
      .catch((caught: unknown) => caught);
    expect(MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT')).toBe(true);
    expect((error as MqttAgentsError).details).toMatchObject({ attempts: 2, method: 'GetTask' });
    expect(fixture.responder.requests).toHaveLength(2);
  });

  it('never republishes after the first stream item, and recovers a stalled stream with GetTask', async () => {
    await using fixture = await setup(async (request, fake) => {
      if (request.body.method === 'SendStreamingMessage') {
        const { taskId, contextId } = messageIds(request);
        await fake.reply(request, { result: { task: taskJson(taskId, contextId, 'TASK_STATE_WORKING') } });
        return; // then silence
      }
      if (request.body.method === 'GetTask') {
        const id = request.body.params.id as string;
        await fake.reply(request, { result: taskJson(id, 'ctx', 'TASK_STATE_COMPLETED') });
      }
    });
    const events: StreamResponse[] = [];
    for await (const event of fixture.transport.sendMessageStream({
      tenant: '',
      message: userMessage('stall'),
      configuration: undefined,
      metadata: undefined,
    })) {
      events.push(event);
    }
    const states = events.map((event) =>
      event.payload?.$case === 'task' ? event.payload.value.status?.state : undefined,
    );
    expect(states).toEqual([TaskState.TASK_STATE_WORKING, TaskState.TASK_STATE_COMPLETED]);
    const methods = fixture.responder.requests.map((request) => request.body.method);
    expect(methods).toEqual(['SendStreamingMessage', 'GetTask']);
    expect(fixture.responder.requests[1]?.body.params.id).toBe(
      messageIds(fixture.responder.requests[0]!).taskId,
    );
  });

  it('reports a stalled stream whose task is still running after GetTask', async () => {
    await using fixture = await setup(async (request, fake) => {
      if (request.body.method === 'SendStreamingMessage') {
        const { taskId, contextId } = messageIds(request);
        await fake.reply(request, { result: { task: taskJson(taskId, contextId, 'TASK_STATE_WORKING') } });
        return;
      }
      await fake.reply(request, {
        result: taskJson(request.body.params.id as string, 'ctx', 'TASK_STATE_WORKING'),
      });
    });
    const events: StreamResponse[] = [];
    const error = await (async () => {
      for await (const event of fixture.transport.sendMessageStream({
        tenant: '',
        message: userMessage('slow'),
        configuration: undefined,
        metadata: undefined,
      })) {
        events.push(event);
      }
    })().catch((caught: unknown) => caught);
    expect(events).toHaveLength(2);
    expect(MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT')).toBe(true);
    expect((error as Error).message).toMatch(/stalled.*TASK_STATE_WORKING/);
  });

  it('retries responder_unavailable and request_expired by their a2a_error marker, not transport_protocol_error', async () => {
    await using unavailable = await setup(async (request, fake) => {
      if (fake.requests.length === 1) {
        await fake.reply(request, { error: bindingErrorObject('responder_unavailable', 'busy') });
        return;
      }
      if (fake.requests.length === 2) {
        await fake.reply(request, { error: bindingErrorObject('request_expired', 'too late') });
        return;
      }
      await fake.reply(request, {
        result: taskJson(request.body.params.id as string, 'ctx', 'TASK_STATE_COMPLETED'),
      });
    });
    const task = await unavailable.transport.getTask({ tenant: '', id: globalThis.crypto.randomUUID() });
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(unavailable.responder.requests).toHaveLength(3);

    await using protocol = await setup(async (request, fake) => {
      await fake.reply(request, { error: bindingErrorObject('transport_protocol_error', 'bad metadata') });
    });
    const error = await protocol.transport
      .getTask({ tenant: '', id: globalThis.crypto.randomUUID() })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MqttBindingError);
    expect(error).toMatchObject({ kind: 'transport_protocol_error', code: -32005, retryable: false });
    expect(protocol.responder.requests).toHaveLength(1);
  });

  it('does not retry an ordinary error reply, whatever its code', async () => {
    await using fixture = await setup(async (request, fake) => {
      // -32004 without the marker is A2A's UnsupportedOperationError: final, not retried.
      await fake.reply(request, { error: { code: -32004, message: 'nope' } });
    });
    const error = await fixture.transport
      .getTask({ tenant: '', id: globalThis.crypto.randomUUID() })
      .catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(MqttBindingError);
    expect((error as Error).name).toBe('UnsupportedOperationError');
    expect(fixture.responder.requests).toHaveLength(1);
  });

  it('sets Message Expiry on requests when asked', async () => {
    const org = uniqueId('org');
    await using responder = await FakeResponder.start(
      broker.url,
      `$a2a/v1/request/${org}/u/flaky`,
      async (request, fake) => {
        await fake.reply(request, {
          result: taskJson(request.body.params.id as string, 'ctx', 'TASK_STATE_COMPLETED'),
        });
      },
    );
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'requester',
      requestExpirySeconds: 20,
    });
    const transport = await factory.transportFor({ org, unit: 'u', agentId: 'flaky' });
    await transport.getTask({ tenant: '', id: globalThis.crypto.randomUUID() });
    const expiry = responder.requests[0]?.packet.properties?.messageExpiryInterval ?? 0;
    expect(expiry).toBeGreaterThan(15);
    expect(expiry).toBeLessThanOrEqual(20);
  });
});
