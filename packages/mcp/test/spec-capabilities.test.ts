// Spec rules about capability change topics (both ways), resource updates, and the coalescing of identical
// notifications from the one-server-object-per-session model.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  RootsListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '../src/index.js';
import type { McpServerHost } from '../src/index.js';
import { RawPeer, buildTestServer, eventually, json, quiet, unique } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

async function serveTracked(): Promise<{ host: McpServerHost; servers: McpServer[] }> {
  const servers: McpServer[] = [];
  const host = await serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `caps/${unique('press')}`,
    description: 'Press controls',
    createServer: () => {
      const server = buildTestServer();
      servers.push(server);
      return server;
    },
  });
  return { host, servers };
}

function notified<T>(
  client: Client,
  schema: Parameters<Client['setNotificationHandler']>[0],
): () => Promise<T> {
  const received: T[] = [];
  const waiters: Array<(value: T) => void> = [];
  client.setNotificationHandler(schema, (notification) => {
    const waiter = waiters.shift();
    if (waiter) waiter(notification as T);
    else received.push(notification as T);
  });
  return () => {
    const ready = received.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a notification')), 5_000);
      waiters.push((value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  };
}

it('server list changes go to the capability topic once, coalesced across sessions, and reach every client', async () => {
  const { host, servers } = await serveTracked();
  await using _host = host;
  const observer = await RawPeer.connect(broker.url);
  const capabilityTopic = `$mcp-server/capability/${host.serverId}/${host.serverName}`;
  await observer.subscribe(capabilityTopic);
  const hosts = await Promise.all(
    [1, 2, 3].map(() =>
      createMcpMqttClientHost({ mqtt: { url: broker.url }, serverNameFilters: ['caps/#'] }),
    ),
  );
  const clients = hosts.map(() => new Client({ name: 'caps', version: '1.0.0' }));
  const waits = clients.map((client) => notified(client, ToolListChangedNotificationSchema));
  await Promise.all(clients.map((client, index) => hosts[index]!.connect(client, host.serverName)));
  expect(servers).toHaveLength(3);
  // A tool added to every session's server in one go: each server emits tools/list_changed.
  for (const server of servers) {
    server.registerTool(
      'stop',
      { description: 'Stop the press', inputSchema: { reason: z.string() } },
      async () => ({ content: [] }),
    );
  }
  await Promise.all(waits.map((wait) => wait()));
  for (const client of clients) {
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('stop');
  }
  // A sentinel after the burst: by the time it arrives, every publish of the burst has arrived too.
  await host.notifyPromptListChanged();
  await observer.next((message) => json(message)?.method === 'notifications/prompts/list_changed');
  const toolChanges = observer.messages.filter(
    (message) => json(message)?.method === 'notifications/tools/list_changed',
  );
  expect(toolChanges).toHaveLength(1);
  expect(observer.messages.every((message) => message.topic === capabilityTopic)).toBe(true);
  await Promise.all(hosts.map((clientHost) => clientHost.close()));
  await observer.close();
});

it('host-level notifyToolListChanged, notifyPromptListChanged and notifyResourceListChanged reach every client', async () => {
  const { host } = await serveTracked();
  await using _host = host;
  await using clients = await createMcpMqttClientHost({
    mqtt: { url: broker.url },
    serverNameFilters: ['caps/#'],
  });
  const client = new Client({ name: 'caps', version: '1.0.0' });
  const tools = notified(client, ToolListChangedNotificationSchema);
  const prompts = notified(client, PromptListChangedNotificationSchema);
  const resources = notified(client, ResourceListChangedNotificationSchema);
  await clients.connect(client, host.serverName);
  await host.notifyToolListChanged();
  await host.notifyPromptListChanged();
  await host.notifyResourceListChanged();
  await Promise.all([tools(), prompts(), resources()]);
  await client.close();
});

it('resource updates go to the capability topic and reach only the sessions subscribed to the uri', async () => {
  const subscribed: string[] = [];
  const servers: McpServer[] = [];
  await using host = await serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `caps/${unique('press')}`,
    description: 'Press controls',
    createServer: () => {
      const server = buildTestServer({ onSubscribe: (uri) => subscribed.push(uri) });
      servers.push(server);
      return server;
    },
  });
  const observer = await RawPeer.connect(broker.url);
  const capabilityTopic = `$mcp-server/capability/${host.serverId}/${host.serverName}`;
  await observer.subscribe(capabilityTopic);
  await using hostA = await createMcpMqttClientHost({
    mqtt: { url: broker.url },
    serverNameFilters: ['caps/#'],
  });
  await using hostB = await createMcpMqttClientHost({
    mqtt: { url: broker.url },
    serverNameFilters: ['caps/#'],
  });
  const a = new Client({ name: 'a', version: '1.0.0' });
  const b = new Client({ name: 'b', version: '1.0.0' });
  const updatesA = notified<{ params: { uri: string } }>(a, ResourceUpdatedNotificationSchema);
  const seenByB: unknown[] = [];
  b.setNotificationHandler(
    ResourceUpdatedNotificationSchema,
    (notification) => void seenByB.push(notification),
  );
  await hostA.connect(a, host.serverName);
  await hostB.connect(b, host.serverName);
  await a.subscribeResource({ uri: 'file:///press/telemetry.json' });
  expect(subscribed).toEqual(['file:///press/telemetry.json']);
  // The server of A's session reports the change (as an SDK server does for its subscribers).
  await servers[0]!.server.sendResourceUpdated({ uri: 'file:///press/telemetry.json' });
  expect((await updatesA()).params.uri).toBe('file:///press/telemetry.json');
  const published = await observer.next(
    (message) => json(message)?.method === 'notifications/resources/updated',
  );
  expect(published.topic).toBe(capabilityTopic);
  // B's transport received it too (the topic is shared) but did not pass it on: B never subscribed.
  await host.notifyResourceUpdated('file:///press/telemetry.json');
  expect((await updatesA()).params.uri).toBe('file:///press/telemetry.json');
  await quiet();
  expect(seenByB).toEqual([]);
  // After unsubscribing, A gets no more updates either.
  await a.unsubscribeResource({ uri: 'file:///press/telemetry.json' });
  await host.notifyResourceUpdated('file:///press/telemetry.json');
  await eventually(
    () =>
      observer.messages.filter((message) => json(message)?.method === 'notifications/resources/updated')
        .length >= 3,
    'the third resource update on the wire',
  );
  await expect(Promise.race([updatesA(), quiet().then(() => 'none')])).resolves.toBe('none');
  await a.close();
  await b.close();
  await observer.close();
});

it('client roots list changes go to the client capability topic and reach the server session', async () => {
  const servers: McpServer[] = [];
  let rootsChanged: () => void = () => {};
  const changed = new Promise<void>((resolve) => (rootsChanged = resolve));
  await using host = await serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `caps/${unique('press')}`,
    description: 'Press controls',
    createServer: () => {
      const server = buildTestServer();
      server.server.setNotificationHandler(RootsListChangedNotificationSchema, () => rootsChanged());
      servers.push(server);
      return server;
    },
  });
  await using clients = await createMcpMqttClientHost({
    mqtt: { url: broker.url },
    serverNameFilters: ['caps/#'],
  });
  const observer = await RawPeer.connect(broker.url);
  await observer.subscribe(`$mcp-client/capability/${clients.mcpClientId}`);
  const client = new Client(
    { name: 'caps', version: '1.0.0' },
    { capabilities: { roots: { listChanged: true } } },
  );
  await clients.connect(client, host.serverName);
  await client.sendRootsListChanged();
  await changed;
  const message = await observer.next(() => true);
  expect(json(message)).toEqual({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' });
  expect(servers).toHaveLength(1);
  await client.close();
  await observer.close();
});
