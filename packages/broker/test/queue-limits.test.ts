// The embedded broker's per-session byte limit: what it drops, what it keeps, what it logs, and that its
// accounting returns to zero whatever way a message leaves a session (a leak would block a session forever).
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttBroker } from '../src/broker.js';
import { startBroker, type Broker, type BrokerLogger } from '../src/index.js';
import { closeAllClients, connectClient, embedded, RawClient, unique } from './helpers.js';

function recordingLogger(): BrokerLogger & { lines: Array<{ level: string; message: string }> } {
  const lines: Array<{ level: string; message: string }> = [];
  const record = (level: string) => (message: string) => void lines.push({ level, message });
  return { lines, debug: () => {}, info: record('info'), warn: record('warn'), error: record('error') };
}

const queuedBytes = (broker: Broker): number => (broker as unknown as MqttBroker).queuedBytes;
const LIMIT = 16 * 1024;

/** Wait until the broker's accounting (which has no event) reaches zero, failing after 5 s. */
async function drained(broker: Broker): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (queuedBytes(broker) !== 0) {
    if (Date.now() > deadline) throw new Error(`still ${queuedBytes(broker)} queued bytes`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.skipIf(!embedded)('session byte limits (embedded broker)', () => {
  const brokers: Broker[] = [];
  afterEach(async () => {
    await closeAllClients();
    await Promise.all(brokers.splice(0).map((broker) => broker.close()));
  });

  async function limitedBroker(logger?: BrokerLogger): Promise<Broker> {
    const broker = await startBroker({ maximumQueuedBytes: LIMIT, ...(logger ? { logger } : {}) });
    brokers.push(broker);
    return broker;
  }

  it('keeps the oldest messages of an offline session up to the limit, drops the newest, and says so once', async () => {
    const logger = recordingLogger();
    const broker = await limitedBroker(logger);
    const clientId = unique('offline');
    const topic = `limits/${unique('t')}`;
    const properties = { sessionExpiryInterval: 60 };
    const { client: first } = await RawClient.connect(broker.url, { clientId, properties });
    await first.subscribe({ topic, qos: 1 });
    await first.disconnect(0);
    const publisher = await connectClient(broker.url);
    for (let index = 0; index < 40; index++) {
      await publisher.publishAsync(topic, Buffer.alloc(1000, 0x61 + (index % 26)), { qos: 1 });
    }
    // About 1,150 bytes each: 14 fit in 16 KiB.
    const kept = Math.floor(LIMIT / (1000 + topic.length + 128));
    expect(queuedBytes(broker)).toBeLessThanOrEqual(LIMIT);
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain(clientId);

    const { client: again } = await RawClient.connect(broker.url, { clientId, clean: false, properties });
    const delivered = await again.nextN('publish', kept);
    expect(delivered.map((publish) => publish.payload[0])).toEqual(
      Array.from({ length: kept }, (_, index) => 0x61 + (index % 26)),
    );
    for (const publish of delivered) await again.ack(publish);
    expect(await again.quiet('publish')).toEqual([]);
    await drained(broker);
    const recovered = logger.lines.filter(
      (line) => line.level === 'info' && line.message.includes('room again'),
    );
    expect(recovered).toHaveLength(1);
    expect(recovered[0]?.message).toContain(`after ${40 - kept} dropped`);
  });

  it('always takes one message into an empty session, even one larger than the limit', async () => {
    const broker = await limitedBroker();
    const topic = `limits/${unique('t')}`;
    const { client } = await RawClient.connect(broker.url);
    await client.subscribe({ topic, qos: 1 });
    const publisher = await connectClient(broker.url);
    await publisher.publishAsync(topic, Buffer.alloc(2 * LIMIT), { qos: 1 });
    const publish = await client.next('publish');
    expect(publish.payload.length).toBe(2 * LIMIT);
    await client.ack(publish);
    await drained(broker);
  });

  it('counts nothing once messages are acknowledged (QoS 1, QoS 2, refused), expired or the session ended', async () => {
    const broker = await limitedBroker();
    const topic = `limits/${unique('t')}`;
    const publisher = await connectClient(broker.url);

    // QoS 1 and 2 to a connected subscriber that acknowledges; one QoS 2 refused with PUBREC 0x80.
    const { client: reader } = await RawClient.connect(broker.url);
    await reader.subscribe({ topic, qos: 2 });
    await publisher.publishAsync(topic, 'one', { qos: 1 });
    await publisher.publishAsync(topic, 'two', { qos: 2 });
    await publisher.publishAsync(topic, 'three', { qos: 2 });
    const [one, two, three] = await reader.nextN('publish', 3);
    await reader.ack(one!);
    await reader.ack(two!);
    reader.send({ cmd: 'pubrec', messageId: three!.messageId, reasonCode: 0x80 });
    await reader.disconnect(0);

    // Messages that expire while queued for an offline session.
    const clientId = unique('expiring');
    const properties = { sessionExpiryInterval: 60 };
    const { client: offline } = await RawClient.connect(broker.url, { clientId, properties });
    await offline.subscribe({ topic, qos: 1 });
    await offline.disconnect(0);
    await publisher.publishAsync(topic, 'short-lived', { qos: 1, properties: { messageExpiryInterval: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { client: back } = await RawClient.connect(broker.url, { clientId, clean: false, properties });
    expect(await back.quiet('publish')).toEqual([]);

    // Messages queued for a session that then ends (clean start).
    await back.disconnect(0);
    await publisher.publishAsync(topic, 'never read', { qos: 1 });
    expect(queuedBytes(broker)).toBeGreaterThan(0);
    const { client: fresh } = await RawClient.connect(broker.url, { clientId, clean: true });
    await fresh.disconnect(0);
    await drained(broker);
  });
});
