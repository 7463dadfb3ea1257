// Defect 4, receiving side (issue 12): requests and replies are never retained. A retained SendMessage on an
// agent's request topic used to be redelivered (retain flag on) at every resubscribe and executed once per
// agent restart; the agent now asks the broker for no retained messages on its request topics, sees the
// retain flag as published, and ignores and reports every retained request. A requester ignores retained
// replies. SDK-side: holds on every broker, including one that accepts the retained publish.
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import type { Message } from '@a2a-js/sdk';
import { mqttTransportFactory, serveA2AOverMqtt } from '@mqtt-agents/a2a';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EchoExecutor,
  FakeResponder,
  RawClient,
  hasCorrelation,
  rawRequest,
  recordingLogger,
  sendMessageBody,
  userMessage,
} from '../../packages/a2a/test/helpers.js';
import { settle } from '../reliability/helpers.js';
import { unique } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

describe('retained requests and replies (defect 4, receiving side)', () => {
  it('never executes a retained SendMessage on its request topic, across agent restarts, and reports one published while it runs', async () => {
    const org = unique('org');
    const requestTopic = `$a2a/v1/request/${org}/u/target`;
    const raw = await RawClient.connect(broker.url);
    const replyTopic = `$a2a/v1/reply/${org}/u/mallory/${unique('s')}`;
    await raw.subscribe(replyTopic);
    const executor = new EchoExecutor();
    const logger = recordingLogger();
    const start = () =>
      serveA2AOverMqtt({
        mqtt: { url: broker.url },
        org,
        unit: 'u',
        agentId: 'target',
        card: { name: 'Target' },
        executor,
        logger,
      });
    /** A request answered after the agent (re)subscribed: whatever the subscription delivered came first. */
    const roundTrip = async () => {
      const correlation = await rawRequest(raw, requestTopic, sendMessageBody('sentinel'), {
        responseTopic: replyTopic,
      });
      await raw.next((message) => message.topic === replyTopic && hasCorrelation(correlation)(message));
    };
    try {
      // Planted before the agent starts: the broker keeps it and offers it at every subscribe.
      const planted = sendMessageBody('planted before start') as {
        params: { message: { messageId: string } };
      };
      await raw.publish(requestTopic, JSON.stringify(planted), {
        retain: true,
        properties: { responseTopic: replyTopic, correlationData: Buffer.from('planted') },
      });
      for (let restart = 0; restart < 3; restart++) {
        const agent = await start();
        await roundTrip();
        await roundTrip();
        await agent.close();
      }
      const runs = executor.contexts.map((context) => context.userMessage.messageId);
      expect(runs).not.toContain(planted.params.message.messageId);
      expect(runs).toHaveLength(6);

      // Published retained while the agent runs: delivered live, flag as published, ignored and reported.
      await using agent = await start();
      const live = sendMessageBody('planted while running') as { params: { message: { messageId: string } } };
      await raw.publish(requestTopic, JSON.stringify(live), {
        retain: true,
        properties: { responseTopic: replyTopic, correlationData: Buffer.from('live') },
      });
      await logger.waitFor(/retained request/);
      expect(
        logger.lines.some(
          (line) => line.message.includes('retained request') && line.message.includes(requestTopic),
        ),
      ).toBe(true);
      await roundTrip();
      expect(executor.contexts.map((context) => context.userMessage.messageId)).not.toContain(
        live.params.message.messageId,
      );
      expect(raw.all((message) => hasCorrelation(Buffer.from('live'))(message))).toHaveLength(0);
      expect(agent.requestTopic).toBe(requestTopic);
    } finally {
      await raw.publish(requestTopic, '', { retain: true });
      await raw.close();
    }
  });

  it('ignores a retained reply that the broker delivers to a pending request at resubscribe', async () => {
    const org = unique('org');
    const answer = (text: string, request: { body: { params: Record<string, unknown> } }) => {
      const message = request.body.params.message as { contextId?: string };
      return {
        result: {
          message: {
            messageId: globalThis.crypto.randomUUID(),
            contextId: message.contextId ?? '',
            role: 'ROLE_AGENT',
            parts: [{ text }],
          },
        },
      };
    };
    let received!: () => void;
    const requestArrived = new Promise<void>((resolve) => (received = resolve));
    await using fake = await FakeResponder.start(broker.url, `$a2a/v1/request/${org}/u/agent`, () =>
      received(),
    );
    // The requester's own MQTT.js client, reconnecting only when the test says so.
    const client = mqtt.connect(broker.url, {
      protocolVersion: 5,
      clientId: `${org}/u/requester`,
      reconnectPeriod: 60_000,
    });
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const logger = recordingLogger();
    await using transports = mqttTransportFactory({
      mqtt: { client },
      org,
      unit: 'u',
      agentId: 'requester',
      replySuffix: 'fixed',
      retry: { replyFirstTimeoutMs: 20_000, maxAttempts: 1 },
      logger,
    });
    const transport = await transports.transportFor({ org, unit: 'u', agentId: 'agent' });
    const pending = settle(
      transport.sendMessage({
        tenant: '',
        message: userMessage('real question'),
        configuration: undefined,
        metadata: undefined,
      }),
    );
    await requestArrived;
    const request = fake.requests[0]!;

    // The requester drops off; a forged final answer is left retained on its reply topic meanwhile.
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.stream.destroy();
    await closed;
    const attacker = await RawClient.connect(broker.url);
    await attacker.publish(
      request.responseTopic,
      JSON.stringify({ jsonrpc: '2.0', id: request.body.id, ...answer('forged', request) }),
      {
        retain: true,
        properties: { correlationData: request.correlation },
      },
    );
    // Back online: the fresh subscription to the reply topic delivers the retained reply, flag set.
    const reconnected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
    client.reconnect();
    await reconnected;
    await Promise.race([logger.waitFor(/retained reply/), pending]);
    await fake.reply(request, answer('real', request));
    const outcome = await pending;
    try {
      expect(outcome.error).toBeUndefined();
      const parts = (outcome.value as Message).parts;
      expect(parts[0]?.content).toEqual({ $case: 'text', value: 'real' });
    } finally {
      await attacker.publish(request.responseTopic, '', { retain: true });
      await attacker.close();
      await transports.close();
      await client.endAsync(true);
    }
  });
});
