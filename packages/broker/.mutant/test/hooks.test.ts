// Embedded only: the hooks are the embedded broker's API (Mosquitto has plugins, not these callbacks).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthenticateContext, ClientInfo, PublishedMessage, SubscriptionRequest } from '../src/index.js';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import { closeAllClients, connectClient, embedded, RawClient, subscriber, unique } from './helpers.js';

let broker: TestBroker;
const seen = {
  authenticate: [] as AuthenticateContext[],
  publish: [] as Array<{ client: ClientInfo; message: PublishedMessage }>,
  subscribe: [] as Array<{ client: ClientInfo; subscription: SubscriptionRequest }>,
};

describe.skipIf(!embedded)('broker hooks (embedded only)', { concurrent: true }, () => {
  beforeAll(async () => {
    broker = await startTestBroker({
      embedded: {
        authenticate: async (context) => {
          seen.authenticate.push(context);
          await Promise.resolve();
          if (context.username === 'intruder') return 0x86; // Bad user name or password
          if (context.id.startsWith('banned')) return 0x8a; // Banned
          if (context.id.startsWith('throws')) throw new Error('hook failure');
          return context.password?.toString() === 'wrong' ? 0x86 : true;
        },
        authorizePublish: async (client, message) => {
          seen.publish.push({ client, message });
          if (message.topic.startsWith('forbidden/')) return 0x87; // Not authorized
          if (message.topic.startsWith('quota/')) return 0x97; // Quota exceeded
          if (message.topic.startsWith('throws/')) throw new Error('hook failure');
          return true;
        },
        authorizeSubscribe: (client, subscription) => {
          seen.subscribe.push({ client, subscription });
          if (subscription.filter.startsWith('secret/')) return 0x87;
          if (subscription.filter.startsWith('capped/')) return 0; // grant at most QoS 0
          return true;
        },
        connackUserProperties: (client) => ({
          'MCP-SERVER-NAME': `server-for-${client.id}`,
          'MCP-RBAC': ['reader', 'writer'],
        }),
      },
    });
  });

  afterAll(async () => {
    await closeAllClients();
    await broker?.close();
  });

  describe.concurrent('authenticate', () => {
    it('refuses a connection with the reason code the hook returns, in CONNACK', async () => {
      const { client, connack } = await RawClient.connect(broker.url, {
        username: 'intruder',
        password: Buffer.from('x'),
      });
      expect(connack.reasonCode).toBe(0x86);
      await client.waitClosed();
      const banned = await RawClient.connect(broker.url, { clientId: unique('banned') });
      expect(banned.connack.reasonCode).toBe(0x8a);
    });

    it('gives an MQTT 3.1.1 client the matching CONNACK return code (4: bad user name or password)', async () => {
      const { connack } = await RawClient.connect(broker.url, { protocolVersion: 4, username: 'intruder' });
      expect(connack.returnCode).toBe(4);
    });

    it('sees the client id, user name, password and whether the id was assigned', async () => {
      const clientId = unique('seen');
      const { connack } = await RawClient.connect(broker.url, {
        clientId,
        username: 'alice',
        password: Buffer.from('secret'),
      });
      expect(connack.reasonCode).toBe(0);
      const context = seen.authenticate.find((entry) => entry.id === clientId);
      expect(context?.username).toBe('alice');
      expect(context?.password?.toString()).toBe('secret');
      expect(context?.assignedClientId).toBe(false);
      expect(context?.protocolVersion).toBe(5);
      const assigned = await RawClient.connect(broker.url, { clientId: '' });
      const id = assigned.connack.properties?.assignedClientIdentifier;
      expect(seen.authenticate.find((entry) => entry.id === id)?.assignedClientId).toBe(true);
    });

    it('refuses with 0x80 (Unspecified error) when the hook throws, and goes on serving', async () => {
      const { connack } = await RawClient.connect(broker.url, { clientId: unique('throws') });
      expect(connack.reasonCode).toBe(0x80);
      const { connack: ok } = await RawClient.connect(broker.url);
      expect(ok.reasonCode).toBe(0);
    });
  });

  describe.concurrent('authorizePublish', () => {
    it('refuses a QoS 1 publish with the hook reason code in PUBACK and does not deliver it', async () => {
      const topic = `forbidden/${unique('t')}`;
      const { inbox } = await subscriber(broker.url, topic, { qos: 1 });
      const { client } = await RawClient.connect(broker.url);
      const puback = await client.publish({ topic, payload: Buffer.from('no'), qos: 1 });
      expect(puback?.reasonCode).toBe(0x87);
      const quota = await client.publish({
        topic: `quota/${unique('t')}`,
        payload: Buffer.from('no'),
        qos: 1,
      });
      expect(quota?.reasonCode).toBe(0x97);
      expect(await inbox.quiet()).toEqual([]);
      expect(client.isClosed).toBe(false);
    });

    it('refuses a QoS 2 publish with the hook reason code in PUBREC', async () => {
      const { client } = await RawClient.connect(broker.url);
      const pubrec = await client.publish({
        topic: `forbidden/${unique('t')}`,
        payload: Buffer.from('no'),
        qos: 2,
      });
      expect(pubrec?.cmd).toBe('pubrec');
      expect(pubrec?.reasonCode).toBe(0x87);
    });

    it('drops a refused QoS 0 publish silently and keeps the connection', async () => {
      const topic = `forbidden/${unique('t')}`;
      const { inbox } = await subscriber(broker.url, topic, { qos: 0 });
      const { client } = await RawClient.connect(broker.url);
      await client.publish({ topic, payload: Buffer.from('no'), qos: 0 });
      expect(await inbox.quiet()).toEqual([]);
      client.send({ cmd: 'pingreq' });
      await client.next('pingresp');
    });

    it('does not store a refused retained message', async () => {
      const topic = `forbidden/${unique('t')}`;
      const { client } = await RawClient.connect(broker.url);
      await client.publish({ topic, payload: Buffer.from('no'), qos: 1, retain: true });
      expect(broker.broker?.getRetained(topic)).toBeUndefined();
    });

    it('applies to the will message too', async () => {
      const topic = `forbidden/will/${unique('t')}`;
      const { inbox } = await subscriber(broker.url, topic, { qos: 1 });
      const { client } = await RawClient.connect(broker.url, {
        will: { topic, payload: Buffer.from('will'), qos: 1, retain: false },
      });
      client.destroy();
      expect(await inbox.quiet(300)).toEqual([]);
    });

    it('sees the publishing client and the message with its properties', async () => {
      const topic = `allowed/${unique('t')}`;
      const publisher = await connectClient(broker.url);
      await publisher.publishAsync(topic, 'hello', { qos: 1, properties: { contentType: 'text/plain' } });
      const entry = seen.publish.find((item) => item.message.topic === topic);
      expect(entry?.client.id).toBe(publisher.options.clientId);
      expect(entry?.message.payload.toString()).toBe('hello');
      expect(entry?.message.qos).toBe(1);
      expect(entry?.message.properties.contentType).toBe('text/plain');
    });

    it('refuses with 0x80 when the hook throws, and keeps the connection', async () => {
      const { client } = await RawClient.connect(broker.url);
      const puback = await client.publish({
        topic: `throws/${unique('t')}`,
        payload: Buffer.from('x'),
        qos: 1,
      });
      expect(puback?.reasonCode).toBe(0x80);
      expect(client.isClosed).toBe(false);
    });
  });

  describe.concurrent('authorizeSubscribe', () => {
    it('refuses one filter with the hook reason code in SUBACK and grants the others', async () => {
      const { client } = await RawClient.connect(broker.url);
      const suback = await client.subscribe([
        { topic: `allowed/${unique('t')}`, qos: 1 },
        { topic: `secret/${unique('t')}`, qos: 1 },
        { topic: `allowed/${unique('t')}`, qos: 2 },
      ]);
      expect(suback.granted).toEqual([1, 0x87, 2]);
    });

    it('delivers nothing on a refused subscription', async () => {
      const topic = `secret/${unique('t')}`;
      const { client } = await RawClient.connect(broker.url);
      await client.subscribe({ topic, qos: 1 });
      const publisher = await connectClient(broker.url);
      await publisher.publishAsync(topic, 'hidden', { qos: 1 });
      expect(await client.quiet('publish')).toEqual([]);
    });

    it('grants at most the QoS the hook returns', async () => {
      const topic = `capped/${unique('t')}`;
      const { client } = await RawClient.connect(broker.url);
      const suback = await client.subscribe({ topic, qos: 2 });
      expect(suback.granted).toEqual([0]);
      const publisher = await connectClient(broker.url);
      await publisher.publishAsync(topic, 'capped', { qos: 2 });
      expect((await client.next('publish')).qos).toBe(0);
    });

    it('sees shared subscriptions with their share name and the filter they match', async () => {
      const group = unique('g');
      const topic = `allowed/${unique('t')}`;
      const { client } = await RawClient.connect(broker.url);
      await client.subscribe({ topic: `$share/${group}/${topic}`, qos: 1 }, { subscriptionIdentifier: 9 });
      const entry = seen.subscribe.find((item) => item.subscription.shareName === group);
      expect(entry?.subscription.filter).toBe(topic);
      expect(entry?.subscription.topicFilter).toBe(`$share/${group}/${topic}`);
      expect(entry?.subscription.subscriptionIdentifier).toBe(9);
    });
  });

  describe.concurrent('connackUserProperties', () => {
    it('puts the returned user properties in the CONNACK of an MQTT 5 client', async () => {
      const clientId = unique('named');
      const { connack } = await RawClient.connect(broker.url, { clientId });
      expect(connack.properties?.userProperties).toEqual({
        'MCP-SERVER-NAME': `server-for-${clientId}`,
        'MCP-RBAC': ['reader', 'writer'],
      });
    });

    it('sees the assigned client id when the client sent none', async () => {
      const { connack } = await RawClient.connect(broker.url, { clientId: '' });
      const id = connack.properties?.assignedClientIdentifier;
      expect(connack.properties?.userProperties?.['MCP-SERVER-NAME']).toBe(`server-for-${id}`);
    });

    it('does not add them to a refused CONNACK', async () => {
      const { connack } = await RawClient.connect(broker.url, { username: 'intruder' });
      expect(connack.reasonCode).toBe(0x86);
      expect(connack.properties?.userProperties).toBeUndefined();
    });
  });
});
