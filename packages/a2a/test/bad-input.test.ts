// Bad input on the request topic: every case gets the profile's error reply where a reply path exists, is
// logged otherwise, and never stops the agent.
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveA2AOverMqtt } from '../src/index.js';
import type { A2AMqttAgent } from '../src/index.js';
import {
  EchoExecutor,
  RawClient,
  hasCorrelation,
  rawRequest,
  recordingLogger,
  sendMessageBody,
  uniqueId,
} from './helpers.js';

let broker: TestBroker;
let agent: A2AMqttAgent;
let raw: RawClient;
let replyTopic: string;
const logger = recordingLogger();
const org = uniqueId('org');

beforeAll(async () => {
  broker = await startTestBroker();
  agent = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'target',
    card: { name: 'Target', capabilities: { streaming: true, extensions: [] } },
    executor: new EchoExecutor(),
    limits: { maxRequestBytes: 4096 },
    logger,
  });
  raw = await RawClient.connect(broker.url);
  replyTopic = `$a2a/v1/reply/${org}/u/raw/${uniqueId('s')}`;
  await raw.subscribe(replyTopic);
});
afterAll(async () => {
  await raw.close();
  await agent.close();
  await broker.close();
});

async function ask(
  body: unknown,
  options: Omit<Parameters<typeof rawRequest>[3], 'responseTopic'> = {},
): Promise<Record<string, unknown>> {
  const correlation = await rawRequest(raw, agent.requestTopic, body, {
    responseTopic: replyTopic,
    ...options,
  });
  const reply = await raw.next(
    (message) => message.topic === replyTopic && hasCorrelation(correlation)(message),
  );
  return reply.json as Record<string, unknown>;
}

async function stillServes(): Promise<void> {
  const reply = await ask(sendMessageBody('still there?'));
  expect((reply.result as { task: { status: { state: string } } }).task.status.state).toBe(
    'TASK_STATE_COMPLETED',
  );
}

describe('bad input on the request topic', () => {
  it('answers a payload that is not JSON with -32700', async () => {
    expect(await ask('{"jsonrpc": "2.0", "method": ')).toMatchObject({ id: null, error: { code: -32700 } });
    // Not UTF-8 at all.
    expect(await ask(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toMatchObject({ error: { code: -32700 } });
    await stillServes();
  });

  it('answers requests that are not JSON-RPC requests with -32600', async () => {
    expect(await ask({ jsonrpc: '1.0', id: 1, method: 'GetTask' })).toMatchObject({
      id: 1,
      error: { code: -32600 },
    });
    expect(await ask([sendMessageBody('batched')])).toMatchObject({
      error: { code: -32600, message: 'batches are not supported' },
    });
    expect(await ask({ jsonrpc: '2.0', method: 'GetTask', params: { id: 'x' } })).toMatchObject({
      error: { code: -32600 },
    });
    await stillServes();
  });

  it('answers an unknown method with -32601', async () => {
    expect(await ask({ jsonrpc: '2.0', id: 'u1', method: 'message/send', params: {} })).toMatchObject({
      id: 'u1',
      error: { code: -32601 },
    });
    await stillServes();
  });

  it('answers missing or malformed task ids with -32602', async () => {
    const missing = await ask(sendMessageBody('no task id', { taskId: '' }));
    expect(missing).toMatchObject({ error: { code: -32602 } });
    expect((missing.error as { message: string }).message).toMatch(/taskId missing is not a UUIDv4/);
    expect(await ask(sendMessageBody('bad task id', { taskId: 'task-1' }))).toMatchObject({
      error: { code: -32602 },
    });
    expect(
      await ask(sendMessageBody('v1 uuid', { taskId: '6ba7b810-9dad-11d1-80b4-00c04fd430c8' })),
    ).toMatchObject({
      error: { code: -32602 },
    });
    expect(
      await ask({ jsonrpc: '2.0', id: 3, method: 'SendMessage', params: { message: 'hi' } }),
    ).toMatchObject({
      error: { code: -32602 },
    });
    expect(await ask({ jsonrpc: '2.0', id: 4, method: 'GetTask', params: { id: '' } })).toMatchObject({
      error: { code: -32602 },
    });
    await stillServes();
  });

  it("answers a tenant that is not this agent's with -32602 and an unsupported a2a-version with -32009", async () => {
    expect(
      await ask({
        jsonrpc: '2.0',
        id: 5,
        method: 'GetTask',
        params: { id: globalThis.crypto.randomUUID(), tenant: 'other/unit' },
      }),
    ).toMatchObject({
      error: { code: -32602 },
    });
    expect(
      await ask(sendMessageBody('old'), { properties: { userProperties: { 'a2a-version': '0.3' } } }),
    ).toMatchObject({
      error: { code: -32009 },
    });
    expect(
      await ask(sendMessageBody('patch version'), {
        properties: { userProperties: { 'a2a-version': '1.0.0' } },
      }),
    ).toHaveProperty('result');
    await stillServes();
  });

  it('answers an oversize payload with -32600 without parsing it', async () => {
    const reply = await ask(sendMessageBody('x'.repeat(5000)));
    expect(reply).toMatchObject({ id: null, error: { code: -32600 } });
    expect((reply.error as { message: string }).message).toMatch(/exceeds the limit of 4096 bytes/);
    await stillServes();
  });

  it('answers a request without Correlation Data with -32005 transport_protocol_error', async () => {
    await raw.publish(agent.requestTopic, JSON.stringify(sendMessageBody('uncorrelated')), {
      properties: { responseTopic: replyTopic },
    });
    const reply = await raw.next(
      (message) => message.topic === replyTopic && message.packet.properties?.correlationData === undefined,
    );
    expect(reply.json).toMatchObject({
      error: { code: -32005, data: [{ a2a_error: 'transport_protocol_error' }] },
    });
    await stillServes();
  });

  it('drops and logs a request without Response Topic (no reply path)', async () => {
    await raw.publish(agent.requestTopic, JSON.stringify(sendMessageBody('nowhere')), {
      properties: { correlationData: Buffer.from('c') },
    });
    await logger.waitFor(/no Response Topic/);
    await raw.publish(agent.requestTopic, JSON.stringify(sendMessageBody('wild')), {
      properties: { correlationData: Buffer.from('c'), responseTopic: `${replyTopic}/+` },
    });
    await logger.waitFor(/invalid Response Topic/);
    await stillServes();
  });
});
