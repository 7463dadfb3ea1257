import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MqttAgentsError } from './errors.js';
import { isValidIdentifier } from './identifiers.js';
import {
  MCP_CLIENT_ROOT,
  MCP_RPC_ROOT,
  MCP_SERVER_ROOT,
  buildMcpTopic,
  isMcpTopic,
  mcpAnyClientCapabilityFilter,
  mcpAnyClientPresenceFilter,
  mcpAnyServerCapabilityFilter,
  mcpAnyServerPresenceFilter,
  mcpClientCapabilityTopic,
  mcpClientPresenceTopic,
  mcpClientRpcFilter,
  mcpInstanceRpcFilter,
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

describe('MCP roots', () => {
  it('are the first level of every topic the builders spell', () => {
    const press = { serverId: 'press-1', serverName: 'factory/press' };
    expect(mcpServerPresenceTopic(press).split('/')[0]).toBe(MCP_SERVER_ROOT);
    expect(mcpClientPresenceTopic('planner').split('/')[0]).toBe(MCP_CLIENT_ROOT);
    expect(mcpRpcTopic({ ...press, mcpClientId: 'planner' }).split('/')[0]).toBe(MCP_RPC_ROOT);
    expect([MCP_SERVER_ROOT, MCP_CLIENT_ROOT, MCP_RPC_ROOT]).toEqual([
      '$mcp-server',
      '$mcp-client',
      '$mcp-rpc',
    ]);
  });

  it('isMcpTopic recognises every $mcp- root, known or not, and nothing else', () => {
    expect(isMcpTopic(mcpClientCapabilityTopic('planner'))).toBe(true);
    expect(isMcpTopic('$mcp-future/anything')).toBe(true);
    expect(isMcpTopic('$a2a/v1/event/o/u/a')).toBe(false);
    expect(isMcpTopic('mcp-server/x/y')).toBe(false);
    expect(isMcpTopic(42 as unknown as string)).toBe(false);
  });
});

describe('MCP route filters', () => {
  const press = { serverId: 'press-1', serverName: 'factory/line-7/press' };
  const other = { serverId: 'press-2', serverName: 'factory/line-7/press' };

  it('spell wildcards only where a level is a wildcard', () => {
    expect(mcpInstanceRpcFilter(press)).toBe('$mcp-rpc/+/press-1/factory/line-7/press');
    expect(mcpClientRpcFilter('planner')).toBe('$mcp-rpc/planner/#');
    expect(mcpAnyClientPresenceFilter()).toBe('$mcp-client/presence/+');
    expect(mcpAnyClientCapabilityFilter()).toBe('$mcp-client/capability/+');
    expect(mcpAnyServerPresenceFilter()).toBe('$mcp-server/presence/#');
    expect(mcpAnyServerCapabilityFilter()).toBe('$mcp-server/capability/#');
    for (const filter of [
      mcpInstanceRpcFilter(press),
      mcpClientRpcFilter('planner'),
      mcpAnyClientPresenceFilter(),
      mcpAnyClientCapabilityFilter(),
      mcpAnyServerPresenceFilter(),
      mcpAnyServerCapabilityFilter(),
    ]) {
      expect(validateTopicFilter(filter).ok).toBe(true);
    }
  });

  it('validate the fixed levels', () => {
    expect(() => mcpInstanceRpcFilter({ serverId: '+', serverName: 'press' })).toThrow(MqttAgentsError);
    expect(() => mcpInstanceRpcFilter({ serverId: 'press-1', serverName: 'factory/#' })).toThrow(
      MqttAgentsError,
    );
    expect(() => mcpClientRpcFilter('a/b')).toThrow(MqttAgentsError);
    expect(() => mcpClientRpcFilter('#')).toThrow(MqttAgentsError);
  });

  it('the server routes match every session topic of its own instance and nothing of another', () => {
    expect(
      matchTopicFilter(mcpInstanceRpcFilter(press), mcpRpcTopic({ ...press, mcpClientId: 'planner' })),
    ).toBe(true);
    expect(
      matchTopicFilter(mcpInstanceRpcFilter(press), mcpRpcTopic({ ...other, mcpClientId: 'planner' })),
    ).toBe(false);
    expect(matchTopicFilter(mcpAnyClientPresenceFilter(), mcpClientPresenceTopic('planner'))).toBe(true);
    expect(matchTopicFilter(mcpAnyClientPresenceFilter(), mcpClientCapabilityTopic('planner'))).toBe(false);
    expect(matchTopicFilter(mcpAnyClientCapabilityFilter(), mcpClientCapabilityTopic('planner'))).toBe(true);
  });

  it('the client routes match its own rpc topics, and every server capability and presence topic', () => {
    expect(
      matchTopicFilter(mcpClientRpcFilter('planner'), mcpRpcTopic({ ...press, mcpClientId: 'planner' })),
    ).toBe(true);
    expect(
      matchTopicFilter(mcpClientRpcFilter('planner'), mcpRpcTopic({ ...press, mcpClientId: 'other' })),
    ).toBe(false);
    expect(matchTopicFilter(mcpAnyServerCapabilityFilter(), mcpServerCapabilityTopic(press))).toBe(true);
    expect(matchTopicFilter(mcpAnyServerPresenceFilter(), mcpServerPresenceTopic(press))).toBe(true);
    expect(matchTopicFilter(mcpAnyServerPresenceFilter(), mcpServerControlTopic(press))).toBe(false);
  });
});
