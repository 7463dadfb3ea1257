import { connect as netConnect } from 'node:net';
import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import type { Packet } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import {
  assertBrokerServes,
  closeAllClients,
  connectClient,
  delay,
  embedded,
  encode,
  Inbox,
  unique,
} from './helpers.js';

/** How long the broker is under attack. */
const FUZZ_MILLISECONDS = 5_000;
/** How long one attacking connection may live before it is cut. */
const ATTACK_MILLISECONDS = 25;

let broker: TestBroker;
const failures: unknown[] = [];
const recordFailure = (error: unknown): void => {
  failures.push(error);
};

beforeAll(async () => {
  broker = await startTestBroker();
  process.on('unhandledRejection', recordFailure);
  process.on('uncaughtException', recordFailure);
});

afterAll(async () => {
  process.off('unhandledRejection', recordFailure);
  process.off('uncaughtException', recordFailure);
  await closeAllClients();
  await broker?.close();
});

// --- Inputs ------------------------------------------------------------------------------------------------

// Mostly well-formed values, so that packets get past the parser into the broker's deeper paths; some odd ones
// (any code point, wildcards, empty, `$share` as a topic name) to reach its error paths.
const oddText = fc.string({ unit: 'binary', maxLength: 24 });
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 1, arbitrary: oddText },
);
const topicName = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom('a/b', 'fuzz/x', 'fuzz/y/z', '$a2a/v1/request/o/u/a', '$mcp-server/s'),
  },
  { weight: 1, arbitrary: fc.constantFrom('a/+', '#', '', '/', '$share/g/a') },
  { weight: 1, arbitrary: text },
);
const topicFilter = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a/b', 'fuzz/#', '+/x', '#', '$share/g/fuzz/x', '$a2a/v1/#') },
  { weight: 1, arbitrary: topicName },
);
const qos = fc.constantFrom<0 | 1 | 2>(0, 1, 2);
const packetId = fc.integer({ min: 0, max: 65535 });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((array) => Buffer.from(array));
const userProperties = fc.dictionary(text, fc.oneof(text, fc.array(text, { maxLength: 3 })), { maxKeys: 3 });
/** Often no properties at all; otherwise some of `fields`. */
const sometimes = <T>(fields: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fields });

const connectPacket: fc.Arbitrary<Packet> = fc.record({
  cmd: fc.constant('connect' as const),
  protocolId: fc.constant('MQTT' as const),
  protocolVersion: fc.constantFrom<4 | 5>(5, 5, 5, 4),
  clean: fc.boolean(),
  keepalive: fc.integer({ min: 0, max: 65535 }),
  clientId: fc.oneof(
    fc.constant(''),
    text.map((id) => `fuzz-${id}`),
  ),
  properties: sometimes(
    fc.record(
      {
        sessionExpiryInterval: fc.integer({ min: 0, max: 600 }),
        receiveMaximum: fc.integer({ min: 1, max: 65535 }),
        maximumPacketSize: fc.integer({ min: 64, max: 1 << 20 }),
        topicAliasMaximum: fc.integer({ min: 0, max: 65535 }),
        userProperties,
      },
      { requiredKeys: [] },
    ),
  ),
});

const followUpPacket: fc.Arbitrary<Packet> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      cmd: fc.constant('publish' as const),
      topic: topicName,
      payload: bytes(64),
      qos,
      dup: fc.boolean(),
      retain: fc.boolean(),
      messageId: fc.integer({ min: 1, max: 65535 }),
      properties: sometimes(
        fc.record(
          {
            payloadFormatIndicator: fc.boolean(),
            messageExpiryInterval: fc.integer({ min: 0, max: 120 }),
            topicAlias: fc.integer({ min: 1, max: 12 }),
            responseTopic: topicName,
            correlationData: bytes(16),
            contentType: text,
            userProperties,
          },
          { requiredKeys: [] },
        ),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      cmd: fc.constant('subscribe' as const),
      messageId: packetId,
      subscriptions: fc.array(
        fc.record({
          topic: topicFilter,
          qos,
          nl: fc.boolean(),
          rap: fc.boolean(),
          rh: fc.integer({ min: 0, max: 2 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      properties: sometimes(fc.record({ subscriptionIdentifier: fc.integer({ min: 1, max: 1000 }) })),
    }),
  },
  fc.record({
    cmd: fc.constant('unsubscribe' as const),
    messageId: packetId,
    unsubscriptions: fc.array(topicFilter, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    cmd: fc.constantFrom('puback' as const, 'pubrec' as const, 'pubrel' as const, 'pubcomp' as const),
    messageId: packetId,
  }),
  fc.record({ cmd: fc.constant('pingreq' as const) }),
  fc.record({ cmd: fc.constant('disconnect' as const), reasonCode: fc.constantFrom(0, 4, 0x80) }),
);

/** Encode, or undefined when mqtt-packet refuses the combination (the fuzzer then sends other bytes). */
function tryEncode(packet: Packet): Buffer | undefined {
  // A copy: fast-check values must not be changed (it replays them while shrinking).
  const copy = { ...packet } as Packet & { properties?: unknown };
  if (copy.properties === undefined) delete copy.properties;
  try {
    return encode(copy, 'protocolVersion' in packet && packet.protocolVersion === 4 ? 4 : 5);
  } catch {
    return undefined;
  }
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; extra: Buffer }
  | { kind: 'repeat'; from: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), extra: bytes(8) }),
  fc.record({
    kind: fc.constant('repeat' as const),
    from: fc.nat(),
    length: fc.integer({ min: 1, max: 16 }),
  }),
);

function mutate(input: Buffer, mutations: Mutation[]): Buffer {
  let output = Buffer.from(input);
  for (const change of mutations) {
    if (output.length === 0) break;
    switch (change.kind) {
      case 'flip': {
        const at = change.at % output.length;
        output[at] = output[at]! ^ (1 << change.bit);
        break;
      }
      case 'set':
        output[change.at % output.length] = change.value;
        break;
      case 'truncate':
        output = output.subarray(0, change.at % output.length);
        break;
      case 'insert': {
        const at = change.at % (output.length + 1);
        output = Buffer.concat([output.subarray(0, at), change.extra, output.subarray(at)]);
        break;
      }
      case 'repeat': {
        const from = change.from % output.length;
        output = Buffer.concat([output, output.subarray(from, from + change.length)]);
        break;
      }
    }
  }
  return output;
}

/** What one attacking connection sends, as chunks (split points matter to a stream parser). */
const attack: fc.Arbitrary<Buffer[]> = fc.oneof(
  // Noise instead of CONNECT.
  bytes(256).map((noise) => [noise]),
  // A mutated CONNECT.
  fc.tuple(connectPacket, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([packet, changes]) => {
    const encoded = tryEncode(packet);
    return encoded ? [mutate(encoded, changes)] : [];
  }),
  // A valid CONNECT, then valid packets with odd contents, some of them mutated, in random chunks.
  fc
    .tuple(
      connectPacket,
      fc.array(fc.tuple(followUpPacket, fc.array(mutation, { maxLength: 2 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.array(fc.nat(), { maxLength: 3 }),
    )
    .map(([connect, rest, splits]) => {
      const head = tryEncode(connect);
      const tail = rest.map(([packet, changes]) => {
        const encoded = tryEncode(packet);
        return encoded ? mutate(encoded, changes) : Buffer.alloc(0);
      });
      const stream = Buffer.concat([head ?? Buffer.alloc(0), ...tail]);
      const cuts = [...new Set(splits.map((split) => split % (stream.length + 1)))].sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let start = 0;
      for (const cut of [...cuts, stream.length]) {
        chunks.push(stream.subarray(start, cut));
        start = cut;
      }
      return chunks;
    }),
  // A valid CONNECT, then noise.
  fc
    .tuple(connectPacket, bytes(128))
    .map(([connect, noise]) => [tryEncode(connect) ?? Buffer.alloc(0), noise]),
);

/** Open a connection, send the chunks, and cut it after ATTACK_MILLISECONDS (or when the broker does). */
async function runAttack(port: number, chunks: Buffer[]): Promise<void> {
  await new Promise<void>((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port, noDelay: true });
    const timer = setTimeout(() => socket.destroy(), ATTACK_MILLISECONDS);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('connect', () => {
      for (const chunk of chunks) if (chunk.length > 0 && !socket.destroyed) socket.write(chunk);
    });
  });
}

// --- The test ----------------------------------------------------------------------------------------------

describe.concurrent('fuzz', () => {
  it(
    'survives random bytes and mutated packets, and a well-behaved client keeps getting its messages',
    async () => {
      const port = Number(new URL(broker.url).port);
      const topic = `fuzz/steady/${unique('t')}`;
      const receiver = await connectClient(broker.url);
      const inbox = new Inbox(receiver, (received) => received === topic);
      await receiver.subscribeAsync(topic, { qos: 1 });
      const sender: MqttClient = await connectClient(broker.url);

      // Steady QoS 1 traffic between the well-behaved pair for the whole run.
      const sent: string[] = [];
      let steady = true;
      const traffic = (async () => {
        while (steady) {
          const payload = `steady-${sent.length}`;
          sent.push(payload);
          await sender.publishAsync(topic, payload, { qos: 1 });
          await delay(20);
        }
      })();

      let attacks = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(attack, { minLength: 1, maxLength: 8 }), async (batch) => {
          attacks += batch.length;
          await Promise.all(batch.map((chunks) => runAttack(port, chunks)));
          return failures.length === 0 && receiver.connected && sender.connected;
        }),
        {
          numRuns: Number.MAX_SAFE_INTEGER,
          interruptAfterTimeLimit: FUZZ_MILLISECONDS,
          markInterruptAsFailure: false,
          endOnFailure: true,
        },
      );

      steady = false;
      await traffic;
      await inbox.waitFor(sent.length);
      expect(failures).toEqual([]);
      expect(inbox.payloads()).toEqual(sent);
      expect(attacks).toBeGreaterThan(100);
      expect(receiver.connected && sender.connected).toBe(true);
      await assertBrokerServes(broker.url);

      if (embedded) {
        // Every attacking connection is gone: only the well-behaved pair is left.
        const deadline = Date.now() + 2_000;
        while (broker.broker!.clientCount > 2 && Date.now() < deadline) await delay(20);
        expect(broker.broker!.clientCount).toBe(2);
      }
    },
    FUZZ_MILLISECONDS + 15_000,
  );
});
