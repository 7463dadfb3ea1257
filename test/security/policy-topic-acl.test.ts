// Attacks on the identity-binding topic ACL (`agentTopicAcl`), embedded broker only.
//
// Defect 2 (issue 12): client ids `#` and `+` were granted `$mcp-rpc/#`, `$mcp-server/#`, `$share/x/$mcp-rpc/#`
// and `$mcp-rpc/+/+/#`, because the rule compared the filter level with the client id as strings. Principle:
// an identity bound to a topic level must be a valid identifier of that level; such ids are refused at
// CONNECT (0x85) and the rules compare parsed identities. Defect 3 (broker side): a `MCP-MQTT-CLIENT-ID`
// naming someone else is refused, a missing one stamped, and every routed message carries the verified
// sender. Defect 4 (broker side): requests, replies and MCP control/RPC messages are never retained.
// Operators read all agent traffic and publish none of it.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { agentTopicAcl, composePlugins } from '@mqtt-agents/broker';
import type { BrokerPlugin } from '@mqtt-agents/broker';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { SenderUserProperty } from '@mqtt-agents/core';
import { serveMcpOverMqtt } from '@mqtt-agents/mcp';
import type { McpServerHost, McpServerSession } from '@mqtt-agents/mcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedLane, eventually, unique } from './helpers.js';
import { Peer, connectOutcome, idOf, initializeRequest } from './policy-fixtures.js';

const NOT_AUTHORIZED = 0x87;
const CLIENT_IDENTIFIER_NOT_VALID = 0x85;

/** Authentication stand-in: `console-*` and `ops/*` are operators, `auth-*` authenticated agents. */
const inlineAuth: BrokerPlugin = {
  name: 'test-auth',
  hooks: {
    authenticate: (context) => {
      if (context.id.startsWith('console-') || context.id.startsWith('ops/')) {
        return { principal: { name: `op:${context.id}`, method: 'test', roles: ['operator'] } };
      }
      if (context.id.startsWith('auth-')) {
        return { principal: { name: `user:${context.id}`, method: 'test', roles: ['viewer', 'line-7'] } };
      }
      return true;
    },
  },
};

let broker: TestBroker;
let server: McpServerHost;
const opened: McpServerSession[] = [];
const peers: Peer[] = [];

beforeAll(async () => {
  if (!embeddedLane) return;
  const plugins = composePlugins(inlineAuth, agentTopicAcl());
  broker = await startTestBroker({ embedded: { ...plugins.hooks } });
  server = await serveMcpOverMqtt({
    mqtt: { url: broker.url },
    serverName: `acl/${unique('press')}`,
    description: 'press',
    createServer: () => new McpServer({ name: 'press', version: '1.0.0' }),
  });
  server.on('session-open', (session) => opened.push(session));
});

afterAll(async () => {
  await Promise.allSettled(peers.map((peer) => peer.close()));
  await server?.close();
  await broker?.close();
});

async function peer(clientId: string, options: Parameters<typeof Peer.connect>[2] = {}): Promise<Peer> {
  const connected = await Peer.connect(broker.url, clientId, options);
  peers.push(connected);
  return connected;
}

const controlTopic = (): string => `$mcp-server/${server.serverId}/${server.serverName}`;
const rpcTopic = (mcpClientId: string): string =>
  `$mcp-rpc/${mcpClientId}/${server.serverId}/${server.serverName}`;

describe.skipIf(!embeddedLane)(
  'policy: identities bound to topic levels are valid identifiers (defect 2)',
  () => {
    it.each([
      ['#'],
      ['+'],
      ['a/#'],
      ['x/+/y'],
      ['org//agent'],
      ['mallory\n'],
      ['a b'],
      ['a/b'],
      ['o/u/a/b'],
      ['presence'], // `$mcp-server/presence/...` would be its control topic
      ['capability'],
      ['o/u/pool'], // `$a2a/v1/request/o/u/pool/#` would reach its requests
      ['é/u/a'],
      ['x'.repeat(129)],
    ])('refuses client id %j at CONNECT with 0x85', async (clientId) => {
      expect(await connectOutcome(broker.url, clientId)).toBe(CLIENT_IDENTIFIER_NOT_VALID);
    });

    it('refuses a NUL client id (a malformed CONNECT, 0x81, before any hook)', async () => {
      expect(await connectOutcome(broker.url, 'a\u0000b')).toBe(0x81);
    });

    it('refuses them over MQTT 3.1.1 too, and accepts agents, MCP ids, assigned ids and operators', async () => {
      expect(await connectOutcome(broker.url, '#', { protocolVersion: 4 })).not.toBe('connected');
      for (const clientId of [`${unique('org')}/u/alice`, unique('mcp-client'), '', 'ops/alice']) {
        expect(await connectOutcome(broker.url, clientId), clientId).toBe('connected');
      }
    });

    it('gives a valid client no wildcard or $share reach into other identities', async () => {
      const org = unique('org');
      const mcpClient = await peer(unique('mcpc'));
      const agent = await peer(`${org}/u/mallory`);
      for (const filter of [
        '$mcp-rpc/#',
        '$mcp-rpc/+/#',
        '$mcp-rpc/+/+/#',
        `$mcp-rpc/+/${server.serverId}/#`,
        '$mcp-server/#',
        '$mcp-server/+/#',
        `$mcp-server/${server.serverId}/#`,
        '$share/x/$mcp-rpc/#',
        '$share/x/$mcp-server/#',
        '$a2a/#',
      ]) {
        expect(await mcpClient.canSubscribe(filter), filter).toBe(false);
      }
      for (const filter of [
        '$a2a/#',
        '$a2a/v1/request/#',
        `$a2a/v1/request/${org}/u/+`,
        `$a2a/v1/request/${org}/u/alice`,
        `$a2a/v1/reply/${org}/u/alice/+`,
        `$a2a/v1/reply/${org}/u/+/+`,
        `$a2a/v1/reply/${org}/+/#`,
        '$share/x/$a2a/v1/request/#',
        `$share/x/$a2a/v1/request/${org}/u/pool/#`,
        `$share/x/$a2a/v1/request/${org}/other/pool/p`,
        `$a2a/v1/request/${org}/u/pool/p`, // pools only as a shared subscription
      ]) {
        expect(await agent.canSubscribe(filter), filter).toBe(false);
      }
      // What they may read.
      expect(await mcpClient.canSubscribe(rpcTopic(mcpClient.id))).toBe(true);
      expect(await mcpClient.canSubscribe('$mcp-server/presence/+/#')).toBe(true);
      expect(await agent.canSubscribe(`$a2a/v1/request/${org}/u/mallory`)).toBe(true);
      expect(await agent.canSubscribe(`$a2a/v1/reply/${org}/u/mallory/+`)).toBe(true);
      expect(await agent.canSubscribe(`$share/g/$a2a/v1/request/${org}/u/pool/p`)).toBe(true);
      expect(await agent.canSubscribe('$a2a/v1/discovery/+/+/+')).toBe(true);
    });

    it('refuses publishing under another identity, or on agent topics that do not parse', async () => {
      const org = unique('org');
      const agent = await peer(`${org}/u/mallory`);
      const mcpClient = await peer(unique('mcpc'));
      expect(await agent.publish(`$a2a/v1/discovery/${org}/u/alice`, '{}', { retain: true })).toBe(
        NOT_AUTHORIZED,
      );
      expect(await agent.publish(`$a2a/v1/event/${org}/u/alice`, '{}')).toBe(NOT_AUTHORIZED);
      expect(await agent.publish(`$a2a/v2/request/${org}/u/alice`, '{}')).toBe(NOT_AUTHORIZED);
      expect(await agent.publish(`$a2a/v1/request/${org}/u/pool`, '{}')).toBe(NOT_AUTHORIZED);
      expect(await mcpClient.publish(rpcTopic('victim'), '{}')).toBe(NOT_AUTHORIZED);
      expect(await mcpClient.publish(`$mcp-server/presence/${server.serverId}/x`, '{}')).toBe(NOT_AUTHORIZED);
      expect(await mcpClient.publish(`$mcp-client/presence/victim`, '{}')).toBe(NOT_AUTHORIZED);
      expect(await mcpClient.publish(`$mcp-rpc/${mcpClient.id}/s`, '{}')).toBe(NOT_AUTHORIZED);
      expect(await mcpClient.publish(`$mcp-other/${mcpClient.id}`, '{}')).toBe(NOT_AUTHORIZED);
    });
  },
);

describe.skipIf(!embeddedLane)('policy: the operator role reads all agent traffic and publishes none', () => {
  it('subscribes to every agent topic family, sees requests and replies, and cannot publish any', async () => {
    const org = unique('org');
    const operator = await peer(`console-${unique('ops')}`);
    for (const filter of [
      '$a2a/#',
      '$mcp-rpc/#',
      '$mcp-server/#',
      '$mcp-client/#',
      '$a2a/v1/request/+/+/+',
    ]) {
      expect(await operator.canSubscribe(filter), filter).toBe(true);
    }
    // Never as a member of a shared group: it would take messages away from their receivers.
    expect(await operator.canSubscribe(`$share/g/$a2a/v1/request/${org}/u/pool/p`)).toBe(false);

    const alice = await peer(`${org}/u/alice`);
    expect(await alice.publish(`$a2a/v1/request/${org}/u/bob`, '{"jsonrpc":"2.0","id":1}')).toBe('accepted');
    expect(await alice.publish(`$a2a/v1/reply/${org}/u/bob/r1`, '{"jsonrpc":"2.0","id":1,"result":{}}')).toBe(
      'accepted',
    );
    await operator.next((message) => message.topic === `$a2a/v1/request/${org}/u/bob`, 'the request');
    await operator.next((message) => message.topic === `$a2a/v1/reply/${org}/u/bob/r1`, 'the reply');

    const id = operator.id;
    for (const topic of [
      `$a2a/v1/request/${org}/u/alice`,
      `$a2a/v1/request/${org}/u/pool/p`,
      `$a2a/v1/reply/${org}/u/alice/r1`,
      `$a2a/v1/discovery/${org}/u/alice`,
      `$a2a/v1/event/${org}/u/alice`,
      controlTopic(),
      rpcTopic(id),
      `$mcp-server/presence/${id}/ops`,
      `$mcp-client/presence/${id}`,
    ]) {
      expect(await operator.publish(topic, '{}'), topic).toBe(NOT_AUTHORIZED);
    }
    expect(await operator.publish(`ops/${unique('note')}`, 'fine')).not.toBe(NOT_AUTHORIZED);
  });
});

describe.skipIf(!embeddedLane)(
  'policy: requests, replies and MCP control/RPC messages are never retained (defect 4)',
  () => {
    it('refuses retain on request, pool, reply, control and rpc topics and keeps it on cards, presence, capability', async () => {
      const org = unique('org');
      const alice = await peer(`${org}/u/alice`);
      const mcpClient = await peer(unique('mcpc'));
      const refused = [
        [alice, `$a2a/v1/request/${org}/u/bob`],
        [alice, `$a2a/v1/request/${org}/u/pool/p`],
        [alice, `$a2a/v1/reply/${org}/u/bob/r1`],
        [mcpClient, controlTopic()],
        [mcpClient, rpcTopic(mcpClient.id)],
      ] as const;
      for (const [client, topic] of refused) {
        expect(
          await client.publish(topic, '{"jsonrpc":"2.0","id":1,"method":"SendMessage"}', { retain: true }),
          topic,
        ).toBe(NOT_AUTHORIZED);
        expect(broker.broker?.getRetained(topic), topic).toBeUndefined();
      }
      const kept = [
        [alice, `$a2a/v1/discovery/${org}/u/alice`],
        [alice, `$a2a/v1/event/${org}/u/alice`],
        [mcpClient, `$mcp-server/presence/${mcpClient.id}/x`],
        [mcpClient, `$mcp-server/capability/${mcpClient.id}/x`],
        [mcpClient, `$mcp-client/presence/${mcpClient.id}`],
      ] as const;
      for (const [client, topic] of kept) {
        expect(await client.publish(topic, '{}', { retain: true }), topic).not.toBe(NOT_AUTHORIZED);
        expect(broker.broker?.getRetained(topic), topic).toBeDefined();
      }
    });
  },
);

describe.skipIf(!embeddedLane)(
  'policy: the broker stamps and checks who sent an MCP message (defect 3)',
  () => {
    it("refuses mallory's initialize claiming user-c, live or retained, so no session opens for user-c", async () => {
      const mallory = await peer(unique('mallory'));
      const userC = await peer(unique('user-c'));
      await userC.client.subscribeAsync(rpcTopic(userC.id), { qos: 1, nl: true });
      expect(await mallory.publishMcp(controlTopic(), initializeRequest('forged'), { claim: userC.id })).toBe(
        NOT_AUTHORIZED,
      );
      expect(
        await mallory.publishMcp(controlTopic(), initializeRequest('forged'), {
          claim: userC.id,
          retain: true,
        }),
      ).toBe(NOT_AUTHORIZED);
      expect(broker.broker?.getRetained(controlTopic())).toBeUndefined();
      // user-c's own initialize is the first the server sees from it.
      expect(await userC.publishMcp(controlTopic(), initializeRequest('mine'))).toBe('accepted');
      await userC.next(
        (message) => message.topic === rpcTopic(userC.id) && idOf(message) === 'mine',
        'its answer',
      );
      await eventually(() => opened.some((session) => session.mcpClientId === userC.id), 'the session');
      expect(userC.messages.map(idOf)).toEqual(['mine']);
      expect(opened.filter((session) => session.mcpClientId === userC.id)).toHaveLength(1);
    });

    it('stamps the verified sender (and a missing MCP-MQTT-CLIENT-ID) after removing forged copies', async () => {
      const client = await peer(unique('auth-client'));
      await client.client.subscribeAsync(rpcTopic(client.id), { qos: 1, nl: true });
      const forged = {
        [SenderUserProperty.ClientId]: 'admin',
        [SenderUserProperty.Principal]: 'root',
        [SenderUserProperty.Roles]: 'operator',
      };
      // No MCP-MQTT-CLIENT-ID at all: the broker adds the publisher's, so the server can answer.
      expect(
        await client.publishMcp(controlTopic(), initializeRequest('stamped'), {
          claim: null,
          userProperties: forged,
        }),
      ).toBe('accepted');
      await client.next(
        (message) => message.topic === rpcTopic(client.id) && idOf(message) === 'stamped',
        'answer',
      );
      await eventually(() => opened.some((entry) => entry.mcpClientId === client.id), 'the session');
      const session = opened.find((entry) => entry.mcpClientId === client.id);
      expect(session?.userProperties).toMatchObject({
        'MCP-MQTT-CLIENT-ID': [client.id],
        [SenderUserProperty.ClientId]: [client.id],
        [SenderUserProperty.Principal]: [`user:${client.id}`],
        [SenderUserProperty.Roles]: ['viewer,line-7'],
      });
      // The server's answer is stamped with the server's identity in turn.
      const answer = client.messages.find((message) => idOf(message) === 'stamped');
      expect(answer?.userProperties[SenderUserProperty.ClientId]).toBe(server.serverId);
    });

    it('removes forged sender properties from clients without a principal, on any topic', async () => {
      const sender = await peer(unique('plain'));
      const reader = await peer(unique('reader'));
      const topic = `plain/${unique('t')}`;
      await reader.client.subscribeAsync(topic, { qos: 1 });
      await sender.publish(topic, 'x', {
        properties: {
          userProperties: { [SenderUserProperty.Principal]: 'root', [SenderUserProperty.Roles]: 'operator' },
        },
      });
      const message = await reader.next((entry) => entry.topic === topic, 'the message');
      expect(message.userProperties).toEqual({ [SenderUserProperty.ClientId]: sender.id });
    });

    it('stamps wills too, and refuses a will whose MCP-MQTT-CLIENT-ID names someone else', async () => {
      const reader = await peer(unique('reader'));
      const topic = `plain/${unique('will')}`;
      const liarId = unique('liar');
      await reader.client.subscribeAsync([topic, `$mcp-client/presence/${liarId}`], { qos: 1 });
      const liar = await Peer.connect(broker.url, liarId, {
        will: {
          topic: `$mcp-client/presence/${liarId}`,
          payload: Buffer.from('{"jsonrpc":"2.0","method":"notifications/disconnected"}'),
          qos: 1,
          retain: false,
          properties: { userProperties: { 'MCP-MQTT-CLIENT-ID': unique('victim') } },
        },
      });
      const dying = await Peer.connect(broker.url, unique('dying'), {
        will: {
          topic,
          payload: Buffer.from('gone'),
          qos: 1,
          retain: false,
          properties: { userProperties: { [SenderUserProperty.ClientId]: 'admin' } },
        },
      });
      liar.client.stream.destroy();
      await eventually(() => !(broker.broker?.clientIds ?? []).includes(liarId), 'the liar gone');
      dying.client.stream.destroy();
      // The liar's will (if it had been routed) came before this one.
      const will = await reader.next((message) => message.topic === topic, 'the will');
      expect(will.userProperties).toEqual({ [SenderUserProperty.ClientId]: dying.id });
      expect(reader.messages.map((message) => message.topic)).toEqual([topic]);
    });
  },
);
