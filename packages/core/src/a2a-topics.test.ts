import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  A2A_DISCOVERY_PREFIX,
  A2A_ROOT,
  A2A_TOPIC_PREFIX,
  A2A_VERSION,
  a2aClientId,
  a2aDiscoveryFilter,
  a2aDiscoveryTopic,
  a2aEventFilter,
  a2aEventTopic,
  a2aPoolRequestTopic,
  a2aPoolSubscription,
  a2aReplyFilter,
  a2aReplyTopic,
  a2aRequestTopic,
  buildA2aTopic,
  isA2aTopic,
  parseA2aClientId,
  parseA2aTopic,
} from './a2a-topics.js';
import type { A2aTopic } from './a2a-topics.js';
import { MqttAgentsError } from './errors.js';
import {
  matchTopicFilter,
  parseSharedSubscription,
  validateTopicFilter,
  validateTopicName,
} from './topic-filter.js';

const agent = { orgId: 'com.example', unitId: 'factory-a', agentId: 'iot-ops-agent-001' };
const pool = { orgId: 'com.example', unitId: 'factory-a', poolId: 'summarizers' };

describe('A2A topic builders', () => {
  it('build the topics of the A2A over MQTT profile', () => {
    expect(a2aDiscoveryTopic(agent)).toBe('$a2a/v1/discovery/com.example/factory-a/iot-ops-agent-001');
    expect(a2aRequestTopic(agent)).toBe('$a2a/v1/request/com.example/factory-a/iot-ops-agent-001');
    expect(a2aEventTopic(agent)).toBe('$a2a/v1/event/com.example/factory-a/iot-ops-agent-001');
    expect(a2aReplyTopic({ ...agent, replySuffix: '3f2a9c1d' })).toBe(
      '$a2a/v1/reply/com.example/factory-a/iot-ops-agent-001/3f2a9c1d',
    );
    expect(a2aPoolRequestTopic(pool)).toBe('$a2a/v1/request/com.example/factory-a/pool/summarizers');
  });

  it('build discovery and event filters for a unit, an org, or everything', () => {
    expect(a2aDiscoveryFilter({ orgId: 'acme', unitId: 'ops' })).toBe('$a2a/v1/discovery/acme/ops/+');
    expect(a2aDiscoveryFilter({ orgId: 'acme' })).toBe('$a2a/v1/discovery/acme/+/+');
    expect(a2aDiscoveryFilter()).toBe('$a2a/v1/discovery/+/+/+');
    expect(a2aDiscoveryFilter(agent)).toBe(a2aDiscoveryTopic(agent));
    expect(a2aEventFilter({ orgId: 'acme', unitId: 'ops' })).toBe('$a2a/v1/event/acme/ops/+');
    expect(a2aEventFilter()).toBe('$a2a/v1/event/+/+/+');
    expect(a2aReplyFilter(agent)).toBe('$a2a/v1/reply/com.example/factory-a/iot-ops-agent-001/+');
  });

  it('discovery filters see cards of their scope only', () => {
    const card = a2aDiscoveryTopic(agent);
    expect(matchTopicFilter(a2aDiscoveryFilter(), card)).toBe(true);
    expect(matchTopicFilter(a2aDiscoveryFilter({ orgId: 'com.example' }), card)).toBe(true);
    expect(matchTopicFilter(a2aDiscoveryFilter({ orgId: 'com.example', unitId: 'factory-a' }), card)).toBe(
      true,
    );
    expect(matchTopicFilter(a2aDiscoveryFilter({ orgId: 'com.example', unitId: 'factory-b' }), card)).toBe(
      false,
    );
    expect(matchTopicFilter(a2aDiscoveryFilter({ orgId: 'other' }), card)).toBe(false);
    expect(matchTopicFilter(a2aDiscoveryFilter(), a2aRequestTopic(agent))).toBe(false);
  });

  it('a reply filter sees every reply topic of its requester and nothing else', () => {
    const filter = a2aReplyFilter(agent);
    expect(matchTopicFilter(filter, a2aReplyTopic({ ...agent, replySuffix: 'abc' }))).toBe(true);
    expect(matchTopicFilter(filter, a2aReplyTopic({ ...agent, agentId: 'other', replySuffix: 'abc' }))).toBe(
      false,
    );
    expect(matchTopicFilter(filter, a2aRequestTopic(agent))).toBe(false);
  });

  it('build the pool member shared subscription with the derived group id by default', () => {
    expect(a2aPoolSubscription(pool)).toBe(
      '$share/a2a.com.example.factory_a.summarizers/$a2a/v1/request/com.example/factory-a/pool/summarizers',
    );
    expect(a2aPoolSubscription({ ...pool, groupId: 'my-group' })).toBe(
      '$share/my-group/$a2a/v1/request/com.example/factory-a/pool/summarizers',
    );
    const subscription = a2aPoolSubscription(pool);
    expect(validateTopicFilter(subscription)).toEqual({ ok: true });
    expect(parseSharedSubscription(subscription)?.filter).toBe(a2aPoolRequestTopic(pool));
    expect(matchTopicFilter(subscription, a2aPoolRequestTopic(pool))).toBe(true);
    expect(matchTopicFilter(subscription, a2aRequestTopic(agent))).toBe(false);
  });

  it('build and parse the MQTT client id {org}/{unit}/{agent}', () => {
    expect(a2aClientId(agent)).toBe('com.example/factory-a/iot-ops-agent-001');
    expect(parseA2aClientId('com.example/factory-a/iot-ops-agent-001')).toEqual(agent);
    for (const clientId of ['a/b', 'a/b/c/d', 'a//c', 'a/b/c d', '', 'a/b/+']) {
      expect(parseA2aClientId(clientId)).toBeUndefined();
    }
    expect(parseA2aClientId(null as unknown as string)).toBeUndefined();
  });

  it('refuse invalid ids with INVALID_IDENTIFIER before building anything', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => a2aRequestTopic({ ...agent, agentId: 'a/b' }), "invalid agent id 'a/b': '/' is not allowed"],
      [() => a2aDiscoveryTopic({ ...agent, orgId: '+' }), "invalid org id '+': '+' is not allowed"],
      [() => a2aEventTopic({ ...agent, unitId: '' }), "invalid unit id '': it must not be empty"],
      [() => a2aPoolRequestTopic({ ...pool, poolId: 'p#' }), "invalid pool id 'p#': '#' is not allowed"],
      [
        () => a2aReplyTopic({ ...agent, replySuffix: 'x/y' }),
        "invalid reply suffix 'x/y': '/' is not allowed",
      ],
      [
        () => a2aPoolSubscription({ ...pool, groupId: 'g h' }),
        "invalid group id 'g h': whitespace is not allowed",
      ],
      [
        () => a2aDiscoveryFilter({ orgId: 'é' }),
        "invalid org id 'é': only letters, digits, '_', '.' and '-' are allowed",
      ],
      [() => a2aClientId({ ...agent, agentId: 'a b' }), "invalid agent id 'a b': whitespace is not allowed"],
    ];
    for (const [build, message] of cases) {
      let thrown: unknown;
      try {
        build();
      } catch (error) {
        thrown = error;
      }
      expect(MqttAgentsError.hasCode(thrown, 'INVALID_IDENTIFIER')).toBe(true);
      expect((thrown as Error).message).toBe(message);
    }
  });
});

const id = fc.stringMatching(/^[A-Za-z0-9_.-]{1,32}$/);
const agentId = id.filter((value) => value !== 'pool');
const a2aTopic: fc.Arbitrary<A2aTopic> = fc.oneof(
  fc.record({ kind: fc.constant('discovery' as const), orgId: id, unitId: id, agentId }),
  fc.record({ kind: fc.constant('request' as const), orgId: id, unitId: id, agentId }),
  fc.record({ kind: fc.constant('event' as const), orgId: id, unitId: id, agentId }),
  fc.record({ kind: fc.constant('pool-request' as const), orgId: id, unitId: id, poolId: id }),
  fc.record({ kind: fc.constant('reply' as const), orgId: id, unitId: id, agentId, replySuffix: id }),
);

describe('parseA2aTopic', () => {
  it.each<[string, A2aTopic]>([
    ['$a2a/v1/discovery/o/u/a', { kind: 'discovery', orgId: 'o', unitId: 'u', agentId: 'a' }],
    ['$a2a/v1/request/o/u/a', { kind: 'request', orgId: 'o', unitId: 'u', agentId: 'a' }],
    ['$a2a/v1/event/o/u/a', { kind: 'event', orgId: 'o', unitId: 'u', agentId: 'a' }],
    ['$a2a/v1/request/o/u/pool/p', { kind: 'pool-request', orgId: 'o', unitId: 'u', poolId: 'p' }],
    ['$a2a/v1/reply/o/u/a/r1', { kind: 'reply', orgId: 'o', unitId: 'u', agentId: 'a', replySuffix: 'r1' }],
  ])('parses %s', (topic, expected) => {
    expect(parseA2aTopic(topic)).toEqual(expected);
  });

  it.each([
    '',
    '$a2a/v1',
    '$a2a/v1/',
    '$a2a/v2/request/o/u/a',
    'a2a/v1/request/o/u/a',
    '$a2a/v1/request/o/u',
    '$a2a/v1/request/o/u/a/b',
    '$a2a/v1/request/o/u/pool/p/x',
    '$a2a/v1/request/o/u/pool/',
    '$a2a/v1/discovery/o/u/pool/p',
    '$a2a/v1/event/o/u/a/extra',
    '$a2a/v1/reply/o/u/a',
    '$a2a/v1/reply/o/u/a/r/x',
    '$a2a/v1/reply/o/u/a/',
    '$a2a/v1/status/o/u/a',
    '$a2a/v1/discovery/o/u/+',
    '$a2a/v1/discovery/o//a',
    '$a2a/v1/discovery/o/u/a b',
    '$a2a/v1/discovery/é/u/a',
    `$a2a/v1/request/o/u/${'a'.repeat(129)}`,
    '$mcp-rpc/c/s/n',
    // `pool` is the pool keyword, never an agent id (pool filters `.../pool/#` would reach its requests).
    '$a2a/v1/request/o/u/pool',
    '$a2a/v1/reply/o/u/pool/r',
    '$a2a/v1/discovery/o/u/pool',
    '$a2a/v1/event/o/u/pool',
  ])('returns undefined for %j', (topic) => {
    expect(parseA2aTopic(topic)).toBeUndefined();
  });

  it('round-trips: parse(build(x)) equals x for every kind', () => {
    fc.assert(
      fc.property(a2aTopic, (topic) => {
        const built = buildA2aTopic(topic);
        expect(validateTopicName(built)).toEqual({ ok: true });
        expect(parseA2aTopic(built)).toEqual(topic);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on foreign input, and whatever parses builds back to the same topic', () => {
    expect(parseA2aTopic(undefined as unknown as string)).toBeUndefined();
    const level = fc.oneof(id, fc.constantFrom('pool', '', '+', '#', 'a b', 'é', 'request', 'reply'));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.array(level, { maxLength: 6 }).map((levels) => ['$a2a', 'v1', ...levels].join('/')),
        ),
        (topic) => {
          const parsed = parseA2aTopic(topic);
          if (parsed !== undefined) expect(buildA2aTopic(parsed)).toBe(topic);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('A2A roots', () => {
  it('are the levels every topic the builders spell starts with', () => {
    expect([A2A_ROOT, A2A_VERSION, A2A_TOPIC_PREFIX]).toEqual(['$a2a', 'v1', '$a2a/v1']);
    expect(a2aEventTopic(agent).startsWith(`${A2A_TOPIC_PREFIX}/`)).toBe(true);
    expect(a2aDiscoveryTopic(agent)).toBe(`${A2A_DISCOVERY_PREFIX}com.example/factory-a/iot-ops-agent-001`);
  });

  it('isA2aTopic recognises any topic under the root, of any version, and nothing else', () => {
    expect(isA2aTopic(a2aRequestTopic(agent))).toBe(true);
    expect(isA2aTopic('$a2a/v2/request/o/u/a')).toBe(true);
    expect(isA2aTopic('$a2a')).toBe(false);
    expect(isA2aTopic('$mcp-rpc/a/b/c')).toBe(false);
    expect(isA2aTopic(undefined as unknown as string)).toBe(false);
  });
});
