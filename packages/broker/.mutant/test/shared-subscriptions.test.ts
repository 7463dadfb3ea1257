import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import {
  closeAllClients,
  connectClient,
  embedded,
  itFailsOn,
  RawClient,
  subscriber,
  unique,
  type Inbox,
} from './helpers.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await closeAllClients();
  await broker?.close();
});

async function members(filter: string, count: number): Promise<Inbox[]> {
  const inboxes: Inbox[] = [];
  for (let index = 0; index < count; index++) {
    inboxes.push((await subscriber(broker.url, filter, { qos: 1 })).inbox);
  }
  return inboxes;
}

async function publishSequence(topic: string, count: number, prefix = 'm'): Promise<string[]> {
  const publisher = await connectClient(broker.url);
  const sent: string[] = [];
  for (let index = 0; index < count; index++) {
    sent.push(`${prefix}${index}`);
    await publisher.publishAsync(topic, `${prefix}${index}`, { qos: 1 });
  }
  return sent;
}

describe.concurrent('shared subscriptions', () => {
  it('distributes messages round robin among the members of a group', async () => {
    const topic = `shared/${unique('t')}`;
    const group = await members(`$share/${unique('g')}/${topic}`, 3);
    const sent = await publishSequence(topic, 30);
    await Promise.all(group.map((inbox) => inbox.waitFor(10)));
    expect(group.map((inbox) => inbox.messages.length)).toEqual([10, 10, 10]);
    const received = group.flatMap((inbox) => inbox.payloads());
    expect(received.sort()).toEqual([...sent].sort());
    expect(await Promise.all(group.map((inbox) => inbox.quiet(100)))).toEqual([[], [], []]);
  });

  it('gives each group every message once and a plain subscriber every message', async () => {
    const topic = `shared/${unique('t')}`;
    const first = await members(`$share/${unique('g')}/${topic}`, 2);
    const second = await members(`$share/${unique('g')}/${topic}`, 1);
    const { inbox: plain } = await subscriber(broker.url, topic, { qos: 1 });
    const sent = await publishSequence(topic, 10);
    await plain.waitFor(10);
    await second[0]!.waitFor(10);
    await Promise.all(first.map((inbox) => inbox.waitFor(1)));
    await first[0]!.quiet(100);
    expect(first.flatMap((inbox) => inbox.payloads()).sort()).toEqual([...sent].sort());
    expect(second[0]!.payloads()).toEqual(sent);
    expect(plain.payloads()).toEqual(sent);
  });

  it('matches wildcards in the filter of a shared subscription', async () => {
    const base = `shared/${unique('t')}`;
    const [member] = await members(`$share/${unique('g')}/${base}/+/status`, 1);
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(`${base}/a/status`, 'a', { qos: 1 });
    await publisher.publishAsync(`${base}/a/other`, 'no', { qos: 1 });
    await publisher.publishAsync(`${base}/b/status`, 'b', { qos: 1 });
    await member!.waitFor(2);
    expect(await member!.quiet(100)).toEqual([]);
    expect(member!.payloads()).toEqual(['a', 'b']);
  });

  // MQTT 5 3.3.1.3 sends retained messages when a new Non-shared Subscription is made. Known limitation:
  // Mosquitto 2.0.11 also sends them to a new shared subscription.
  itFailsOn('mosquitto')('sends no retained messages when a shared subscription is made', async () => {
    const topic = `shared/${unique('t')}`;
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, 'retained', { qos: 1, retain: true });
    const [member] = await members(`$share/${unique('g')}/${topic}`, 1);
    expect(await member!.quiet()).toEqual([]);
  });

  it('stops delivering to a member that unsubscribed', async () => {
    const topic = `shared/${unique('t')}`;
    const filter = `$share/${unique('g')}/${topic}`;
    const { client: leaving, inbox: leavingInbox } = await subscriber(broker.url, filter, { qos: 1 });
    const { inbox: staying } = await subscriber(broker.url, filter, { qos: 1 });
    await leaving.unsubscribeAsync(filter);
    const sent = await publishSequence(topic, 6);
    await staying.waitFor(6);
    expect(staying.payloads()).toEqual(sent);
    expect(leavingInbox.messages).toEqual([]);
  });

  // Embedded only: MQTT 5 (4.8.2) says a broker SHOULD send a lost member's unacknowledged messages to another
  // member; our broker does, Mosquitto 2.0.11 does not (measured: the withheld messages are dropped).
  it.skipIf(!embedded)(
    'redispatches unacknowledged QoS 1 messages to another member when a member leaves',
    async () => {
      const topic = `shared/${unique('t')}`;
      const filter = `$share/${unique('g')}/${topic}`;
      const { client: silent } = await RawClient.connect(broker.url);
      await silent.subscribe({ topic: filter, qos: 1 });
      const { inbox: staying } = await subscriber(broker.url, filter, { qos: 1 });
      const sent = await publishSequence(topic, 4);
      const withheld = await silent.nextN('publish', 1); // received, never acknowledged
      expect(withheld[0]!.qos).toBe(1);
      await staying.waitFor(1);
      silent.destroy();
      await staying.waitFor(4);
      expect(staying.payloads().sort()).toEqual([...sent].sort());
    },
  );

  // Known limitation: Mosquitto 2.x grants a shared subscription whose filter starts with `$` but delivers
  // nothing to it, so A2A pool dispatch (`$share/{pool}/$a2a/v1/request/...`) does not work there.
  itFailsOn('mosquitto')('delivers on a shared subscription to a `$a2a/v1/request/...` filter', async () => {
    const topic = `$a2a/v1/request/org/unit/${unique('agent')}`;
    const group = await members(`$share/${unique('pool')}/${topic}`, 2);
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, 'r1', { qos: 1 });
    await publisher.publishAsync(topic, 'r2', { qos: 1 });
    await Promise.all(group.map((inbox) => inbox.waitFor(1, 1_000)));
    expect(group.flatMap((inbox) => inbox.payloads()).sort()).toEqual(['r1', 'r2']);
  });
});
