// Embedded only: the MCP helpers plugin. Broker-suggested CONNACK properties (MCP-SERVER-NAME,
// MCP-SERVER-NAME-FILTERS, MCP-RBAC) and RBAC on `$mcp-rpc/...` from the roles a server declares in its
// presence: a refused call gets PUBACK 0x87 and a JSON-RPC error saying why, instead of a disconnect.
import type { IConnackPacket, MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../src/index.js';
import { startBroker } from '../src/index.js';
import { MCP_RBAC_ERROR_CODE, mcpBrokerHelpers } from '../src/plugins/mcp-helpers.js';
import { Inbox, closeAllClients, connectClient, embedded, unique } from './helpers.js';

let broker: Broker;
const roles: Record<string, string> = {}; // mcp-client-id -> role on demo/vehicle

beforeAll(async () => {
  if (!embedded) return;
  const mcp = mcpBrokerHelpers({
    serverName: (client) => `demo/${client.id}`,
    serverNameFilters: () => ['demo/#'],
    roles: (client) =>
      roles[client.id] ? [{ serverName: 'demo/vehicle', roleName: roles[client.id] as string }] : [],
  });
  broker = await startBroker({ host: '127.0.0.1', port: 0, ...mcp.hooks });
  mcp.attach(broker);
});
afterAll(async () => {
  await closeAllClients();
  await broker?.close();
});

async function connackOf(
  clientId: string,
  type: 'mcp-client' | 'mcp-server',
): Promise<Record<string, unknown>> {
  let connack: IConnackPacket | undefined;
  await connectClient(
    broker.url,
    { clientId, properties: { userProperties: { 'MCP-COMPONENT-TYPE': type } } },
    (client) => client.once('connect', (packet) => (connack = packet)),
  );
  return (connack?.properties?.userProperties ?? {}) as Record<string, unknown>;
}

const presence = (roleSet: unknown) =>
  JSON.stringify({
    jsonrpc: '2.0',
    method: 'notifications/server/online',
    params: {
      server_name: 'demo/vehicle',
      description: 'vehicle',
      meta: roleSet ? { rbac: { roles: roleSet } } : {},
    },
  });

const ROLES = [
  {
    name: 'admin',
    allowed_methods: ['tools/list', 'tools/call', 'resources/read'],
    allowed_tools: 'all',
    allowed_resources: 'all',
  },
  {
    name: 'user',
    allowed_methods: ['tools/list', 'tools/call', 'resources/read'],
    allowed_tools: ['get_vehicle_status'],
    allowed_resources: ['file:///vehicle/telemetry.data'],
  },
];

async function call(
  client: MqttClient,
  topic: string,
  id: number,
  method: string,
  params: object,
): Promise<number | 'accepted'> {
  return client.publishAsync(topic, JSON.stringify({ jsonrpc: '2.0', id, method, params }), { qos: 1 }).then(
    () => 'accepted' as const,
    (error: { code?: number }) => error.code ?? -1,
  );
}

describe.skipIf(!embedded)('MCP helpers plugin (embedded only)', { concurrent: true }, () => {
  it('suggests MCP-SERVER-NAME to servers and MCP-SERVER-NAME-FILTERS and MCP-RBAC to clients in CONNACK', async () => {
    const serverId = unique('srv');
    expect(await connackOf(serverId, 'mcp-server')).toEqual({ 'MCP-SERVER-NAME': `demo/${serverId}` });
    const clientId = unique('cli');
    roles[clientId] = 'user';
    expect(await connackOf(clientId, 'mcp-client')).toEqual({
      'MCP-SERVER-NAME-FILTERS': '["demo/#"]',
      'MCP-RBAC': '[{"server_name":"demo/vehicle","role_name":"user"}]',
    });
  });

  it('enforces the roles a server declares: allowed calls pass, others get 0x87 and a JSON-RPC error', async () => {
    const serverId = unique('srv');
    const server = await connectClient(broker.url, { clientId: serverId });
    await server.publishAsync(`$mcp-server/presence/${serverId}/demo/vehicle`, presence(ROLES), {
      qos: 1,
      retain: true,
    });
    const serverInbox = new Inbox(server);
    await server.subscribeAsync(`$mcp-rpc/+/${serverId}/demo/vehicle`, { qos: 1, nl: true });

    const userId = unique('cli');
    roles[userId] = 'user';
    const user = await connectClient(broker.url, { clientId: userId });
    const userInbox = new Inbox(user);
    const topic = `$mcp-rpc/${userId}/${serverId}/demo/vehicle`;
    await user.subscribeAsync(topic, { qos: 1, nl: true });

    expect(await call(user, topic, 1, 'tools/call', { name: 'get_vehicle_status' })).toBe('accepted');
    expect((await serverInbox.waitFor(1))[0]?.payload.toString()).toContain('get_vehicle_status');

    expect(await call(user, topic, 2, 'tools/call', { name: 'unlock_doors' })).toBe(0x87);
    const refusal = await userInbox.waitForMatch((message) => message.payload.toString().includes('"id":2'));
    expect(JSON.parse(refusal.payload.toString())).toEqual({
      jsonrpc: '2.0',
      id: 2,
      error: {
        code: MCP_RBAC_ERROR_CODE,
        message: "forbidden by the broker: role 'user' may not call tool 'unlock_doors'",
      },
    });
    expect(await call(user, topic, 3, 'resources/read', { uri: 'file:///vehicle/keys' })).toBe(0x87);
    expect(await call(user, topic, 4, 'resources/subscribe', { uri: 'file:///vehicle/telemetry.data' })).toBe(
      0x87,
    );
    // Notifications and responses to the server are not calls.
    expect(
      await user
        .publishAsync(topic, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), {
          qos: 1,
        })
        .then(() => 'accepted'),
    ).toBe('accepted');
    // None of the refused calls reached the server (it sees the broker's error answers on the shared RPC
    // topic, which carry no method and an id it never sent).
    const requests = async () =>
      (await serverInbox.waitFor(5)).map(
        (entry) => JSON.parse(entry.payload.toString()) as { id?: number; method?: string },
      );
    const calls = (await requests()).filter((entry) => entry.method !== undefined);
    expect(calls.map((entry) => entry.method)).toEqual(['tools/call', 'notifications/initialized']);

    const strangerId = unique('cli'); // no role on this server at all
    const stranger = await connectClient(broker.url, { clientId: strangerId });
    expect(await call(stranger, `$mcp-rpc/${strangerId}/${serverId}/demo/vehicle`, 1, 'tools/list', {})).toBe(
      0x87,
    );
    const adminId = unique('cli');
    roles[adminId] = 'admin';
    const admin = await connectClient(broker.url, { clientId: adminId });
    expect(
      await call(admin, `$mcp-rpc/${adminId}/${serverId}/demo/vehicle`, 1, 'tools/call', {
        name: 'unlock_doors',
      }),
    ).toBe('accepted');
  });

  it('leaves servers that declare no roles alone', async () => {
    const serverId = unique('srv');
    const server = await connectClient(broker.url, { clientId: serverId });
    await server.publishAsync(`$mcp-server/presence/${serverId}/demo/open`, presence(undefined), {
      qos: 1,
      retain: true,
    });
    const clientId = unique('cli');
    const client = await connectClient(broker.url, { clientId });
    expect(
      await call(client, `$mcp-rpc/${clientId}/${serverId}/demo/open`, 1, 'tools/call', { name: 'anything' }),
    ).toBe('accepted');
  });
});
