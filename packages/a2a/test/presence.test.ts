// Discovery publisher and presence rules: retained card, status user properties, will, graceful offline,
// unregister, client id, identifier validation.
import {
  A2AStatus,
  A2AStatusSource,
  A2AUserProperty,
  MqttAgentsError,
  a2aDiscoveryTopic,
} from '@mqtt-agents/core';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MQTT_PROTOCOL_BINDING, discoverAgents, serveA2AOverMqtt } from '../src/index.js';
import { EchoExecutor, RawClient, hasCorrelation, rawRequest, sendMessageBody, uniqueId } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

function statusOf(message: {
  packet: { properties?: { userProperties?: Record<string, string | string[]> } };
}): [unknown, unknown] {
  const properties = message.packet.properties?.userProperties ?? {};
  return [properties[A2AUserProperty.Status], properties[A2AUserProperty.StatusSource]];
}

async function serve(org: string, agentId = 'agent-b') {
  return serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'unit-1',
    agentId,
    card: { name: 'Agent B', description: 'answers questions', skills: [{ id: 'qa', name: 'Q&A' }] },
    executor: new EchoExecutor(),
  });
}

describe('discovery publisher', () => {
  it('publishes the card retained at QoS 1 with a2a-status=online and a2a-status-source=agent', async () => {
    const org = uniqueId('org');
    await using agent = await serve(org);
    // A subscriber that arrives after the agent still gets the card: it is retained.
    await using raw = await RawClient.connect(broker.url);
    await raw.subscribe(agent.discoveryTopic);
    const card = await raw.next((message) => message.topic === agent.discoveryTopic);
    expect(card.packet.retain).toBe(true);
    expect(card.packet.qos).toBe(1);
    expect(statusOf(card)).toEqual([A2AStatus.Online, A2AStatusSource.Agent]);
    expect(card.topic).toBe(`$a2a/v1/discovery/${org}/unit-1/agent-b`);
    const json = card.json as Record<string, unknown>;
    expect(json.name).toBe('Agent B');
    expect(json.supportedInterfaces).toEqual([
      {
        url: broker.url,
        protocolBinding: MQTT_PROTOCOL_BINDING,
        tenant: `${org}/unit-1`,
        protocolVersion: '1.0',
      },
    ]);
  });

  it('republishes the card retained with a2a-status=offline, source agent, on graceful close', async () => {
    const org = uniqueId('org');
    const agent = await serve(org);
    await using raw = await RawClient.connect(broker.url);
    await raw.subscribe(agent.discoveryTopic);
    await raw.next((message) => statusOf(message)[0] === A2AStatus.Online);
    await agent.close();
    await agent.close(); // idempotent
    const offline = await raw.next((message) => statusOf(message)[0] === A2AStatus.Offline);
    expect(statusOf(offline)).toEqual([A2AStatus.Offline, A2AStatusSource.Agent]);
    expect((offline.json as { name: string }).name).toBe('Agent B');
    // Still retained for late subscribers.
    await using late = await RawClient.connect(broker.url);
    await late.subscribe(agent.discoveryTopic);
    const retained = await late.next();
    expect(retained.packet.retain).toBe(true);
    expect(statusOf(retained)).toEqual([A2AStatus.Offline, A2AStatusSource.Agent]);
  });

  it('configures a will that marks the retained card offline with source lwt when the agent vanishes', async () => {
    const org = uniqueId('org');
    await using agent = await serve(org);
    await using raw = await RawClient.connect(broker.url);
    await raw.subscribe(agent.discoveryTopic);
    await raw.next((message) => statusOf(message)[0] === A2AStatus.Online);
    // Crash: the socket dies without DISCONNECT, so the broker publishes the will.
    (agent.connection.client as unknown as { stream: { destroy(): void } }).stream.destroy();
    const will = await raw.next((message) => statusOf(message)[1] === A2AStatusSource.Lwt);
    expect(statusOf(will)).toEqual([A2AStatus.Offline, A2AStatusSource.Lwt]);
    expect((will.json as { name: string }).name).toBe('Agent B');
    // MQTT.js reconnects and the agent says it is back.
    const back = await raw.next(
      (message) =>
        raw.received.indexOf(message) > raw.received.indexOf(will) &&
        statusOf(message)[0] === A2AStatus.Online,
    );
    expect(statusOf(back)).toEqual([A2AStatus.Online, A2AStatusSource.Agent]);
    // ...and it is subscribed to its request topic again.
    const replyTopic = `$a2a/v1/reply/${org}/unit-1/raw/${uniqueId('s')}`;
    await raw.subscribe(replyTopic);
    const correlation = await rawRequest(raw, agent.requestTopic, sendMessageBody('are you back?'), {
      responseTopic: replyTopic,
    });
    const reply = await raw.next(
      (message) => message.topic === replyTopic && hasCorrelation(correlation)(message),
    );
    expect(reply.json).toHaveProperty('result.task.status.state', 'TASK_STATE_COMPLETED');
  });

  it('unregisters by clearing the retained card', async () => {
    const org = uniqueId('org');
    await using agent = await serve(org);
    await using registry = await discoverAgents({ mqtt: { url: broker.url }, org, unit: 'unit-1' });
    await registry.waitFor('agent-b');
    const changes = registry.changes();
    expect((await changes.next()).value?.type).toBe('added');
    await agent.unregister();
    expect((await changes.next()).value).toMatchObject({ type: 'removed', key: `${org}/unit-1/agent-b` });
    expect(registry.get('agent-b')).toBeUndefined();
    await using late = await RawClient.connect(broker.url);
    await late.subscribe(agent.discoveryTopic);
    await agent.updateCard({ name: 'Agent B v2' });
    const next = await late.next();
    // Nothing was retained in between: the first thing the late subscriber sees is the new card.
    expect((next.json as { name: string }).name).toBe('Agent B v2');
    expect(agent.registered).toBe(true);
  });

  it('connects with client id {org}/{unit}/{agent}: a second client with that id takes the session over', async () => {
    const org = uniqueId('org');
    await using agent = await serve(org);
    expect(agent.clientId).toBe(`${org}/unit-1/agent-b`);
    const dropped = new Promise<void>((resolve) => agent.connection.on('connection-drop', () => resolve()));
    await using intruder = await RawClient.connect(broker.url, `${org}/unit-1/agent-b`);
    await dropped;
    expect(intruder.client.connected).toBe(true);
  });

  it('validates identifiers before building any topic or connecting', async () => {
    for (const [field, value] of [
      ['agentId', 'a/b'],
      ['agentId', 'a+b'],
      ['org', 'acme#'],
      ['unit', ''],
      ['agentId', 'sp ace'],
    ] as const) {
      const attempt = serveA2AOverMqtt({
        // Nothing listens there: an attempt to connect would fail with CONNECT_FAILED instead.
        mqtt: { url: 'mqtt://127.0.0.1:1', connectTimeoutMs: 200 },
        org: 'com.acme',
        unit: 'unit-1',
        agentId: 'ok',
        [field]: value,
        card: { name: 'x' },
        executor: new EchoExecutor(),
      });
      await expect(attempt).rejects.toSatisfy((error: unknown) =>
        MqttAgentsError.hasCode(error, 'INVALID_IDENTIFIER'),
      );
    }
    expect(() => a2aDiscoveryTopic({ orgId: 'a', unitId: 'b', agentId: 'c/d' })).toThrow(/invalid agent id/);
  });
});
