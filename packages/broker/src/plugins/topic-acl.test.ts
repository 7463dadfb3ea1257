import { SenderUserProperty } from '@mqtt-agents/core/grammar';
import { describe, expect, it } from 'vitest';
import type { ClientInfo, PublishedMessage, SubscriptionRequest } from '../types.js';
import { agentTopicAcl } from './topic-acl.js';

const client = (id: string, roles?: string[]): ClientInfo =>
  ({
    id,
    userProperties: {},
    principal: roles ? { name: `p:${id}`, method: 'test', roles } : undefined,
  }) as unknown as ClientInfo;

const subscription = (topicFilter: string): SubscriptionRequest => {
  const shared = /^\$share\/([^/]+)\/(.*)$/.exec(topicFilter);
  return {
    topicFilter,
    filter: shared ? (shared[2] as string) : topicFilter,
    shareName: shared ? shared[1] : undefined,
  } as unknown as SubscriptionRequest;
};

const message = (topic: string, userProperties?: Record<string, string>): PublishedMessage =>
  ({
    topic,
    payload: Buffer.from('{}'),
    qos: 1,
    retain: false,
    properties: { userProperties },
  }) as PublishedMessage;

describe('agentTopicAcl hooks', () => {
  const hooks = agentTopicAcl().hooks;

  it('grants a wildcard client id nothing, even when its CONNECT check was bypassed', () => {
    // Called directly (as when someone spreads only authorizeSubscribe): the grants are built from valid
    // identifiers only, so `#` and `+` as ids reach nothing.
    for (const id of ['#', '+', 'a/#', 'x/+/y', 'org//agent', '\u0000', 'a\nb']) {
      for (const filter of [
        '$mcp-rpc/#',
        '$mcp-server/#',
        '$share/x/$mcp-rpc/#',
        '$mcp-rpc/+/+/#',
        '$a2a/v1/request/#',
        '$a2a/v1/reply/o/u/alice/+',
        `$mcp-rpc/${id}/#`,
        `$mcp-server/${id}/#`,
      ]) {
        expect(
          hooks.authorizeSubscribe?.(client(id), subscription(filter)),
          `${JSON.stringify(id)} ${filter}`,
        ).toBe(0x87);
      }
    }
  });

  it('stamps the sender and removes copies, and can be told not to', () => {
    const forged = message('plain/t', { [SenderUserProperty.ClientId]: 'admin', keep: 'me' });
    expect(hooks.rewritePublish?.(client('alice', ['operator', 'a,b', '']), forged)).toEqual({
      userProperties: {
        keep: 'me',
        [SenderUserProperty.ClientId]: 'alice',
        [SenderUserProperty.Principal]: 'p:alice',
        [SenderUserProperty.Roles]: 'operator',
      },
    });
    const quiet = agentTopicAcl({ stampSender: false }).hooks;
    expect(quiet.rewritePublish?.(client('alice'), forged)).toBeUndefined();
    // A missing MCP-MQTT-CLIENT-ID is still added on MCP topics.
    expect(quiet.rewritePublish?.(client('alice'), message('$mcp-server/s/n'))?.userProperties).toEqual({
      'MCP-MQTT-CLIENT-ID': 'alice',
    });
  });

  it('refuses an MCP-MQTT-CLIENT-ID that names someone else, on every MCP topic', () => {
    expect(
      hooks.authorizePublish?.(
        client('mallory'),
        message('$mcp-server/s/n', { 'MCP-MQTT-CLIENT-ID': 'user-c' }),
      ),
    ).toBe(0x87);
    expect(
      hooks.authorizePublish?.(
        client('mallory'),
        message('$mcp-server/s/n', { 'MCP-MQTT-CLIENT-ID': 'mallory' }),
      ),
    ).toBe(true);
  });
});
