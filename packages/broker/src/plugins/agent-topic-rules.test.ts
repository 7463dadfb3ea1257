import fc from 'fast-check';
import { matchTopicFilter } from '@mqtt-agents/core/grammar';
import { describe, expect, it } from 'vitest';
import { clientIdProblem, filterCovers, retainRefused } from './agent-topic-rules.js';

const both = { a2a: true, mcp: true };

describe('clientIdProblem', () => {
  it('accepts agents and MCP ids, refuses what cannot be the identifier of its level', () => {
    for (const id of ['acme/line/planner', 'mcp-client-abc', 'Ünïcødé-😀:id@x']) {
      expect(clientIdProblem(id, both), id).toBeUndefined();
    }
    const refused: Array<[string, RegExp]> = [
      ['#', /'#'/],
      ['+', /'\+'/],
      ['a/#', /three levels/],
      ['x/+/y', /unit id/],
      ['org//agent', /unit id: it must not be empty/],
      ['o/u/pool', /agent id: 'pool' is reserved/],
      ['presence', /reserved/],
      ['a\nb', /control/],
      ['a b', /whitespace/],
      ['', /empty/],
    ];
    for (const [id, reason] of refused) expect(clientIdProblem(id, both), JSON.stringify(id)).toMatch(reason);
  });

  it('binds only the families that are on', () => {
    expect(clientIdProblem('o/u/a', { a2a: false, mcp: true })).toMatch(/'\/' is not allowed/);
    expect(clientIdProblem('presence', { a2a: true, mcp: false })).toBeUndefined();
    expect(clientIdProblem('#', { a2a: true, mcp: false })).toMatch(/'#'/);
    expect(clientIdProblem('#', { a2a: false, mcp: false })).toBeUndefined();
  });
});

describe('filterCovers', () => {
  const covers = (grant: string, filter: string) => filterCovers(grant.split('/'), filter.split('/'));

  it('never lets a wildcard stand where the grant names a level', () => {
    expect(covers('$mcp-rpc/me/#', '$mcp-rpc/me/s/n')).toBe(true);
    expect(covers('$mcp-rpc/me/#', '$mcp-rpc/me')).toBe(true);
    expect(covers('$mcp-rpc/me/#', '$mcp-rpc/+/s/n')).toBe(false);
    expect(covers('$mcp-rpc/me/#', '$mcp-rpc/#')).toBe(false);
    expect(covers('$a2a/v1/reply/o/u/a/+', '$a2a/v1/reply/o/u/a/+')).toBe(true);
    expect(covers('$a2a/v1/reply/o/u/a/+', '$a2a/v1/reply/o/u/a/#')).toBe(false);
    expect(covers('$a2a/v1/reply/o/u/a/+', '$a2a/v1/reply/o/u/a')).toBe(false);
    expect(covers('$a2a/v1/request/o/u/pool/+', '$a2a/v1/request/o/u/pool/#')).toBe(false);
  });

  it('is sound: whatever a covered filter matches, the grant matches (property)', () => {
    const level = fc.constantFrom('a', 'b', '+');
    const filter = fc
      .tuple(fc.array(level, { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([levels, hash]) => (hash ? [...levels, '#'] : levels));
    const topic = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(filter, filter, topic, (grant, asked, levels) => {
        if (!filterCovers(grant, asked)) return;
        const name = levels.join('/');
        if (matchTopicFilter(asked.join('/'), name))
          expect(matchTopicFilter(grant.join('/'), name)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('retainRefused', () => {
  it('refuses retain on requests, replies, MCP control and RPC topics only', () => {
    for (const topic of [
      '$a2a/v1/request/o/u/a',
      '$a2a/v1/request/o/u/pool/p',
      '$a2a/v1/reply/o/u/a/r',
      '$a2a/v1/nonsense',
      '$mcp-server/s/name',
      '$mcp-rpc/c/s/name',
      '$mcp-rpc/c',
    ]) {
      expect(retainRefused(topic), topic).toBe(true);
    }
    for (const topic of [
      '$a2a/v1/discovery/o/u/a',
      '$a2a/v1/event/o/u/a',
      '$mcp-server/presence/s/name',
      '$mcp-server/capability/s/name',
      '$mcp-client/presence/c',
      '$mcp-client/capability/c',
      'plain/topic',
    ]) {
      expect(retainRefused(topic), topic).toBe(false);
    }
  });
});
