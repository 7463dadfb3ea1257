// Binding error mapping: -32003 request_expired, -32004 responder_unavailable, -32005 transport_protocol_error
// with the a2a_error marker; core A2A errors keep their (colliding) codes without the marker.
import { ClientFactory } from '@a2a-js/sdk/client';
import { UnsupportedOperationError } from '@a2a-js/sdk/errors';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BINDING_ERRORS,
  MqttBindingError,
  mqttTransportFactory,
  readBindingErrorKind,
  serveA2AOverMqtt,
} from '../src/index.js';
import type { ResponderLimits } from '../src/index.js';
import {
  EchoExecutor,
  Gate,
  RawClient,
  hasCorrelation,
  rawRequest,
  recordingLogger,
  sendMessageBody,
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

async function setup(limits: ResponderLimits, options: { streaming?: boolean } = {}) {
  const org = uniqueId('org');
  const gate = new Gate();
  const executor = new EchoExecutor({ gate });
  const logger = recordingLogger();
  const agent = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'busy',
    card: { name: 'Busy', capabilities: { streaming: options.streaming ?? true, extensions: [] } },
    executor,
    limits,
    logger,
  });
  const raw = await RawClient.connect(broker.url);
  const replyTopic = `$a2a/v1/reply/${org}/u/raw/${uniqueId('s')}`;
  await raw.subscribe(replyTopic);
  return {
    org,
    agent,
    executor,
    gate,
    logger,
    raw,
    send: (body: unknown, properties?: NonNullable<Parameters<typeof rawRequest>[3]>['properties']) =>
      rawRequest(raw, agent.requestTopic, body, {
        responseTopic: replyTopic,
        ...(properties ? { properties } : {}),
      }),
    reply: async (correlation: Buffer) =>
      (await raw.next((message) => message.topic === replyTopic && hasCorrelation(correlation)(message)))
        .json as Record<string, unknown>,
    async [Symbol.asyncDispose]() {
      gate.open();
      await raw.close();
      await agent.close();
    },
  };
}

describe('binding error mapping', () => {
  it('maps the three binding conditions to -32003/-32004/-32005 with a2a_error', () => {
    expect(BINDING_ERRORS.request_expired.code).toBe(-32003);
    expect(BINDING_ERRORS.responder_unavailable.code).toBe(-32004);
    expect(BINDING_ERRORS.transport_protocol_error.code).toBe(-32005);
    // Requesters read the marker from either shape, never the code alone.
    expect(
      readBindingErrorKind({ code: -32004, message: 'x', data: { a2a_error: 'responder_unavailable' } }),
    ).toBe('responder_unavailable');
    expect(
      readBindingErrorKind({ code: -32004, message: 'x', data: [{ a2a_error: 'responder_unavailable' }] }),
    ).toBe('responder_unavailable');
    expect(readBindingErrorKind({ code: -32004, message: 'x' })).toBeUndefined();
    expect(
      readBindingErrorKind({
        code: -32003,
        message: 'x',
        data: [{ reason: 'PUSH_NOTIFICATION_NOT_SUPPORTED' }],
      }),
    ).toBeUndefined();
  });

  it('answers -32004 responder_unavailable when the agent is saturated', async () => {
    await using fixture = await setup({ maxConcurrentRequests: 1, maxQueuedRequests: 0 });
    await fixture.send(sendMessageBody('occupy'));
    await fixture.executor.executions.reached(1);
    const reply = await fixture.reply(await fixture.send(sendMessageBody('one more')));
    expect(reply.error).toMatchObject({
      code: -32004,
      data: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'RESPONDER_UNAVAILABLE',
          a2a_error: 'responder_unavailable',
        },
      ],
    });
  });

  it('drops a request that expired while waiting and answers -32003 request_expired', async () => {
    await using fixture = await setup({ maxConcurrentRequests: 1, maxQueuedRequests: 10 });
    const occupying = await fixture.send(sendMessageBody('occupy'));
    await fixture.executor.executions.reached(1);
    const stale = await fixture.send(sendMessageBody('stale'), { messageExpiryInterval: 1 });
    // Message Expiry counts whole seconds: let the queued request outlive its second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    fixture.gate.open();
    await fixture.reply(occupying);
    const reply = await fixture.reply(stale);
    expect(reply.error).toMatchObject({ code: -32003, data: [{ a2a_error: 'request_expired' }] });
    expect(fixture.executor.executions.value).toBe(1);
    await fixture.logger.waitFor(/stale request/);
  });

  it('keeps core A2A error codes without the marker: -32004 UnsupportedOperation is not a binding error', async () => {
    await using fixture = await setup({}, { streaming: false });
    fixture.gate.open();
    const reply = await fixture.reply(
      await fixture.send(sendMessageBody('stream?', {}, 'SendStreamingMessage')),
    );
    const error = reply.error as { code: number; data?: unknown };
    expect(error.code).toBe(-32004);
    expect(readBindingErrorKind(error)).toBeUndefined();
    // The requester maps it to the SDK's UnsupportedOperationError, not to MqttBindingError.
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org: fixture.org,
      unit: 'u',
      agentId: 'requester',
    });
    const transport = await factory.transportFor({ org: fixture.org, unit: 'u', agentId: 'busy' });
    const caught = await (async () => {
      for await (const _event of transport.sendMessageStream({
        tenant: '',
        message: userMessage('x'),
        configuration: undefined,
        metadata: undefined,
      })) {
        // no items expected
      }
    })().catch((thrown: unknown) => thrown);
    expect(caught).toBeInstanceOf(UnsupportedOperationError);
    expect(caught).not.toBeInstanceOf(MqttBindingError);
  });

  it('surfaces binding errors to SDK clients as MqttBindingError after the retries', async () => {
    await using fixture = await setup({ maxConcurrentRequests: 1, maxQueuedRequests: 0 });
    await fixture.send(sendMessageBody('occupy'));
    await fixture.executor.executions.reached(1);
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org: fixture.org,
      unit: 'u',
      agentId: 'requester',
      retry: { initialBackoffMs: 10, maxAttempts: 2 },
    });
    const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(fixture.agent.card);
    const error = await client
      .sendMessage({
        tenant: '',
        message: userMessage('blocked'),
        configuration: undefined,
        metadata: undefined,
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MqttBindingError);
    expect(error).toMatchObject({ kind: 'responder_unavailable', code: -32004, retryable: true });
  });
});
