import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import { closeAllClients, connectClient, subscriber, unique, type Inbox } from './helpers.js';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await closeAllClients();
  await broker?.close();
});

const dollar = (inbox: Inbox): string[] => inbox.topics().filter((topic) => topic.startsWith('$'));

/**
 * Publish to `$`-topics and then to a control topic the wildcard does match; once the control message
 * arrived (same publisher, so in order), anything `$` would have arrived too.
 */
async function publishDollarThenControl(
  inbox: Inbox,
  dollarTopics: string[],
  control: string,
  retain = false,
) {
  const publisher = await connectClient(broker.url);
  for (const topic of dollarTopics) await publisher.publishAsync(topic, 'dollar', { qos: 1, retain });
  await publisher.publishAsync(control, 'control', { qos: 1, retain });
  await inbox.waitForMatch((message) => message.topic === control);
  await inbox.quiet(150);
}

describe.concurrent('wildcards never match $-topics', () => {
  it('`#` receives no live message on a $-topic', async () => {
    const id = unique('agent');
    const { inbox } = await subscriber(broker.url, '#', { qos: 1 });
    await publishDollarThenControl(
      inbox,
      [`$mcp-server/${id}/tools`, `$a2a/v1/request/org/unit/${id}`, `$custom/${id}`],
      `dollar/${id}`,
    );
    expect(dollar(inbox)).toEqual([]);
  });

  it('`+/...` receives no live message on a $-topic', async () => {
    const id = unique('agent');
    const { inbox } = await subscriber(broker.url, `+/v1/request/org/unit/${id}`, { qos: 1 });
    await publishDollarThenControl(
      inbox,
      [`$a2a/v1/request/org/unit/${id}`],
      `a2a/v1/request/org/unit/${id}`,
    );
    expect(inbox.topics()).toEqual([`a2a/v1/request/org/unit/${id}`]);
  });

  it('`$share/{group}/#` receives no live message on a $-topic', async () => {
    const id = unique('agent');
    const { inbox } = await subscriber(broker.url, `$share/${unique('g')}/#`, { qos: 1 });
    await publishDollarThenControl(inbox, [`$mcp-server/${id}/x`], `dollar/${id}`);
    expect(dollar(inbox)).toEqual([]);
  });

  it('`#` and `+/...` get no retained $-topic message at subscribe', async () => {
    const id = unique('agent');
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(`$mcp-server/${id}/card`, 'retained dollar', { qos: 1, retain: true });
    await publisher.publishAsync(`$a2a/v1/discovery/${id}`, 'retained dollar', { qos: 1, retain: true });
    await publisher.publishAsync(`mcp-server/${id}/card`, 'retained control', { qos: 1, retain: true });
    const { inbox: all } = await subscriber(broker.url, '#', { qos: 1 });
    const { inbox: level } = await subscriber(broker.url, `+/${id}/card`, { qos: 1 });
    await all.waitForMatch((message) => message.topic === `mcp-server/${id}/card`);
    await level.waitForMatch((message) => message.topic === `mcp-server/${id}/card`);
    await all.quiet(150);
    expect(dollar(all)).toEqual([]);
    expect(level.topics()).toEqual([`mcp-server/${id}/card`]);
  });
});

describe.concurrent('explicit $-topic subscriptions', () => {
  it('`$mcp-server/...` filters receive live and retained messages, wildcards after the first level included', async () => {
    const id = unique('server');
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(`$mcp-server/presence/${id}`, 'online', { qos: 1, retain: true });
    const { inbox: exact } = await subscriber(broker.url, `$mcp-server/presence/${id}`, { qos: 1 });
    const { inbox: wildcard } = await subscriber(broker.url, `$mcp-server/+/${id}`, { qos: 1 });
    await exact.waitFor(1);
    await wildcard.waitFor(1);
    expect(exact.messages[0]!.packet.retain).toBe(true);
    await publisher.publishAsync(`$mcp-server/rpc/${id}`, 'live', { qos: 1 });
    await wildcard.waitFor(2);
    expect(wildcard.topics()).toEqual([`$mcp-server/presence/${id}`, `$mcp-server/rpc/${id}`]);
    expect(exact.payloads()).toEqual(['online']);
  });

  it('`$a2a/v1/...` filters with `+` and `#` receive their messages', async () => {
    const id = unique('agent');
    const { inbox: request } = await subscriber(broker.url, `$a2a/v1/request/+/+/${id}`, { qos: 1 });
    const { inbox: everything } = await subscriber(broker.url, `$a2a/v1/#`, { qos: 1 });
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(`$a2a/v1/request/org/unit/${id}`, 'task', { qos: 1 });
    await publisher.publishAsync(`$a2a/v1/reply/org/unit/${id}/r1`, 'reply', { qos: 1 });
    await request.waitFor(1);
    await everything.waitForMatch((message) => message.topic === `$a2a/v1/reply/org/unit/${id}/r1`);
    expect(request.topics()).toEqual([`$a2a/v1/request/org/unit/${id}`]);
    expect(everything.topics()).toContain(`$a2a/v1/request/org/unit/${id}`);
  });
});
