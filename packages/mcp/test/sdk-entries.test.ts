// What the per-major entry points add over the main entry, imported by their package names as a user does
// (the source condition resolves the subpaths), on a real broker with real SDK objects: the 2.x client entry
// keeps a negotiating 2.x Client on the 2025 handshake, and `callerIdentity` reads the session's caller in
// 1.x and 2.x handlers alike.
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '../src/index.js';
import type { McpClientHost, McpServerHost } from '../src/index.js';
import { callerIdentity as callerIdentityV1 } from '@mqtt-agents/mcp/sdk-v1';
import { clientTransport, connectClient } from '@mqtt-agents/mcp/sdk-v2/client';
import { callerIdentity as callerIdentityV2 } from '@mqtt-agents/mcp/sdk-v2/server';
import { RawPeer, failure, unique } from './helpers.js';

let broker: TestBroker;
let v1Host: McpServerHost;
let v2Host: McpServerHost;
let clients: McpClientHost;

/** A 1.x server whose `whoami` tool answers with `callerIdentity(extra)`. */
function whoamiServerV1(): McpServerV1 {
  const server = new McpServerV1({ name: 'whoami-v1', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Who called' }, async (extra) => ({
    content: [{ type: 'text', text: JSON.stringify(callerIdentityV1(extra) ?? null) }],
  }));
  return server;
}

/** A 2.x server whose `whoami` tool answers with `callerIdentity(ctx)`. */
function whoamiServerV2(): McpServerV2 {
  const server = new McpServerV2({ name: 'whoami-v2', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Who called' }, async (ctx) => ({
    content: [{ type: 'text', text: JSON.stringify(callerIdentityV2(ctx) ?? null) }],
  }));
  return server;
}

function textOf(result: unknown): string {
  const content = (result as { content: Array<{ text: string }> }).content;
  return content[0]?.text ?? '';
}

beforeAll(async () => {
  broker = await startTestBroker();
  v1Host = await serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `entries/${unique('v1')}`,
    description: 'SDK 1.x',
    createServer: () => whoamiServerV1(),
  });
  v2Host = await serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `entries/${unique('v2')}`,
    description: 'SDK 2.x',
    createServer: () => whoamiServerV2(),
  });
  clients = await createMcpMqttClientHost({ mqtt: { url: broker.url }, serverNameFilters: ['entries/#'] });
  await clients.waitForServer(v1Host.serverName);
  await clients.waitForServer(v2Host.serverName);
});

afterAll(async () => {
  await clients?.close();
  await v1Host?.close();
  await v2Host?.close();
  await broker?.close();
});

describe('sdk-v2/client: the 2025 handshake for a negotiating 2.x Client', () => {
  for (const target of ['1.x', '2.x'] as const) {
    it(`versionNegotiation 'auto' falls back to initialize at once, the probe never on the wire (${target} server)`, async () => {
      const host = target === '1.x' ? v1Host : v2Host;
      const watcher = await RawPeer.connect(broker.url);
      await watcher.subscribe('$mcp-rpc/#');
      await watcher.subscribe(`$mcp-server/${host.serverId}/${host.serverName}`);
      // A probe left to time out would take these 60 s, three times the test's timeout.
      const client = new ClientV2(
        { name: 'negotiating', version: '1.0.0' },
        { versionNegotiation: { mode: 'auto', probe: { timeoutMs: 60_000 } } },
      );
      try {
        const transport = await connectClient(clients, client, host.serverName, {
          dedicatedConnection: true,
        });
        expect(client.getProtocolEra()).toBe('legacy');
        expect(transport.negotiatedProtocolVersion).toBe(client.getNegotiatedProtocolVersion());
        expect(await client.callTool({ name: 'whoami', arguments: {} })).toMatchObject({
          content: [{ type: 'text' }],
        });
        const methods = watcher.messages.map(
          (message) => (JSON.parse(message.text) as { method?: string }).method,
        );
        expect(methods).toContain('initialize');
        expect(methods).not.toContain('server/discover');
      } finally {
        await client.close();
        await watcher.close();
      }
    });
  }

  it('plain host.connect() keeps a negotiating 2.x Client on the 2025 handshake too', async () => {
    const client = new ClientV2(
      { name: 'negotiating', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto', probe: { timeoutMs: 60_000 } } },
    );
    const transport = await clients.connect(client, v2Host.serverName, { dedicatedConnection: true });
    expect(client.getProtocolEra()).toBe('legacy');
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toContain(transport.mcpClientId);
    await client.close();
  });

  it('clientTransport() is the same session for client.connect(transport) yourself', async () => {
    const client = new ClientV2(
      { name: 'negotiating', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto', probe: { timeoutMs: 60_000 } } },
    );
    const session = await clients.createTransport(v2Host.serverName, { dedicatedConnection: true });
    await client.connect(clientTransport(session));
    expect(session.isEstablished).toBe(true);
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toContain(session.mcpClientId);
    await client.close();
    expect(session.isClosed).toBe(true);
  });

  it('a 2.x Client pinned to a 2026 revision fails at once instead of waiting for a probe timeout', async () => {
    const client = new ClientV2(
      { name: 'pinned', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' }, probe: { timeoutMs: 60_000 } } },
    );
    const error = await failure(
      connectClient(clients, client, v2Host.serverName, { dedicatedConnection: true }),
    );
    expect(error).toMatchObject({ code: 'ERA_NEGOTIATION_FAILED', message: expect.stringMatching(/pinned/) });
  });
});

describe('callerIdentity in 1.x and 2.x handlers', () => {
  for (const [major, client] of [
    ['1.x', () => new ClientV1({ name: 'caller', version: '1.0.0' })],
    ['2.x', () => new ClientV2({ name: 'caller', version: '1.0.0' })],
  ] as const) {
    for (const target of ['1.x', '2.x'] as const) {
      it(`a ${target} server sees the session's caller of a ${major} client`, async () => {
        const sdkClient = client();
        const host = target === '1.x' ? v1Host : v2Host;
        const transport = await clients.connect(sdkClient, host.serverName, { dedicatedConnection: true });
        try {
          const result = await sdkClient.callTool({ name: 'whoami', arguments: {} });
          expect(JSON.parse(textOf(result))).toEqual({
            mcpClientId: transport.mcpClientId,
            verifiedBy: 'topic',
            roles: [],
          });
        } finally {
          await sdkClient.close();
        }
      });
    }
  }

  it('is undefined outside a server host (no MQTT session behind the handler)', async () => {
    const server = whoamiServerV1();
    const client = new ClientV1({ name: 'in-memory', version: '1.0.0' });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    await client.connect(clientSide);
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toBe('null');
    await client.close();
  });
});
