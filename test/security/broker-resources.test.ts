// Resource exhaustion of the embedded broker (issue 12, defects 6 and 7), as an attacker would try it: a
// subscriber that never reads, a PUBLISH that declares 256 MiB, a packet that never completes, sessions that
// ask to live forever, too many sessions, too many retained messages. Memory ceilings are RSS of a broker in
// a child process (`broker-resources.child.ts`); counts and times are bounded, loopback only.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BROKER_LIMIT_DEFAULTS, startBroker } from '@mqtt-agents/broker';
import type { Broker, BrokerOptions } from '@mqtt-agents/broker';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  RawClient,
  closeAllClients,
  disconnectReason,
  encode,
  rawPacket,
  utf8Field,
  varint,
} from '../../packages/broker/test/helpers.js';
import { embeddedLane, eventually, unique } from './helpers.js';

const MiB = 1024 * 1024;

/** `MQTT_AGENTS_REPORT_RSS=1` prints the measured figures (for the record in the closing note). */
function report(what: string, bytes: number): void {
  if (process.env.MQTT_AGENTS_REPORT_RSS === '1') {
    process.stderr.write(`broker-resources: ${what}: ${(bytes / MiB).toFixed(1)} MiB\n`);
  }
}

// ---- a broker in a child process -------------------------------------------------------------------------

interface ChildBroker {
  readonly url: string;
  readonly logs: Array<{ level: string; message: string }>;
  /** Resident set size of the broker process, in bytes. */
  rss(): number;
  /** Sample RSS every few milliseconds until `stop()`, which returns the highest value seen. */
  sampleRss(): { stop(): number };
  close(): Promise<void>;
}

const children = new Set<ChildProcess>();

async function spawnBroker(options: BrokerOptions = {}): Promise<ChildBroker> {
  const script = fileURLToPath(new URL('./broker-resources.child.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--conditions=@mqtt-agents/source',
      '--import',
      import.meta.resolve('tsx'),
      script,
      JSON.stringify(options),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logs: Array<{ level: string; message: string }> = [];
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker process did not start: ${stderr}`)), 20_000);
    lines.on('line', (line) => {
      const parsed = JSON.parse(line) as { url?: string; level?: string; message?: string };
      if (parsed.url !== undefined) {
        clearTimeout(timer);
        resolve(parsed.url);
      } else {
        logs.push({ level: parsed.level ?? '', message: parsed.message ?? '' });
      }
    });
    void exited.then(() => reject(new Error(`broker process exited at start: ${stderr}`)));
  });
  const pid = child.pid as number;
  const rss = (): number => {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    if (!match) throw new Error('no VmRSS in /proc status');
    return Number(match[1]) * 1024;
  };
  const samplers = new Set<NodeJS.Timeout>();
  return {
    url,
    logs,
    rss,
    sampleRss() {
      let peak = rss();
      const timer = setInterval(() => {
        if (child.exitCode === null) peak = Math.max(peak, rss());
      }, 20);
      samplers.add(timer);
      return {
        stop() {
          clearInterval(timer);
          samplers.delete(timer);
          return Math.max(peak, rss());
        },
      };
    },
    async close() {
      for (const timer of samplers) clearInterval(timer);
      samplers.clear();
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      children.delete(child);
    },
  };
}

// ---- a raw publisher that floods QoS 1 messages with a bounded window of unacknowledged ones -------------

/** Calls `onPacket(firstByte, body)` for every MQTT packet in a byte stream. */
function packetFramer(onPacket: (firstByte: number, body: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 2) return;
      let length = 0;
      let multiplier = 1;
      let offset = 1;
      for (;;) {
        if (offset >= pending.length) return;
        const byte = pending[offset++] as number;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) break;
      }
      if (pending.length < offset + length) return;
      onPacket(pending[0] as number, pending.subarray(offset, offset + length));
      pending = pending.subarray(offset + length);
    }
  };
}

/** Publish `count` QoS 1 messages, at most `window` unacknowledged; resolves with the PUBACK reason codes seen. */
async function floodQos1(
  url: string,
  topic: string,
  payload: Buffer,
  count: number,
  window: number,
): Promise<Map<number, number>> {
  const { hostname, port } = new URL(url);
  const socket: Socket = netConnect({ host: hostname, port: Number(port), noDelay: true });
  socket.on('error', () => {});
  const reasons = new Map<number, number>();
  let acked = 0;
  let connacked = false;
  let wake: (() => void) | undefined;
  socket.on(
    'data',
    packetFramer((firstByte, body) => {
      const type = firstByte >> 4;
      if (type === 2) connacked = true;
      if (type === 4) {
        acked++;
        const reason = body.length > 2 ? (body[2] as number) : 0;
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
      wake?.();
    }),
  );
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const until = async (condition: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 30_000;
    while (!condition()) {
      if (socket.destroyed) throw new Error(`publisher connection closed while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
      wake = undefined;
    }
  };
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(
    encode({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clean: true,
      keepalive: 0,
      clientId: unique('flooder'),
    }),
  );
  await until(() => connacked, 'CONNACK');
  const topicField = utf8Field(topic);
  const remaining = topicField.length + 2 + 1 + payload.length;
  const fixed = Buffer.concat([Buffer.from([0x32]), varint(remaining)]);
  let sent = 0;
  while (sent < count) {
    await until(() => sent - acked < window, `PUBACKs (${acked} of ${sent})`);
    socket.cork();
    const batch = Math.min(count - sent, window - (sent - acked));
    for (let index = 0; index < batch; index++) {
      const packetId = Buffer.alloc(2);
      packetId.writeUInt16BE((sent % 65535) + 1);
      socket.write(Buffer.concat([fixed, topicField, packetId, Buffer.from([0])]));
      socket.write(payload);
      sent++;
    }
    socket.uncork();
  }
  await until(() => acked === count, `the last PUBACKs (${acked} of ${count})`);
  socket.end();
  await closed;
  return reasons;
}

// ---- the attacks -----------------------------------------------------------------------------------------

describe.skipIf(!embeddedLane)('broker resources (defects 6 and 7)', () => {
  const brokers: Array<ChildBroker | Broker> = [];
  afterEach(async () => {
    await closeAllClients();
    await Promise.allSettled(brokers.splice(0).map((broker) => broker.close()));
  });
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it('broker RSS grows < 64 MiB for 50,000 × 8 KB QoS 1 to a subscriber that never reads, and says so once', async () => {
    const broker = await spawnBroker();
    brokers.push(broker);
    const topic = `resources/${unique('flood')}`;
    const readerId = unique('never-reads');
    const { client: reader } = await RawClient.connect(broker.url, { clientId: readerId });
    await reader.subscribe({ topic, qos: 1 });
    reader.socket.pause(); // from now on the subscriber reads nothing: the kernel buffers fill, then the broker's
    // The same flood to a topic nobody reads first: the broker's heap grows to what this traffic needs
    // anyway, so that the ceiling measures what the stuck subscriber costs.
    const payload = Buffer.alloc(8 * 1024, 0x61);
    await floodQos1(broker.url, `resources/${unique('warm-up')}`, payload, 30_000, 2_000);
    const before = broker.rss();
    const sampler = broker.sampleRss();
    const reasons = await floodQos1(broker.url, topic, payload, 50_000, 2_000);
    const peak = sampler.stop();
    report('RSS growth, 50,000 x 8 KB QoS 1 to a non-reader', peak - before);
    expect(peak - before).toBeLessThan(64 * MiB);
    // The publisher was served throughout: every message acknowledged as delivered to a subscriber.
    expect(reasons.get(0)).toBe(50_000);
    // One warning for the stuck session, however many messages were dropped.
    const warnings = broker.logs.filter((line) => line.level === 'warn' && line.message.includes(readerId));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/dropping messages/);
  });

  it('refuses a 256 MiB PUBLISH at its fixed header: three attackers sending 100 MiB each are cut off, RSS bounded', async () => {
    const broker = await spawnBroker();
    brokers.push(broker);
    const before = broker.rss();
    const sampler = broker.sampleRss();
    const attack = async (): Promise<{
      sent: number;
      maximumPacketSize: number | undefined;
      reason: number | string | undefined;
    }> => {
      const { client, connack } = await RawClient.connect(broker.url, { keepalive: 0 });
      const header = Buffer.concat([Buffer.from([0x30]), varint(268_435_455), utf8Field('resources/huge')]);
      const chunk = Buffer.alloc(64 * 1024, 0x62);
      let sent = 0;
      client.write(header);
      // Send up to 100 MiB, respecting backpressure, until the broker hangs up.
      while (sent < 100 * MiB && !client.isClosed && !client.socket.destroyed) {
        if (!client.socket.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              client.socket.off('drain', done);
              client.socket.off('close', done);
              resolve();
            };
            client.socket.once('drain', done);
            client.socket.once('close', done);
          });
        }
        sent += chunk.length;
      }
      const reason = await disconnectReason(client, 5_000).catch(() => 'still connected');
      return { sent, maximumPacketSize: connack.properties?.maximumPacketSize, reason };
    };
    const results = await Promise.all([attack(), attack(), attack()]);
    const peak = sampler.stop();
    report('RSS growth, three 100 MiB-of-256 MiB PUBLISH attacks', peak - before);
    for (const result of results) {
      expect(result.maximumPacketSize).toBe(BROKER_LIMIT_DEFAULTS.maximumPacketSize);
      expect(result.reason).toBe(0x95);
      expect(result.sent).toBeLessThan(100 * MiB);
    }
    expect(peak - before).toBeLessThan(32 * MiB);
  });

  it('disconnects a client that stalls mid-packet, even with keep alive 0 and bytes trickling in', async () => {
    const broker = await startBroker({ packetReadTimeout: 300 });
    brokers.push(broker);
    // Half a PUBLISH, then nothing.
    const { client: stalled } = await RawClient.connect(broker.url, { keepalive: 0 });
    stalled.write(Buffer.concat([Buffer.from([0x30]), varint(1000), utf8Field('resources/slow')]));
    // A byte every 50 ms: the connection is never idle, the packet never completes.
    const { client: trickler } = await RawClient.connect(broker.url, { keepalive: 0 });
    trickler.write(Buffer.concat([Buffer.from([0x30]), varint(1000)]));
    const trickle = setInterval(() => {
      if (!trickler.socket.destroyed) trickler.write(Buffer.from([0x63]));
    }, 50);
    // Half a CONNECT before anything else.
    const connecting = await RawClient.open(broker.url);
    connecting.write(
      encode({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 5,
        clean: true,
        keepalive: 0,
        clientId: unique('half'),
      }).subarray(0, 8),
    );
    try {
      expect(await disconnectReason(stalled, 5_000)).toBe(0x8d);
      expect(await disconnectReason(trickler, 5_000)).toBe(0x8d);
      await connecting.waitClosed(5_000);
    } finally {
      clearInterval(trickle);
    }
    // Whole packets with long pauses between them are fine: only an incomplete packet is timed.
    const { client: idle } = await RawClient.connect(broker.url, { keepalive: 0 });
    const topic = `resources/${unique('idle')}`;
    await idle.subscribe({ topic, qos: 1 });
    const ping = rawPacket(0xc0, Buffer.alloc(0));
    for (let round = 0; round < 3; round++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      idle.write(ping);
      await idle.next('pingresp');
    }
    expect(idle.isClosed).toBe(false);
  });

  it('caps the session expiry of a few hundred sessions asking for 0xFFFFFFFF, and reaps them', async () => {
    const broker = await startBroker();
    brokers.push(broker);
    const ask = { sessionExpiryInterval: 0xffffffff };
    const clients: RawClient[] = [];
    for (let batch = 0; batch < 6; batch++) {
      const connected = await Promise.all(
        Array.from({ length: 50 }, () => RawClient.connect(broker.url, { clean: true, properties: ask })),
      );
      for (const { client, connack } of connected) {
        expect(connack.reasonCode).toBe(0);
        expect(connack.properties?.sessionExpiryInterval).toBe(
          BROKER_LIMIT_DEFAULTS.maximumSessionExpiryInterval,
        );
        clients.push(client);
      }
    }
    await Promise.all(clients.map((client) => client.disconnect(0)));
    expect(broker.sessionCount).toBe(300);

    // With a short cap the offline sessions are reaped when it runs out.
    const short = await startBroker({ maximumSessionExpiryInterval: 1 });
    brokers.push(short);
    const connected = await Promise.all(
      Array.from({ length: 300 }, () => RawClient.connect(short.url, { clean: true, properties: ask })),
    );
    for (const { connack } of connected) expect(connack.properties?.sessionExpiryInterval).toBe(1);
    await Promise.all(connected.map(({ client }) => client.disconnect(0)));
    expect(short.sessionCount).toBe(300);
    await eventually(() => short.sessionCount === 0, 'the expired sessions to be reaped', 10_000);
  });

  it('refuses a new session past maximumSessions with CONNACK 0x97 (3 for MQTT 3.1.1); existing ones resume', async () => {
    const broker = await startBroker({ maximumSessions: 40 });
    brokers.push(broker);
    const properties = { sessionExpiryInterval: 600 };
    const ids = Array.from({ length: 40 }, () => unique('held'));
    const held = await Promise.all(
      ids.map((clientId) => RawClient.connect(broker.url, { clientId, properties })),
    );
    for (const { connack } of held) expect(connack.reasonCode).toBe(0);
    await Promise.all(held.map(({ client }) => client.disconnect(0)));
    expect(broker.sessionCount).toBe(40);

    const refused = await RawClient.connect(broker.url, { clientId: unique('one-too-many'), properties });
    expect(refused.connack.reasonCode).toBe(0x97);
    await refused.client.waitClosed();
    const legacy = await RawClient.connect(broker.url, { protocolVersion: 4, clientId: unique('legacy') });
    expect(legacy.connack.returnCode).toBe(3);
    expect(broker.sessionCount).toBe(40);

    // An existing session is resumed (and can be taken over) at the limit.
    const resumed = await RawClient.connect(broker.url, { clientId: ids[0], clean: false, properties });
    expect(resumed.connack.reasonCode).toBe(0);
    expect(resumed.connack.sessionPresent).toBe(true);
    // Ending a session makes room for a new one.
    await resumed.client.disconnect(0, { sessionExpiryInterval: 0 });
    await eventually(() => broker.sessionCount === 39, 'the ended session to go');
    const admitted = await RawClient.connect(broker.url, { clientId: unique('admitted'), properties });
    expect(admitted.connack.reasonCode).toBe(0);
  });

  it('refuses a retained message past the retained limits with PUBACK 0x97 and keeps the old one', async () => {
    const broker = await startBroker({ maximumRetainedMessages: 3, maximumRetainedBytes: 8 * 1024 });
    brokers.push(broker);
    const base = `resources/${unique('retained')}`;
    const { client } = await RawClient.connect(broker.url);
    const { client: watcher } = await RawClient.connect(broker.url);
    await watcher.subscribe({ topic: `${base}/#`, qos: 1 });
    const retain = async (topic: string, payload: Buffer | string): Promise<number | undefined> => {
      const ack = await client.publish({ topic, payload, qos: 1, retain: true });
      return ack?.reasonCode ?? 0;
    };
    for (const name of ['a', 'b', 'c']) expect(await retain(`${base}/${name}`, `first ${name}`)).toBe(0);
    await watcher.nextN('publish', 3);
    // One topic more than allowed: refused, not stored, not routed.
    expect(await retain(`${base}/d`, 'one too many')).toBe(0x97);
    expect(broker.getRetained(`${base}/d`)).toBeUndefined();
    // Replacing a retained message is not a new one; clearing one makes room.
    expect(await retain(`${base}/a`, 'second a')).toBe(0);
    // Too many bytes: refused, and the topic keeps the message it had.
    expect(await retain(`${base}/b`, Buffer.alloc(16 * 1024, 0x64))).toBe(0x97);
    expect(broker.getRetained(`${base}/b`)?.payload.toString()).toBe('first b');
    expect(await retain(`${base}/c`, '')).toBe(0);
    expect(await retain(`${base}/d`, 'now there is room')).toBe(0);
    expect(broker.retainedCount).toBe(3);
    const routed = await watcher.nextN('publish', 3);
    expect(routed.map((publish) => publish.payload.toString())).toEqual([
      'second a',
      '',
      'now there is room',
    ]);
    expect(await watcher.quiet('publish')).toEqual([]);
  });
});
