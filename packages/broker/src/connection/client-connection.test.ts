import { Duplex } from 'node:stream';
import fc from 'fast-check';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttBroker } from '../broker.js';

/** Feed bytes to the broker through handle() and collect what it answers, until it closes or goes quiet. */
async function exchange(broker: MqttBroker, chunks: Buffer[]): Promise<{ closed: boolean; bytes: number }> {
  let closed = false;
  let bytes = 0;
  const peer = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
    final(callback) {
      closed = true;
      callback();
    },
    destroy(error, callback) {
      closed = true;
      callback(error);
    },
  });
  const server = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      peer.write(chunk);
      callback();
    },
    final(callback) {
      peer.end();
      callback();
    },
    destroy(error, callback) {
      closed = true;
      callback(error);
    },
  });
  broker.handle(server);
  for (const chunk of chunks) {
    if (closed) break;
    server.push(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setImmediate(resolve));
  const result = { closed, bytes };
  server.push(null);
  server.destroy();
  return result;
}

const connect = mqttPacket.generate(
  { cmd: 'connect', clientId: 'fuzz', protocolVersion: 5, clean: true, keepalive: 0 },
  { protocolVersion: 5 },
);

const validPackets: Packet[] = [
  { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/+', qos: 1, nl: false, rap: true, rh: 0 }] },
  { cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos: 1, messageId: 2, retain: true, dup: false },
  {
    cmd: 'publish',
    topic: 'a/c',
    payload: Buffer.from('y'),
    qos: 2,
    messageId: 3,
    retain: false,
    dup: false,
    properties: { topicAlias: 1, userProperties: { k: 'v' }, messageExpiryInterval: 5 },
  },
  { cmd: 'pubrel', messageId: 3 },
  { cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['a/+'] },
  { cmd: 'pingreq' },
  { cmd: 'puback', messageId: 1 },
];
const validBytes = validPackets.map((packet) => mqttPacket.generate(packet, { protocolVersion: 5 }));

describe('fuzz: malformed input only ever ends that connection', () => {
  it('survives random bytes before and after CONNECT', async () => {
    const broker = new MqttBroker({ connectTimeout: 1000 });
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 6 }),
        async (withConnect, chunks) => {
          const input = chunks.map((chunk) => Buffer.from(chunk));
          await exchange(broker, withConnect ? [connect, ...input] : input);
        },
      ),
      { numRuns: 400 },
    );
    await broker.close();
  });

  it('survives valid packets with mutated bytes', async () => {
    const broker = new MqttBroker({ connectTimeout: 1000 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: validBytes.length - 1 }),
            fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
          ),
          { minLength: 1, maxLength: 8 },
        ),
        async (recipe) => {
          const chunks = recipe.map(([index, mutations]) => {
            const bytes = Buffer.from(validBytes[index] as Buffer);
            for (const [position, value] of mutations) bytes[position % bytes.length] = value;
            return bytes;
          });
          await exchange(broker, [connect, ...chunks]);
        },
      ),
      { numRuns: 400 },
    );
    // The broker still serves a well-behaved client.
    const { closed, bytes } = await exchange(broker, [connect, mqttPacket.generate({ cmd: 'pingreq' })]);
    expect(closed).toBe(false);
    expect(bytes).toBeGreaterThan(2);
    await broker.close();
  });
});
