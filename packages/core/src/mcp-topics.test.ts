import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MqttAgentsError } from './errors.js';
import { isValidIdentifier } from './identifiers.js';
import {
  buildMcpTopic,
  mcpClientCapabilityTopic,
  mcpClientPresenceTopic,
  mcpRpcFilter,
  mcpRpcTopic,
  mcpServerCapabilityFilter,
  mcpServerCapabilityTopic,
  mcpServerControlTopic,
  mcpServerPresenceFilter,
  mcpServerPresenceTopic,
  parseMcpTopic,
} from './mcp-topics.js';
import type { McpTopic } from './mcp-topics.js';
import { matchTopicFilter, validateTopicFilter, validateTopicName } from './topic-filter.js';

const server = { serverId: 'srv-1', serverName: 'factory/line-7/press' };

describe('MCP topic builders', () => {
  it('build the topics of the MCP over MQTT spec', () => {
    expect(mcpServerControlTopic(server)).toBe('$mcp-server/srv-1/factory/line-7/press');
    expect(mcpServerCapabilityTopic(server)).toBe('$mcp-server/capability/srv-1/factory/line-7/press');
    expect(mcpServerPresenceTopic(server)).toBe('$mcp-server/presence/srv-1/factory/line-7/press');
    expect(mcpClientPresenceTopic('cli-9')).toBe('$mcp-client/presence/cli-9');
    expect(mcpClientCapabilityTopic('cli-9')).toBe('$mcp-client/capability/cli-9');
    expect(mcpRpcTopic({ mcpClientId: 'cli-9', ...server })).toBe(
      '$mcp-rpc/cli-9/srv-1/factory/line-7/press',
    );
  });

  it('build the filters a client subscribes to', () => {
    expect(mcpServerPresenceFilter()).toBe('$mcp-server/presence/+/#');
    expect(mcpServerPresenceFilter('factory/+/press')).toBe('$mcp-server/presence/+/factory/+/press');
    expect(mcpServerCapabilityFilter({ serverId: 'srv-1', serverNameFilter: 'factory/#' })).toBe(
      '$mcp-server/capability/srv-1/factory/#',
    );
    expect(
      mcpRpcFilter({ mcpClientId: 'cli-9', serverId: 'srv-1', serverNameFilter: 'factory/line-7/press' }),
    ).toBe('$mcp-rpc/cli-9/srv-1/factory/line-7/press');
  });

  it('presence filters match presence topics of the named servers only', () => {
    const presence = mcpServerPresenceTopic(server);
    expect(matchTopicFilter(mcpServerPresenceFilter(), presence)).toBe(true);
    expect(matchTopicFilter(mcpServerPresenceFilter('factory/#'), presence)).toBe(true);
    expect(matchTopicFilter(mcpServerPresenceFilter('factory/+/press'), presence)).toBe(true);
    expect(matchTopicFilter(mcpServerPresenceFilter('factory/+'), presence)).toBe(false);
    expect(matchTopicFilter(mcpServerPresenceFilter('office/#'), presence)).toBe(false);
    // Discovery must not see control or capability traffic.
    expect(matchTopicFilter(mcpServerPresenceFilter(), mcpServerControlTopic(server))).toBe(false);
    expect(matchTopicFilter(mcpServerPresenceFilter(), mcpServerCapabilityTopic(server))).toBe(false);
  });

  it('refuse invalid ids with INVALID_IDENTIFIER', () => {
    const cases: Array<() => unknown> = [
      () => mcpServerControlTopic({ serverId: 'a/b', serverName: 'x' }),
      () => mcpServerControlTopic({ serverId: 'presence', serverName: 'x' }),
      () => mcpServerPresenceTopic({ serverId: 's', serverName: 'x/+' }),
      () => mcpServerCapabilityTopic({ serverId: 's', serverName: '' }),
      () => mcpClientPresenceTopic('c#'),
      () => mcpClientCapabilityTopic('c/d'),
      () => mcpRpcTopic({ mcpClientId: 'c', serverId: 's', serverName: 'a//b' }),
      () => mcpServerPresenceFilter('a/#/b'),
      () => mcpServerCapabilityFilter({ serverId: '+', serverNameFilter: '#' }),
      () => mcpRpcFilter({ mcpClientId: '#', serverId: 's', serverNameFilter: '#' }),
    ];
    for (const build of cases) {
      expect(build).toThrow(MqttAgentsError);
      try {
        build();
      } catch (error) {
        expect((error as MqttAgentsError).code).toBe('INVALID_IDENTIFIER');
      }
    }
    expect(() => mcpClientPresenceTopic('a/b')).toThrow("invalid mcp client id 'a/b': '/' is not allowed");
  });
});

const singleLevelId = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.:@$-]{1,40}$/),
  fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }),
);
const serverId = singleLevelId.filter((value) => isValidIdentifier('server-id', value));
const mcpClientId = singleLevelId.filter((value) => isValidIdentifier('mcp-client-id', value));
const serverName = fc
  .array(singleLevelId, { minLength: 1, maxLength: 4 })
  .map((levels) => levels.join('/'))
  .filter((value) => isValidIdentifier('server-name', value));

const mcpTopic: fc.Arbitrary<McpTopic> = fc.oneof(
  fc.record({ kind: fc.constant('server-control' as const), serverId, serverName }),
  fc.record({ kind: fc.constant('server-capability' as const), serverId, serverName }),
  fc.record({ kind: fc.constant('server-presence' as const), serverId, serverName }),
  fc.record({ kind: fc.constant('client-presence' as const), mcpClientId }),
  fc.record({ kind: fc.constant('client-capability' as const), mcpClientId }),
  fc.record({ kind: fc.constant('rpc' as const), mcpClientId, serverId, serverName }),
);

describe('parseMcpTopic', () => {
  it.each<[string, McpTopic]>([
    ['$mcp-server/srv-1/factory/line-7/press', { kind: 'server-control', ...server }],
    ['$mcp-server/capability/srv-1/factory/line-7/press', { kind: 'server-capability', ...server }],
    ['$mcp-server/presence/srv-1/factory/line-7/press', { kind: 'server-presence', ...server }],
    ['$mcp-server/presence/srv-1/x', { kind: 'server-presence', serverId: 'srv-1', serverName: 'x' }],
    ['$mcp-client/presence/cli-9', { kind: 'client-presence', mcpClientId: 'cli-9' }],
    ['$mcp-client/capability/cli-9', { kind: 'client-capability', mcpClientId: 'cli-9' }],
    ['$mcp-rpc/cli-9/srv-1/factory/line-7/press', { kind: 'rpc', mcpClientId: 'cli-9', ...server }],
  ])('parses %s', (topic, expected) => {
    expect(parseMcpTopic(topic)).toEqual(expected);
  });

  it('reads the second level as the topic kind, never as a server id', () => {
    // Read as a control topic this would be server 'capability' named 'a/b'; that id is reserved.
    expect(parseMcpTopic('$mcp-server/capability/a/b')).toEqual({
      kind: 'server-capability',
      serverId: 'a',
      serverName: 'b',
    });
    expect(parseMcpTopic('$mcp-server/presence/a')).toBeUndefined();
    expect(parseMcpTopic('$mcp-server/capability/a')).toBeUndefined();
  });

  it.each([
    '',
    'mcp-server/s/n',
    '$mcp-server',
    '$mcp-server/',
    '$mcp-server/s',
    '$mcp-server/s/',
    '$mcp-server//n',
    '$mcp-server/s/a//b',
    '$mcp-server/s/+',
    '$mcp-server/presence/+/#',
    '$mcp-server/presence//n',
    '$mcp-client/presence',
    '$mcp-client/presence/',
    '$mcp-client/presence/c/d',
    '$mcp-client/other/c',
    '$mcp-client/presence/c d',
    '$mcp-rpc/c/s',
    '$mcp-rpc/c/s/',
    '$mcp-rpc//s/n',
    '$mcp-rpc/c/presence/n',
    '$mcp-rpcx/c/s/n',
    '$mcp-other/a/b',
    '$a2a/v1/request/o/u/a',
    `$mcp-client/presence/${'c'.repeat(129)}`,
  ])('returns undefined for %j', (topic) => {
    expect(parseMcpTopic(topic)).toBeUndefined();
  });

  it('never throws on foreign input', () => {
    expect(parseMcpTopic(undefined as unknown as string)).toBeUndefined();
    expect(parseMcpTopic(42 as unknown as string)).toBeUndefined();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc
            .tuple(
              fc.constantFrom('$mcp-server', '$mcp-client', '$mcp-rpc'),
              fc.array(
                fc.oneof(
                  singleLevelId,
                  fc.constantFrom('presence', 'capability', '', '+', '#', 'a b', 'a\u0000'),
                ),
                { maxLength: 5 },
              ),
            )
            .map(([root, levels]) => [root, ...levels].join('/')),
        ),
        (topic) => {
          const parsed = parseMcpTopic(topic);
          // Whatever parses builds back to the same topic.
          if (parsed !== undefined) expect(buildMcpTopic(parsed)).toBe(topic);
        },
      ),
    );
  });

  it('round-trips: parse(build(x)) equals x for every kind', () => {
    fc.assert(
      fc.property(mcpTopic, (topic) => {
        const built = buildMcpTopic(topic);
        expect(validateTopicName(built)).toEqual({ ok: true });
        expect(parseMcpTopic(built)).toEqual(topic);
      }),
      { numRuns: 1000 },
    );
  });

  it('filters built from a server name match exactly that name', () => {
    fc.assert(
      fc.property(mcpClientId, serverId, serverName, serverName, (client, id, name, otherName) => {
        const filter = mcpRpcFilter({ mcpClientId: client, serverId: id, serverNameFilter: name });
        expect(validateTopicFilter(filter)).toEqual({ ok: true });
        expect(
          matchTopicFilter(filter, mcpRpcTopic({ mcpClientId: client, serverId: id, serverName: name })),
        ).toBe(true);
        expect(
          matchTopicFilter(filter, mcpRpcTopic({ mcpClientId: client, serverId: id, serverName: otherName })),
        ).toBe(name === otherName);
      }),
    );
  });
});
