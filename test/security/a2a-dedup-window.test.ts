// Defect 8 (issue 12): A2A duplicate detection must hold for its whole time window (10 minutes by default),
// not for the last 10,000 requests. A captured SendMessage replayed after a flood of other requests is still
// answered from the first execution's state; the memory behind the window is bounded per requester (a
// flooder runs into its own limit and is refused with the profile's retryable `responder_unavailable`,
// while everyone else is still served) and in total. The requester identity is the reply topic's
// `{org}/{unit}/{agent}` (the broker ACL binds it to the subscriber), or the broker-stamped sender with
// `trustBrokerIdentity`: never a value the client picks freely. SDK-side: holds on every broker.
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { SenderUserProperty } from '@mqtt-agents/core';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import { serveA2AOverMqtt } from '@mqtt-agents/a2a';
import type { ResponderLimits } from '@mqtt-agents/a2a';
import mqtt from 'mqtt';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '@a2a-js/sdk';
import { eventually, unique } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

/** Answers every request with a bare Message: nothing reaches the task store, only the dedup window remembers. */
class CountingMessageExecutor implements AgentExecutor {
  readonly runs = new Map<string, number>();
  total = 0;
  async execute(
    context: Parameters<AgentExecutor['execute']>[0],
    bus: Parameters<AgentExecutor['execute']>[1],
  ): Promise<void> {
    this.total++;
    const id = context.userMessage.messageId;
    this.runs.set(id, (this.runs.get(id) ?? 0) + 1);
    bus.publish(
      AgentEvent.message({
        messageId: globalThis.crypto.randomUUID(),
        contextId: context.contextId,
        taskId: '',
        role: Role.ROLE_AGENT,
        parts: [
          { content: { $case: 'text', value: 'pong' }, mediaType: '', filename: '', metadata: undefined },
        ],
        metadata: undefined,
        extensions: [],
        referenceTaskIds: [],
      }),
    );
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

interface Reply {
  topic: string;
  correlation: string;
  json: { result?: unknown; error?: { code: number; message: string; data?: unknown } };
}

/** A raw MQTT 5 client that publishes hand-made requests and collects every reply it receives. */
async function rawClient(): Promise<{
  client: MqttClient;
  replies: Map<string, Reply>;
  next(correlation: string): Promise<Reply>;
  close(): Promise<void>;
}> {
  const client = mqtt.connect(broker.url, {
    protocolVersion: 5,
    clientId: unique('raw'),
    reconnectPeriod: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const replies = new Map<string, Reply>();
  const waiters = new Map<string, (reply: Reply) => void>();
  client.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
    const correlation = Buffer.from(packet.properties?.correlationData ?? []).toString('utf8');
    const reply = { topic, correlation, json: JSON.parse(payload.toString('utf8')) as Reply['json'] };
    replies.set(correlation, reply);
    waiters.get(correlation)?.(reply);
  });
  return {
    client,
    replies,
    next: (correlation) => {
      const known = replies.get(correlation);
      if (known) return Promise.resolve(known);
      return new Promise((resolve) => waiters.set(correlation, resolve));
    },
    close: async () => {
      await client.endAsync(true);
    },
  };
}

function sendBody(ids: { taskId: string; messageId: string }): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: unique('rpc'),
    method: 'SendMessage',
    params: {
      message: { messageId: ids.messageId, taskId: ids.taskId, role: 'ROLE_USER', parts: [{ text: 'hi' }] },
    },
  });
}

function newIds(): { taskId: string; messageId: string } {
  return { taskId: globalThis.crypto.randomUUID(), messageId: globalThis.crypto.randomUUID() };
}

async function serve(org: string, executor: AgentExecutor, limits: ResponderLimits = {}, extra = {}) {
  return serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'target',
    card: { name: 'Target' },
    executor,
    limits,
    ...extra,
  });
}

function bindingErrorOf(reply: Reply): string | undefined {
  const data = reply.json.error?.data;
  return Array.isArray(data) ? (data[0] as { a2a_error?: string } | undefined)?.a2a_error : undefined;
}

describe('A2A duplicate window (defect 8)', () => {
  it('still deduplicates a captured SendMessage replayed after 10,500 requests from other requesters', async () => {
    const org = unique('org');
    const executor = new CountingMessageExecutor();
    // Queue limits lifted so the flood is executed, not shed: only the dedup window is under test.
    await using agent = await serve(org, executor, {
      maxConcurrentRequests: 200,
      maxQueuedRequests: 20_000,
    });
    const raw = await rawClient();
    try {
      const victimReplies = `$a2a/v1/reply/${org}/u/victim/${unique('s')}`;
      await raw.client.subscribeAsync(victimReplies, { qos: 1 });
      const captured = { payload: sendBody(newIds()), correlation: 'victim-1' };
      const publishCaptured = () =>
        raw.client.publishAsync(agent.requestTopic, captured.payload, {
          qos: 1,
          properties: { responseTopic: victimReplies, correlationData: Buffer.from(captured.correlation) },
        });
      await publishCaptured();
      expect((await raw.next(captured.correlation)).json.result).toBeDefined();
      expect(executor.total).toBe(1);

      // 10,500 other requests from 50 other requesters (nobody reads their replies).
      const FLOOD = 10_500;
      const publishes: Array<Promise<unknown>> = [];
      for (let index = 0; index < FLOOD; index++) {
        publishes.push(
          raw.client.publishAsync(agent.requestTopic, sendBody(newIds()), {
            qos: 1,
            properties: {
              responseTopic: `$a2a/v1/reply/${org}/u/other-${index % 50}/s`,
              correlationData: Buffer.from(`flood-${index}`),
            },
          }),
        );
      }
      await Promise.all(publishes);
      await eventually(() => executor.total >= FLOOD + 1, 'the flood to be executed', 60_000);

      // The replay, byte for byte, with the same correlation: answered from state, not executed again.
      raw.replies.delete(captured.correlation);
      await publishCaptured();
      const replay = await raw.next(captured.correlation);
      expect(replay.json.result).toBeDefined();
      expect(executor.total).toBe(FLOOD + 1);
      expect([...executor.runs.values()].every((runs) => runs === 1)).toBe(true);
    } finally {
      await raw.close();
    }
  }, 90_000);

  it('refuses a flooder at its own per-requester limit with responder_unavailable, and keeps serving and deduplicating for others', async () => {
    const org = unique('org');
    const executor = new CountingMessageExecutor();
    const PER_REQUESTER = 10;
    await using agent = await serve(org, executor, { maxWindowEntriesPerRequester: PER_REQUESTER });
    const raw = await rawClient();
    try {
      await raw.client.subscribeAsync(`$a2a/v1/reply/${org}/u/+/+`, { qos: 1 });
      const ask = async (requester: string, payload: string, correlation: string) => {
        await raw.client.publishAsync(agent.requestTopic, payload, {
          qos: 1,
          properties: {
            // A new suffix per request: the suffix is the requester's to pick, so it is not its identity.
            responseTopic: `$a2a/v1/reply/${org}/u/${requester}/${unique('s')}`,
            correlationData: Buffer.from(correlation),
          },
        });
        return raw.next(correlation);
      };
      const victim = { payload: sendBody(newIds()) };
      expect((await ask('victim', victim.payload, 'victim-first')).json.result).toBeDefined();

      // Other requesters fill their own windows to the brim.
      for (const other of ['other-a', 'other-b']) {
        for (let index = 0; index < PER_REQUESTER; index++) {
          const reply = await ask(other, sendBody(newIds()), `${other}-${index}`);
          expect(reply.json.result).toBeDefined();
        }
      }
      // The flooder's first requests are served; beyond its limit it is refused, retryably, without running.
      for (let index = 0; index < PER_REQUESTER; index++) {
        expect((await ask('flooder', sendBody(newIds()), `flood-${index}`)).json.result).toBeDefined();
      }
      const ranBefore = executor.total;
      const refused = await ask('flooder', sendBody(newIds()), 'flood-over');
      expect(refused.json.error?.code).toBe(-32004);
      expect(bindingErrorOf(refused)).toBe('responder_unavailable');
      expect(executor.total).toBe(ranBefore);

      // Everyone else is still served, and the victim's replay is still deduplicated.
      expect((await ask('newcomer', sendBody(newIds()), 'newcomer-1')).json.result).toBeDefined();
      const replay = await ask('victim', victim.payload, 'victim-replay');
      expect(replay.json.result).toBeDefined();
      expect([...executor.runs.values()].every((runs) => runs === 1)).toBe(true);
      expect(executor.total).toBe(ranBefore + 1);
    } finally {
      await raw.close();
    }
  });

  it('counts a flooder by its broker-stamped sender with trustBrokerIdentity, whatever reply topics it names', async () => {
    const org = unique('org');
    const executor = new CountingMessageExecutor();
    const PER_REQUESTER = 5;
    await using agent = await serve(
      org,
      executor,
      { maxWindowEntriesPerRequester: PER_REQUESTER },
      { trustBrokerIdentity: true },
    );
    const raw = await rawClient();
    try {
      await raw.client.subscribeAsync(`$a2a/v1/reply/${org}/u/+/+`, { qos: 1 });
      // What a stamping broker (agentTopicAcl) puts on every routed message, simulated on this lane's broker.
      const ask = async (sender: string, requester: string, correlation: string) => {
        await raw.client.publishAsync(agent.requestTopic, sendBody(newIds()), {
          qos: 1,
          properties: {
            responseTopic: `$a2a/v1/reply/${org}/u/${requester}/s`,
            correlationData: Buffer.from(correlation),
            userProperties: { [SenderUserProperty.ClientId]: sender },
          },
        });
        return raw.next(correlation);
      };
      // Rotating reply-topic identities does not escape the sender's limit.
      for (let index = 0; index < PER_REQUESTER; index++) {
        expect((await ask(`${org}/u/mallory`, `alias-${index}`, `m-${index}`)).json.result).toBeDefined();
      }
      expect(bindingErrorOf(await ask(`${org}/u/mallory`, 'alias-new', 'm-over'))).toBe(
        'responder_unavailable',
      );
      expect((await ask(`${org}/u/alice`, 'alias-0', 'a-1')).json.result).toBeDefined();
    } finally {
      await raw.close();
    }
  });
});
