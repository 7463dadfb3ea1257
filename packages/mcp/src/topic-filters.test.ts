import {
  matchTopicFilter,
  mcpClientCapabilityTopic,
  mcpClientPresenceTopic,
  mcpRpcTopic,
  mcpServerCapabilityTopic,
  mcpServerControlTopic,
  mcpServerPresenceTopic,
} from '@mqtt-agents/core';
import { expect, it } from 'vitest';
import {
  anyClientCapabilityFilter,
  anyClientPresenceFilter,
  anyServerCapabilityFilter,
  anyServerPresenceFilter,
  clientRpcFilter,
  instanceRpcFilter,
  sessionTopicClientId,
} from './topic-filters.js';

const press = { serverId: 'press-1', serverName: 'factory/line-7/press' };
const other = { serverId: 'press-2', serverName: 'factory/line-7/press' };

it('the server routes match every session topic of its own instance and nothing of another', () => {
  expect(matchTopicFilter(instanceRpcFilter(press), mcpRpcTopic({ ...press, mcpClientId: 'planner' }))).toBe(
    true,
  );
  expect(matchTopicFilter(instanceRpcFilter(press), mcpRpcTopic({ ...other, mcpClientId: 'planner' }))).toBe(
    false,
  );
  expect(matchTopicFilter(anyClientPresenceFilter(), mcpClientPresenceTopic('planner'))).toBe(true);
  expect(matchTopicFilter(anyClientPresenceFilter(), mcpClientCapabilityTopic('planner'))).toBe(false);
  expect(matchTopicFilter(anyClientCapabilityFilter(), mcpClientCapabilityTopic('planner'))).toBe(true);
});

it('the client routes match its own rpc topics, and every server capability and presence topic', () => {
  expect(
    matchTopicFilter(clientRpcFilter('planner'), mcpRpcTopic({ ...press, mcpClientId: 'planner' })),
  ).toBe(true);
  expect(matchTopicFilter(clientRpcFilter('planner'), mcpRpcTopic({ ...press, mcpClientId: 'other' }))).toBe(
    false,
  );
  expect(matchTopicFilter(anyServerCapabilityFilter(), mcpServerCapabilityTopic(press))).toBe(true);
  expect(matchTopicFilter(anyServerPresenceFilter(), mcpServerPresenceTopic(press))).toBe(true);
  expect(matchTopicFilter(anyServerPresenceFilter(), mcpServerControlTopic(press))).toBe(false);
});

it('reads the mcp-client-id level of each session topic kind', () => {
  expect(sessionTopicClientId(mcpRpcTopic({ ...press, mcpClientId: 'planner' }), 'rpc')).toBe('planner');
  expect(sessionTopicClientId(mcpClientPresenceTopic('planner'), 'client-presence')).toBe('planner');
  expect(sessionTopicClientId(mcpClientCapabilityTopic('planner'), 'client-capability')).toBe('planner');
});
