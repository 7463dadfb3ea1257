// Defect 3 (issue 12), receiving side, and defect 13 (SDK side): who is calling a tool. Tool handlers get
// the caller as `extra.authInfo` (clientId = the mcp-client-id the topic binds; with `trustBrokerIdentity`
// also the principal and roles the broker stamped). With `trustBrokerIdentity`, an initialize that claims
// another client, and a message on someone else's session topic, are refused by the server host itself.
// Without it, the topic cross-check (spec decision 13) is what the host can do; the broker ACL does the rest.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { BrokerOptions } from '@mqtt-agents/broker';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { SenderUserProperty } from '@mqtt-agents/core';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '@mqtt-agents/mcp';
import type { McpServerHost, McpServerSession, ServeMcpOverMqttOptions } from '@mqtt-agents/mcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ErrorSink,
  RawPeer,
  buildTestServer,
  initializeRequest,
  rawInitialize,
  sessionTopics,
} from '../../packages/mcp/test/helpers.js';
import { embeddedLane, unique } from './helpers.js';

/** An identity-stamping broker: principal = user name, roles from the user name, sender stamped on every message. */
const stampingBroker: BrokerOptions = {
  authenticate: (context) => ({
    principal: {
      name: context.username ?? context.id,
      method: 'test',
      roles: context.username === 'alice' ? ['operator', 'planner'] : [],
    },
  }),
  rewritePublish: (client, message) => {
    const userProperties = { ...message.properties.userProperties };
    for (const name of Object.values(SenderUserProperty)) delete userProperties[name];
    userProperties[SenderUserProperty.ClientId] = client.id;
    if (client.principal) {
      userProperties[SenderUserProperty.Principal] = client.principal.name;
      userProperties[SenderUserProperty.Roles] = client.principal.roles.join(',');
    }
    return { ...message.properties, userProperties };
  },
};

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker(embeddedLane ? { embedded: stampingBroker } : {});
});
afterAll(async () => {
  await broker.close();
});

/** A server whose `whoami-auth` tool records what the SDK hands it as `extra.authInfo`. */
function serve(seen: unknown[], overrides: Partial<ServeMcpOverMqttOptions> = {}): Promise<McpServerHost> {
  return serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `identity/${unique('press')}`,
    description: 'who calls',
    createServer: () => {
      const server = buildTestServer();
      server.registerTool('whoami-auth', { description: 'records extra.authInfo' }, async (extra) => {
        seen.push(extra.authInfo);
        return { content: [{ type: 'text', text: String(extra.authInfo?.clientId) }] };
      });
      return server;
    },
    ...overrides,
  });
}

describe('caller identity in tool handlers', () => {
  it('extra.authInfo names the mcp-client-id the topic binds; nothing secret, verifiedBy topic', async () => {
    const seen: unknown[] = [];
    const sessions: McpServerSession[] = [];
    await using host = await serve(seen);
    host.on('session-open', (session) => sessions.push(session));
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: [host.serverName],
    });
    const client = new Client({ name: 'caller', version: '1.0.0' });
    await clients.connect(client, host.serverName);
    const result = await client.callTool({ name: 'whoami-auth', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: clients.mcpClientId }]);
    expect(seen).toEqual([
      {
        token: '',
        clientId: clients.mcpClientId,
        scopes: [],
        extra: { mqttClientId: clients.mcpClientId, roles: [], verifiedBy: 'topic' },
      },
    ]);
    expect(sessions[0]?.caller).toEqual({ mcpClientId: clients.mcpClientId, verifiedBy: 'topic', roles: [] });
    await client.close();
  });

  it('the topic cross-check drops a message whose MCP-MQTT-CLIENT-ID names another client', async () => {
    const seen: unknown[] = [];
    const errors = new ErrorSink();
    await using host = await serve(seen, { onerror: errors.onerror });
    const victim = await RawPeer.connect(broker.url);
    const mallory = await RawPeer.connect(broker.url);
    try {
      const { topics } = await rawInitialize(victim, host);
      await mallory.publishAs(
        'mcp-client',
        topics.rpc,
        { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'whoami-auth', arguments: {} } },
        { clientId: mallory.clientId },
      );
      await errors.waitFor(/MCP-MQTT-CLIENT-ID '.*' does not match client/);
      expect(seen).toEqual([]);
    } finally {
      await Promise.all([victim.close(), mallory.close()]);
    }
  });
});

describe.skipIf(!embeddedLane)('trustBrokerIdentity on a broker that stamps the sender', () => {
  it('tool handlers see the principal and roles the broker verified', async () => {
    const seen: unknown[] = [];
    await using host = await serve(seen, { trustBrokerIdentity: true });
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url, username: 'alice' },
      serverNameFilters: [host.serverName],
    });
    const client = new Client({ name: 'alice', version: '1.0.0' });
    await clients.connect(client, host.serverName);
    await client.callTool({ name: 'whoami-auth', arguments: {} });
    expect(seen).toEqual([
      {
        token: '',
        clientId: clients.mcpClientId,
        scopes: [],
        extra: {
          mqttClientId: clients.mcpClientId,
          principal: 'alice',
          roles: ['operator', 'planner'],
          verifiedBy: 'broker',
        },
      },
    ]);
    expect(host.sessions.get(clients.mcpClientId)?.caller).toMatchObject({
      principal: 'alice',
      verifiedBy: 'broker',
    });
    await client.close();
  });

  it('a forged initialize claiming another client is refused and reported, and never answered', async () => {
    const errors = new ErrorSink();
    await using host = await serve([], { trustBrokerIdentity: true, onerror: errors.onerror });
    const victimId = unique('user-c');
    const topics = sessionTopics({ mcpClientId: victimId, ...host });
    const victim = await RawPeer.connect(broker.url, { clientId: victimId });
    const mallory = await RawPeer.connect(broker.url, { username: 'mallory' });
    try {
      await victim.subscribe(topics.rpc);
      await mallory.publishAs('mcp-client', topics.control, initializeRequest(5), { clientId: victimId });
      const report = await errors.waitFor(/refused initialize on the control topic/);
      expect(report.message).toContain(
        `mqtt client '${mallory.clientId}' sent a message for client '${victimId}'`,
      );
      expect(host.sessions.has(victimId)).toBe(false);
      // The victim's own initialize still works, and is the first thing it hears on its rpc topic.
      const { response } = await rawInitialize(victim, host, 6);
      expect(response.result).toBeDefined();
      expect(victim.on(topics.rpc).map((message) => JSON.parse(message.text).id)).toEqual([6]);
    } finally {
      await Promise.all([victim.close(), mallory.close()]);
    }
  });

  it("a message on someone else's rpc topic is dropped even when it names the right client id", async () => {
    const seen: unknown[] = [];
    const errors = new ErrorSink();
    await using host = await serve(seen, { trustBrokerIdentity: true, onerror: errors.onerror });
    const victim = await RawPeer.connect(broker.url);
    const mallory = await RawPeer.connect(broker.url, { username: 'mallory' });
    try {
      const { topics } = await rawInitialize(victim, host);
      // Passes the topic cross-check (it claims the victim's id) but the broker says who really sent it.
      await mallory.publishAs(
        'mcp-client',
        topics.rpc,
        { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'whoami-auth', arguments: {} } },
        { clientId: victim.clientId },
      );
      await errors.waitFor(new RegExp(`mqtt client '${mallory.clientId}' sent a message for client`));
      expect(seen).toEqual([]);
    } finally {
      await Promise.all([victim.close(), mallory.close()]);
    }
  });
});
