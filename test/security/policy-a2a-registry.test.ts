// Attacks on the A2A registry plugin (`a2aRegistry`), embedded broker only.
//
// Principle (issue 12): rate limits and policy never trust a property the client supplies. The registry let
// a publication through its registration rate limit when the publisher's own user property said
// `a2a-status: offline`, so an agent could churn its card without limit by writing "offline" on each one.
// Now only a republication of the retained card's exact bytes (going offline, a will) is free. And the
// registry judges the card that discovery will read: core's JSON decoder, as the receivers use it.
import { a2aRegistry } from '@mqtt-agents/broker';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedLane, unique } from './helpers.js';
import { Peer } from './policy-fixtures.js';

const QUOTA_EXCEEDED = 0x97;
const PAYLOAD_FORMAT_INVALID = 0x99;

let broker: TestBroker;
let detach: (() => void) | undefined;
const peers: Peer[] = [];

beforeAll(async () => {
  if (!embeddedLane) return;
  const registry = a2aRegistry({ registrationRateLimit: { max: 2, windowMs: 60_000 } });
  broker = await startTestBroker({ embedded: { ...registry.hooks } });
  detach = registry.attach(broker.broker as NonNullable<TestBroker['broker']>);
});

afterAll(async () => {
  await Promise.allSettled(peers.map((peer) => peer.close()));
  detach?.();
  await broker?.close();
});

function card(name: string): string {
  return JSON.stringify({
    name,
    description: name,
    version: '1.0.0',
    supportedInterfaces: [
      { url: 'mqtt://127.0.0.1', protocolBinding: 'MQTT5+JSONRPC', protocolVersion: '1.0' },
    ],
    capabilities: {},
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [{ id: 'echo', name: 'Echo', description: 'echo', tags: ['echo'] }],
  });
}

async function agent(): Promise<{ peer: Peer; topic: string }> {
  const clientId = `${unique('org')}/u/agent`;
  const peer = await Peer.connect(broker.url, clientId);
  peers.push(peer);
  return { peer, topic: `$a2a/v1/discovery/${clientId}` };
}

const status = (value: string) => ({
  retain: true,
  properties: { userProperties: { 'a2a-status': value, 'a2a-status-source': 'agent' } },
});

describe.skipIf(!embeddedLane)('policy: the registry rate limit trusts no client property', () => {
  it('counts a new card that says a2a-status: offline as a registration', async () => {
    const { peer, topic } = await agent();
    expect(await peer.publish(topic, card('v1'), status('online'))).toBe('accepted');
    expect(await peer.publish(topic, card('v2'), status('online'))).toBe('accepted');
    for (const version of ['v3', 'v4', 'v5']) {
      expect(await peer.publish(topic, card(version), status('offline')), version).toBe(QUOTA_EXCEEDED);
    }
    expect(broker.broker?.getRetained(topic)?.payload.toString()).toBe(card('v2'));
    // Going offline with the very card that is registered changes nothing and stays free.
    expect(await peer.publish(topic, card('v2'), status('offline'))).toBe('accepted');
    expect(await peer.publish(topic, card('v2'), status('offline'))).toBe('accepted');
  });

  it('judges the card discovery will read: the receivers decoder, not a looser one', async () => {
    const { peer, topic } = await agent();
    const polluted = card('p').replace(
      '"capabilities":{}',
      '"capabilities":{"__proto__":{"streaming":true}}',
    );
    expect(await peer.publish(topic, polluted, status('online'))).toBe(PAYLOAD_FORMAT_INVALID);
    const invalidUtf8 = Buffer.concat([
      Buffer.from(card('x').slice(0, 12)),
      Buffer.from([0xc0, 0xaf]),
      Buffer.from(card('x').slice(12)),
    ]);
    expect(await peer.publish(topic, invalidUtf8, status('online'))).toBe(PAYLOAD_FORMAT_INVALID);
    expect(broker.broker?.getRetained(topic)).toBeUndefined();
    // A byte order mark is what the receivers tolerate, so the registry does too.
    expect(await peer.publish(topic, `\uFEFF${card('bom')}`, status('online'))).toBe('accepted');
  });
});
