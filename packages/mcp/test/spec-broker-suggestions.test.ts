// Spec rules about what the broker suggests in CONNACK: a server name for servers, server name filters and
// RBAC roles for clients. These need a broker hook, so they run on the embedded broker only.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import type { ClientInfo } from '@mqtt-agents/broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '../src/index.js';
import { RawPeer, buildTestServer, embedded, json, quiet, unique } from './helpers.js';

const suggestions = new Map<string, Record<string, string>>();
let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker({
    embedded: { connackUserProperties: (client: ClientInfo) => suggestions.get(client.id) },
  });
});
afterAll(async () => {
  await broker.close();
});

describe.skipIf(!embedded)('broker suggestions in CONNACK', () => {
  it('the broker-suggested server name from CONNACK replaces the configured name, and the will follows it', async () => {
    const serverId = unique('suggested');
    const suggestedName = `plant/${unique('press')}`;
    suggestions.set(serverId, { 'MCP-SERVER-NAME': suggestedName });
    const observer = await RawPeer.connect(broker.url);
    await observer.subscribe(`$mcp-server/presence/${serverId}/#`);
    const host = await serveMcpOverMqtt({
      mqtt: { url: broker.url, reconnectPeriodMs: 0 },
      serverId,
      serverName: 'configured/name',
      description: 'renamed by the broker',
      createServer: () => buildTestServer(),
    });
    expect(host.serverName).toBe(suggestedName);
    const presence = await observer.next((message) => message.payload.length > 0);
    expect(presence.topic).toBe(`$mcp-server/presence/${serverId}/${suggestedName}`);
    expect((json(presence)?.params as { server_name: string }).server_name).toBe(suggestedName);
    // A client reaches it under the suggested name.
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['plant/#'],
    });
    const client = new Client({ name: 'suggested', version: '1.0.0' });
    await clients.connect(client, suggestedName);
    expect((await client.callTool({ name: 'echo', arguments: { text: 'ok' } })).content).toEqual([
      { type: 'text', text: 'ok' },
    ]);
    // The will names the suggested presence topic: an abrupt end clears the presence clients see.
    (host.connection.client as unknown as { stream: { destroy(): void } }).stream.destroy();
    await observer.next(
      (message) => message.payload.length === 0 && message.topic.endsWith(suggestedName),
      'the will',
    );
    expect(broker.broker?.getRetained(`$mcp-server/presence/${serverId}/${suggestedName}`)).toBeUndefined();
    expect(observer.messages.some((message) => message.topic.endsWith('configured/name'))).toBe(false);
    await host.close();
    await observer.close();
  });

  it('broker-suggested server name filters from CONNACK replace the configured filters', async () => {
    const clientId = unique('filtered');
    const visible = `zone-a/${unique('press')}`;
    const hidden = `zone-b/${unique('press')}`;
    suggestions.set(clientId, { 'MCP-SERVER-NAME-FILTERS': JSON.stringify(['zone-a/#']) });
    const make = (serverName: string) =>
      serveMcpOverMqtt({
        mqtt: { url: broker.url },
        serverName,
        description: serverName,
        createServer: () => buildTestServer(),
      });
    await using a = await make(visible);
    await using b = await make(hidden);
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      clientId,
      serverNameFilters: ['#'],
    });
    expect(clients.serverNameFilters).toEqual(['zone-a/#']);
    await clients.waitForServer(visible);
    await quiet();
    expect([...clients.servers().keys()]).toEqual([visible]);
    expect(a.serverName).toBe(visible);
    expect(b.serverName).toBe(hidden);
  });

  it('broker RBAC roles from CONNACK are exposed per server name', async () => {
    const clientId = unique('roles');
    suggestions.set(clientId, {
      'MCP-RBAC': JSON.stringify([
        { server_name: 'plant/press', role_name: 'admin' },
        { server_name: 'plant/+', role_name: 'viewer' },
        { server_name: 'other/thing', role_name: 'user' },
      ]),
    });
    await using clients = await createMcpMqttClientHost({ mqtt: { url: broker.url }, clientId });
    expect(clients.roles).toEqual([
      { serverName: 'plant/press', roleName: 'admin' },
      { serverName: 'plant/+', roleName: 'viewer' },
      { serverName: 'other/thing', roleName: 'user' },
    ]);
    expect(clients.rolesFor('plant/press')).toEqual(['admin', 'viewer']);
    expect(clients.rolesFor('other/thing')).toEqual(['user']);
    expect(clients.rolesFor('nowhere')).toEqual([]);
  });

  it('malformed broker suggestions are ignored with a warning', async () => {
    const clientId = unique('garbled');
    suggestions.set(clientId, { 'MCP-SERVER-NAME-FILTERS': '{not json', 'MCP-RBAC': '"a string"' });
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn: (message: string) => void warnings.push(message),
      error() {},
    };
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      clientId,
      serverNameFilters: ['x/#'],
      logger,
    });
    expect(clients.serverNameFilters).toEqual(['x/#']);
    expect(clients.roles).toEqual([]);
    expect(warnings.some((warning) => /MCP-SERVER-NAME-FILTERS/.test(warning))).toBe(true);
    expect(warnings.some((warning) => /MCP-RBAC/.test(warning))).toBe(true);
  });
});
