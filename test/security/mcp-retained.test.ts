// Defect 4 (issue 12), receiving side: retained MCP requests. A retained initialize on a server's control
// topic re-created a session on every server start; a retained tools/call on a session's RPC topic would
// run whenever the topic is subscribed again. MCP requests and replies are never retained (only presence
// and capability messages may be): both hosts ignore and report a retained one, on any broker.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '@mqtt-agents/mcp';
import type { McpServerHost, ServeMcpOverMqttOptions } from '@mqtt-agents/mcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ErrorSink,
  RawPeer,
  buildTestServer,
  initializeRequest,
  json,
  rawInitialize,
  sessionTopics,
} from '../../packages/mcp/test/helpers.js';
import { unique } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

function serve(overrides: Partial<ServeMcpOverMqttOptions> & { serverName: string }): Promise<McpServerHost> {
  return serveMcpOverMqtt({
    mqtt: { url: broker.url },
    description: 'retained abuse',
    createServer: () => buildTestServer(),
    ...overrides,
  });
}

describe('server host', () => {
  it('a retained initialize on the control topic creates no session across three restarts, and is reported each time', async () => {
    const serverId = unique('press');
    const serverName = `retained/${unique('line')}`;
    const victim = unique('user-c');
    const topics = sessionTopics({ mcpClientId: victim, serverId, serverName });
    const mallory = await RawPeer.connect(broker.url);
    const watcher = await RawPeer.connect(broker.url, { clientId: victim });
    await watcher.subscribe(topics.rpc);
    await mallory.publishAs('mcp-client', topics.control, initializeRequest(7), {
      clientId: victim,
      retain: true,
    });
    try {
      for (let start = 1; start <= 3; start++) {
        const errors = new ErrorSink();
        const host = await serve({ serverId, serverName, onerror: errors.onerror });
        const report = await errors.waitFor(/ignored a retained message on '\$mcp-server\//);
        expect(report.message).toContain(topics.control);
        expect(host.sessions.size).toBe(0);
        // The host still serves: a live initialize from a real client opens a session.
        const client = await RawPeer.connect(broker.url);
        const { response } = await rawInitialize(client, { serverId, serverName });
        expect(response.result).toBeDefined();
        expect([...host.sessions.keys()]).toEqual([client.clientId]);
        await client.close();
        await host.close();
      }
      // The claimed client never got an initialize answer it did not ask for.
      expect(watcher.on(topics.rpc).filter((message) => message.text.includes('"id":7'))).toHaveLength(0);
    } finally {
      await mallory.publish(topics.control, '', { retain: true });
      await Promise.all([mallory.close(), watcher.close()]);
    }
  });

  it('a retained tools/call on a session rpc topic is not executed when the topic is subscribed', async () => {
    let secretCalls = 0;
    const errors = new ErrorSink();
    await using host = await serve({
      serverName: `retained/${unique('line')}`,
      onerror: errors.onerror,
      createServer: () => {
        const server = buildTestServer();
        server.registerTool('secret', { description: 'must not run from a retained message' }, async () => {
          secretCalls++;
          return { content: [{ type: 'text', text: 'ran' }] };
        });
        return server;
      },
    });
    const clientId = unique('victim');
    const topics = sessionTopics({
      mcpClientId: clientId,
      serverId: host.serverId,
      serverName: host.serverName,
    });
    const mallory = await RawPeer.connect(broker.url);
    // Planted before the victim's session exists: the server subscribes to this topic at initialize.
    await mallory.publishAs(
      'mcp-client',
      topics.rpc,
      { jsonrpc: '2.0', id: 'planted', method: 'tools/call', params: { name: 'secret', arguments: {} } },
      { clientId, retain: true },
    );
    const victim = await RawPeer.connect(broker.url, { clientId });
    try {
      await rawInitialize(victim, host);
      const report = await errors.waitFor(/ignored a retained message on '\$mcp-rpc\//);
      expect(report.message).toContain(topics.rpc);
      await victim.publishAs('mcp-client', topics.rpc, {
        jsonrpc: '2.0',
        method: 'notifications/initialized',
      });
      await victim.publishAs('mcp-client', topics.rpc, {
        jsonrpc: '2.0',
        id: 'live',
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'hi' } },
      });
      await victim.next((message) => message.topic === topics.rpc && message.text.includes('"id":"live"'));
      expect(secretCalls).toBe(0);
      // No answer to the planted request ever went out (the victim sees the planted request itself, retained).
      const answers = victim.on(topics.rpc).map((message) => json(message) ?? {});
      expect(answers.filter((answer) => answer.id === 'planted' && !('method' in answer))).toHaveLength(0);
    } finally {
      await mallory.publish(topics.rpc, '', { retain: true });
      await Promise.all([mallory.close(), victim.close()]);
    }
  });
});

describe('client host', () => {
  it('a retained message on its rpc topic is ignored and reported; the session works', async () => {
    await using host = await serve({ serverName: `retained/${unique('line')}` });
    const clientId = unique('client');
    const topics = sessionTopics({
      mcpClientId: clientId,
      serverId: host.serverId,
      serverName: host.serverName,
    });
    const mallory = await RawPeer.connect(broker.url);
    // A planted "server says goodbye" would end the session the moment the client subscribes.
    await mallory.publishAs(
      'mcp-server',
      topics.rpc,
      { jsonrpc: '2.0', method: 'notifications/disconnected' },
      { clientId: host.serverId, retain: true },
    );
    const errors = new ErrorSink();
    try {
      await using clients = await createMcpMqttClientHost({
        mqtt: { url: broker.url },
        clientId,
        serverNameFilters: [host.serverName],
        onerror: errors.onerror,
      });
      const client = new Client({ name: 'victim', version: '1.0.0' });
      await clients.connect(client, host.serverName);
      const report = await errors.waitFor(/ignored a retained message on '\$mcp-rpc\//);
      expect(report.message).toContain(topics.rpc);
      const result = await client.callTool({ name: 'echo', arguments: { text: 'still here' } });
      expect(result.content).toEqual([{ type: 'text', text: 'still here' }]);
      await client.close();
    } finally {
      await mallory.publish(topics.rpc, '', { retain: true });
      await mallory.close();
    }
  });
});
