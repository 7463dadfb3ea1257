// Embedded only: the identity-binding topic ACL plugin. `{org}/{unit}/{agent}` in A2A topics and
// `{mcp-client-id}` / `{server-id}` in MCP topics must be the client's own id where they name the
// publisher or the reader, so no client can impersonate another.
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { Broker } from '../src/index.js';
import { startBroker } from '../src/index.js';
import { agentTopicAcl } from '../src/plugins/topic-acl.js';
import type { AgentTopicAclOptions } from '../src/plugins/topic-acl.js';
import { closeAllClients, connectClient, embedded, unique } from './helpers.js';

const brokers: Broker[] = [];
afterAll(async () => {
  await closeAllClients();
  await Promise.all(brokers.map((broker) => broker.close()));
});

async function aclBroker(options: AgentTopicAclOptions = {}): Promise<Broker> {
  const acl = agentTopicAcl(options);
  const broker = await startBroker({ host: '127.0.0.1', port: 0, ...acl.hooks });
  brokers.push(broker);
  return broker;
}

async function canPublish(client: MqttClient, topic: string): Promise<boolean> {
  return client.publishAsync(topic, 'x', { qos: 1 }).then(
    () => true,
    (error: { code?: number }) => {
      expect(error.code).toBe(0x87);
      return false;
    },
  );
}

async function canSubscribe(client: MqttClient, filter: string): Promise<boolean> {
  return client.subscribeAsync(filter, { qos: 1 }).then(
    (granted) => (granted[0]?.qos ?? 0x80) < 0x80,
    (error: { message?: string }) => {
      expect(error.message).toMatch(/Not authorized/);
      return false;
    },
  );
}

describe.skipIf(!embedded)('agent topic ACL plugin (embedded only)', { concurrent: true }, () => {
  it('binds {org}/{unit}/{agent} in A2A topics to the client id', async () => {
    const broker = await aclBroker();
    const org = unique('org');
    const agent = await connectClient(broker.url, { clientId: `${org}/u/alice` });
    // Cards and events: only one's own.
    expect(await canPublish(agent, `$a2a/v1/discovery/${org}/u/alice`)).toBe(true);
    expect(await canPublish(agent, `$a2a/v1/discovery/${org}/u/bob`)).toBe(false);
    expect(await canPublish(agent, `$a2a/v1/event/${org}/u/bob`)).toBe(false);
    // Requests to anyone (trusted scope), replies to whoever asked.
    expect(await canPublish(agent, `$a2a/v1/request/${org}/u/bob`)).toBe(true);
    expect(await canPublish(agent, `$a2a/v1/reply/${org}/u/bob/s1`)).toBe(true);
    // Reading: one's own request and reply topics only; no wildcard that reaches others.
    expect(await canSubscribe(agent, `$a2a/v1/request/${org}/u/alice`)).toBe(true);
    expect(await canSubscribe(agent, `$a2a/v1/request/${org}/u/bob`)).toBe(false);
    expect(await canSubscribe(agent, `$a2a/v1/request/${org}/u/+`)).toBe(false);
    expect(await canSubscribe(agent, `$a2a/v1/reply/${org}/u/alice/+`)).toBe(true);
    expect(await canSubscribe(agent, `$a2a/v1/reply/${org}/u/+/#`)).toBe(false);
    expect(await canSubscribe(agent, '$a2a/#')).toBe(false);
    // Pools: a shared subscription in one's own org and unit.
    expect(await canSubscribe(agent, `$share/g/$a2a/v1/request/${org}/u/pool/workers`)).toBe(true);
    expect(await canSubscribe(agent, `$share/g/$a2a/v1/request/${org}/other/pool/workers`)).toBe(false);
    expect(await canSubscribe(agent, `$a2a/v1/discovery/${org}/+/+`)).toBe(true);
    // A client that is not an agent may watch discovery, nothing else.
    const dashboard = await connectClient(broker.url, { clientId: unique('dashboard') });
    expect(await canSubscribe(dashboard, `$a2a/v1/discovery/+/+/+`)).toBe(true);
    expect(await canPublish(dashboard, `$a2a/v1/request/${org}/u/alice`)).toBe(false);
  });

  it('keeps A2A requests within the org or unit when asked', async () => {
    const broker = await aclBroker({ a2aScope: 'unit' });
    const org = unique('org');
    const agent = await connectClient(broker.url, { clientId: `${org}/u/alice` });
    expect(await canPublish(agent, `$a2a/v1/request/${org}/u/bob`)).toBe(true);
    expect(await canPublish(agent, `$a2a/v1/request/${org}/u/pool/workers`)).toBe(true);
    expect(await canPublish(agent, `$a2a/v1/request/${org}/other/bob`)).toBe(false);
    expect(await canPublish(agent, `$a2a/v1/request/elsewhere/u/bob`)).toBe(false);
    expect(await canSubscribe(agent, `$a2a/v1/discovery/elsewhere/+/+`)).toBe(false);
  });

  it('binds {mcp-client-id} and {server-id} in MCP topics to the client id', async () => {
    const broker = await aclBroker();
    const clientId = unique('mcpc');
    const serverId = unique('mcps');
    const client = await connectClient(broker.url, { clientId });
    const server = await connectClient(broker.url, { clientId: serverId });
    expect(await canPublish(client, `$mcp-rpc/${clientId}/${serverId}/demo/server`)).toBe(true);
    expect(await canPublish(client, `$mcp-rpc/someone-else/${serverId}/demo/server`)).toBe(false);
    expect(await canPublish(client, `$mcp-client/presence/${clientId}`)).toBe(true);
    expect(await canPublish(client, `$mcp-client/presence/someone-else`)).toBe(false);
    expect(await canPublish(client, `$mcp-server/${serverId}/demo/server`)).toBe(true); // initialize
    expect(await canPublish(client, `$mcp-server/presence/${serverId}/demo/server`)).toBe(false);
    expect(await canSubscribe(client, `$mcp-rpc/${clientId}/${serverId}/demo/server`)).toBe(true);
    expect(await canSubscribe(client, `$mcp-rpc/+/${serverId}/demo/server`)).toBe(false);
    expect(await canSubscribe(client, `$mcp-server/${serverId}/demo/server`)).toBe(false);
    expect(await canSubscribe(client, `$mcp-server/presence/+/#`)).toBe(true);
    expect(await canPublish(server, `$mcp-server/presence/${serverId}/demo/server`)).toBe(true);
    expect(await canSubscribe(server, `$mcp-rpc/+/${serverId}/demo/server`)).toBe(true);
    expect(await canSubscribe(server, `$mcp-server/${serverId}/demo/server`)).toBe(true);
    expect(await canSubscribe(server, `$mcp-client/presence/+`)).toBe(true);
  });
});
