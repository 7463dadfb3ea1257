import { mcpClientCapabilityTopic, mcpClientPresenceTopic, mcpRpcTopic } from '@mqtt-agents/core';
import { expect, it } from 'vitest';
import { sessionTopicClientId } from './session-topics.js';

const press = { serverId: 'press-1', serverName: 'factory/line-7/press' };

it('reads the mcp-client-id level of each session topic kind', () => {
  expect(sessionTopicClientId(mcpRpcTopic({ ...press, mcpClientId: 'planner' }), 'rpc')).toBe('planner');
  expect(sessionTopicClientId(mcpClientPresenceTopic('planner'), 'client-presence')).toBe('planner');
  expect(sessionTopicClientId(mcpClientCapabilityTopic('planner'), 'client-capability')).toBe('planner');
});
