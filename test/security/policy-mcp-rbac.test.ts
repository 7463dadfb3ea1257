// Attacks on the MCP RBAC plugin (`mcpBrokerHelpers` with roles), embedded broker only. A real MCP server
// (`serveMcpOverMqtt`) has an allowed `echo` and a forbidden `secret` tool that records every call; the
// attacker holds the role `user` (echo only) and tries to make `secret` run anyway.
//
// Defect 1 (issue 12): the plugin parsed payloads differently from the server host, so a JSON-RPC batch or a
// UTF-8 BOM carried `tools/call secret` through (PUBACK 0x00, the tool ran). Principle: policy decides on the
// same canonical parse the receiver acts on (core's `decodeJsonRpcPayload`), and refuses what it cannot
// classify (0x99). Defect 10: with the RBAC plugin alone, `user-x` could publish on `admin`'s RPC topic and
// call `secret` as `admin`; the plugin now binds identities itself.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { MCP_RBAC_ERROR_CODE, composePlugins, mcpBrokerHelpers } from '@mqtt-agents/broker';
import type { McpRoleAssignment } from '@mqtt-agents/broker';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '@mqtt-agents/mcp';
import type { McpServerHost } from '@mqtt-agents/mcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { embeddedLane, unique } from './helpers.js';
import { Peer, idOf, initializeRequest, toolCall } from './policy-fixtures.js';

const NOT_AUTHORIZED = 0x87;
const PAYLOAD_FORMAT_INVALID = 0x99;

const serverName = `policy/${unique('press')}`;
const assignments = new Map<string, string>(); // client id -> role on serverName
const calls: Array<{ tool: string; session: string | undefined }> = [];

let broker: TestBroker;
let server: McpServerHost;
let detach: (() => void) | undefined;
const peers: Peer[] = [];

function buildServer(): McpServer {
  const built = new McpServer({ name: 'press', version: '1.0.0' });
  built.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }, extra) => {
    calls.push({ tool: 'echo', session: extra.sessionId });
    return { content: [{ type: 'text', text }] };
  });
  built.registerTool('secret', { description: 'must never run for role user' }, async (extra) => {
    calls.push({ tool: 'secret', session: extra.sessionId });
    return { content: [{ type: 'text', text: 'the secret' }] };
  });
  return built;
}

beforeAll(async () => {
  if (!embeddedLane) return;
  // The RBAC plugin alone, without agentTopicAcl: it must hold by itself (defect 10).
  const plugins = composePlugins(
    mcpBrokerHelpers({
      roles: (client): McpRoleAssignment[] => {
        const role = assignments.get(client.id);
        return role ? [{ serverName, roleName: role }] : [];
      },
    }),
  );
  broker = await startTestBroker({ embedded: { ...plugins.hooks } });
  detach = plugins.attach?.(broker.broker as NonNullable<TestBroker['broker']>);
  server = await serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName,
    description: 'press with a secret',
    rbac: {
      roles: [
        { name: 'user', allowed_methods: ['tools/list', 'tools/call', 'ping'], allowed_tools: ['echo'] },
        { name: 'admin', allowed_methods: ['tools/list', 'tools/call', 'ping'], allowed_tools: 'all' },
      ],
    },
    createServer: buildServer,
  });
});

afterAll(async () => {
  await Promise.allSettled(peers.map((peer) => peer.close()));
  await server?.close();
  detach?.();
  await broker?.close();
});

/** A raw client with role `role` and an initialized session on the server. */
async function session(role: string | undefined): Promise<{ peer: Peer; rpc: string; control: string }> {
  const id = unique('mcpc');
  if (role) assignments.set(id, role);
  const peer = await Peer.connect(broker.url, id);
  peers.push(peer);
  const rpc = `$mcp-rpc/${id}/${server.serverId}/${server.serverName}`;
  const control = `$mcp-server/${server.serverId}/${server.serverName}`;
  await peer.client.subscribeAsync(rpc, { qos: 1, nl: true });
  expect(await peer.publishMcp(control, initializeRequest('init'))).toBe('accepted');
  await peer.next((message) => message.topic === rpc && idOf(message) === 'init', 'the initialize response');
  expect(await peer.publishMcp(rpc, { jsonrpc: '2.0', method: 'notifications/initialized' })).toBe(
    'accepted',
  );
  return { peer, rpc, control };
}

let barriers = 0;
/**
 * An allowed echo call, answered: the host handles a session's messages in order, so anything published
 * before it that the server accepted has reached its tool by now.
 */
async function barrier(peer: Peer, rpc: string): Promise<void> {
  const id = `barrier-${++barriers}`;
  expect(await peer.publishMcp(rpc, toolCall(id, 'echo', { text: id }))).toBe('accepted');
  await peer.next((message) => message.topic === rpc && idOf(message) === id, `the answer to ${id}`);
}

/** How often `secret` ran in the session of client `mcpClientId` (the host's session id). */
const secretCalls = (mcpClientId: string): number =>
  calls.filter((call) => call.tool === 'secret' && call.session === mcpClientId).length;

const SECRET = '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"secret","arguments":{}}}';

/** `text` with raw bytes inserted after the first `after`. */
function withBytes(text: string, after: string, bytes: number[]): Buffer {
  const at = text.indexOf(after) + after.length;
  return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bytes), Buffer.from(text.slice(at))]);
}

/** Payloads another parser would read differently, each carrying `tools/call secret`; and the verdict. */
const ATTACKS: Array<[string, string | Buffer, number]> = [
  ['a batch of one', `[${SECRET}]`, NOT_AUTHORIZED],
  [
    'a batch hiding it behind an allowed call',
    `[${toolCall(6, 'echo', { text: 'x' })},${SECRET}]`,
    NOT_AUTHORIZED,
  ],
  [
    'a UTF-8 byte order mark',
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(SECRET)]),
    NOT_AUTHORIZED,
  ],
  ['a BOM before a batch', `\uFEFF[${SECRET}]`, NOT_AUTHORIZED],
  [
    'duplicate keys (the last wins, in both parses)',
    '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","name":"secret"}}',
    NOT_AUTHORIZED,
  ],
  [
    'JSON escapes in the tool name',
    '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"secr\\u0065t"}}',
    NOT_AUTHORIZED,
  ],
  [
    'JSON escapes in the method',
    '{"jsonrpc":"2.0","id":7,"method":"tools\\/c\\u0061ll","params":{"name":"secret"}}',
    NOT_AUTHORIZED,
  ],
  ['a string id that looks like a number', SECRET.replace('"id":7', '"id":"7"'), NOT_AUTHORIZED],
  [
    'escaped UTF-16 surrogate pairs in the arguments',
    '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"secret","arguments":{"t":"\\ud83d\\ude00"}}}',
    NOT_AUTHORIZED,
  ],
  ['whitespace padding', `\r\n\t ${SECRET} \n`, NOT_AUTHORIZED],
  ['a notification carrying tools/call', SECRET.replace('"id":7,', ''), NOT_AUTHORIZED],
  ['nested arrays', `[[${SECRET}]]`, PAYLOAD_FORMAT_INVALID],
  [
    'a __proto__ key',
    SECRET.replace('"arguments":{}', '"arguments":{"__proto__":{"admin":true}}'),
    PAYLOAD_FORMAT_INVALID,
  ],
  [
    'invalid UTF-8 (an encoded lone surrogate)',
    withBytes(SECRET, 'secret', [0xed, 0xa0, 0x80]),
    PAYLOAD_FORMAT_INVALID,
  ],
  ['an invalid item next to it in a batch', `[${SECRET},"x"]`, PAYLOAD_FORMAT_INVALID],
  ['an empty batch', '[]', PAYLOAD_FORMAT_INVALID],
  ['not JSON at all', 'tools/call secret', PAYLOAD_FORMAT_INVALID],
];

describe.skipIf(!embeddedLane)('policy: MCP RBAC decides on the canonical parse (defect 1)', () => {
  it('lets a real client call what its role allows and refuses the rest', async () => {
    const id = unique('sdk-user');
    assignments.set(id, 'user');
    await using host = await createMcpMqttClientHost({ mqtt: { url: broker.url }, clientId: id });
    const client = new Client({ name: 'user', version: '1.0.0' });
    await host.connect(client, serverName);
    expect(await client.callTool({ name: 'echo', arguments: { text: 'hi' } })).toMatchObject({
      content: [{ type: 'text', text: 'hi' }],
    });
    await expect(client.callTool({ name: 'secret', arguments: {} })).rejects.toMatchObject({
      code: MCP_RBAC_ERROR_CODE,
      message: expect.stringContaining("role 'user' may not call tool 'secret'"),
    });
    await client.close();
    expect(secretCalls(id)).toBe(0);
  });

  it.each(ATTACKS)(
    'refuses tools/call secret hidden in %s, and the tool does not run',
    async (_name, payload, code) => {
      const { peer, rpc } = await session('user');
      const puback = await peer.publishMcp(rpc, payload);
      await barrier(peer, rpc);
      expect({ puback, secretRan: secretCalls(peer.id) }).toEqual({ puback: code, secretRan: 0 });
    },
  );

  it('answers every request of a refused batch, and lets an allowed batch through to be split', async () => {
    const { peer, rpc } = await session('user');
    expect(
      await peer.publishMcp(rpc, `[${toolCall(21, 'echo', { text: 'a' })},${toolCall(22, 'secret')}]`),
    ).toBe(NOT_AUTHORIZED);
    for (const id of [21, 22]) {
      const answer = await peer.next(
        (message) => message.topic === rpc && idOf(message) === id,
        `error ${id}`,
      );
      expect(JSON.parse(answer.text)).toMatchObject({
        error: { code: MCP_RBAC_ERROR_CODE, message: expect.stringContaining("may not call tool 'secret'") },
      });
    }
    const before = calls.length;
    expect(
      await peer.publishMcp(
        rpc,
        `[${toolCall(31, 'echo', { text: 'a' })},${toolCall(32, 'echo', { text: 'b' })}]`,
      ),
    ).toBe('accepted');
    for (const id of [31, 32]) {
      const answer = await peer.next(
        (message) => message.topic === rpc && idOf(message) === id,
        `answer ${id}`,
      );
      expect(JSON.parse(answer.text)).toHaveProperty('result');
    }
    const inSession = calls.slice(before).filter((call) => call.session === peer.id);
    expect(inSession.map((call) => call.tool)).toEqual(['echo', 'echo']);
    expect(secretCalls(peer.id)).toBe(0);
  });
});

describe.skipIf(!embeddedLane)('policy: the RBAC plugin binds identities without the ACL (defect 10)', () => {
  it("refuses user-x on admin's RPC topic, claimed or not, and secret does not run as admin", async () => {
    const admin = await session('admin');
    const attacker = await session('user');
    const adminRpc = admin.rpc;
    expect(await attacker.peer.publishMcp(adminRpc, toolCall(41, 'secret'), { claim: null })).toBe(
      NOT_AUTHORIZED,
    );
    expect(await attacker.peer.publishMcp(adminRpc, toolCall(42, 'secret'), { claim: admin.peer.id })).toBe(
      NOT_AUTHORIZED,
    );
    // Someone who is not in the session at all (no role anywhere).
    const stranger = await Peer.connect(broker.url, unique('stranger'));
    peers.push(stranger);
    expect(await stranger.publish(adminRpc, toolCall(43, 'secret'))).toBe(NOT_AUTHORIZED);
    await barrier(admin.peer, adminRpc);
    expect(secretCalls(admin.peer.id)).toBe(0);
    // The counter is live: admin itself may call secret.
    expect(await admin.peer.publishMcp(adminRpc, toolCall(44, 'secret'))).toBe('accepted');
    await admin.peer.next((message) => message.topic === adminRpc && idOf(message) === 44, 'the secret');
    expect(secretCalls(admin.peer.id)).toBe(1);
  });

  it("refuses a forged presence that would erase the server's roles, and RBAC still holds", async () => {
    const attacker = await session('user');
    const presence = `$mcp-server/presence/${server.serverId}/${server.serverName}`;
    const noRoles = JSON.stringify({
      jsonrpc: '2.0',
      method: 'notifications/server/online',
      params: { server_name: server.serverName, description: 'forged', meta: {} },
    });
    expect(await attacker.peer.publish(presence, noRoles, { retain: true })).toBe(NOT_AUTHORIZED);
    expect(await attacker.peer.publish(presence, '', { retain: true })).toBe(NOT_AUTHORIZED);
    expect(await attacker.peer.publishMcp(attacker.rpc, toolCall(51, 'secret'))).toBe(NOT_AUTHORIZED);
    await barrier(attacker.peer, attacker.rpc);
    expect(secretCalls(attacker.peer.id)).toBe(0);
  });

  it('refuses retained RPC and control messages and an MCP-MQTT-CLIENT-ID naming someone else', async () => {
    const attacker = await session('user');
    expect(
      await attacker.peer.publishMcp(attacker.rpc, toolCall(61, 'echo', { text: 'x' }), { retain: true }),
    ).toBe(NOT_AUTHORIZED);
    expect(await attacker.peer.publishMcp(attacker.control, initializeRequest(62), { retain: true })).toBe(
      NOT_AUTHORIZED,
    );
    expect(await attacker.peer.publishMcp(attacker.control, initializeRequest(63), { claim: 'user-c' })).toBe(
      NOT_AUTHORIZED,
    );
    expect(broker.broker?.getRetained(attacker.rpc)).toBeUndefined();
    expect(broker.broker?.getRetained(attacker.control)).toBeUndefined();
    expect(server.sessions.has('user-c')).toBe(false);
  });
});
