// Embedded only: `broker.handle(duplex)` is the embedded broker's API for connections it did not accept itself.
import { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqttPacket, { type IConnackPacket, type Packet } from 'mqtt-packet';
import type { ClientInfo } from '../src/index.js';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import { closeAllClients, connectClient, embedded, encode, Inbox, subscriber, unique } from './helpers.js';

let broker: TestBroker;

/** Two in-memory duplex streams wired to each other (Node 20 has no `stream.duplexPair`). */
function duplexPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        peer().push(chunk);
        callback();
      },
      final(callback) {
        peer().push(null);
        callback();
      },
      destroy(error, callback) {
        const other = peer();
        if (!other.destroyed) other.destroy();
        callback(error);
      },
    });
  const left: Duplex = make(() => right);
  const right: Duplex = make(() => left);
  return [left, right];
}

/** Hand one end of a pair to the broker and return the other. */
function handOver(): Duplex {
  const [clientSide, brokerSide] = duplexPair();
  broker.broker!.handle(brokerSide);
  return clientSide;
}

describe.skipIf(!embedded)(
  'broker.handle() over an in-memory duplex (embedded only)',
  { concurrent: true },
  () => {
    beforeAll(async () => {
      broker = await startTestBroker();
    });

    afterAll(async () => {
      await closeAllClients();
      await broker?.close();
    });

    it('serves an MQTT.js client over the stream, routing to and from TCP clients', async () => {
      const topic = `handle/${unique('t')}`;
      const inMemory = await connectClient(() => handOver());
      const memoryInbox = new Inbox(inMemory);
      await inMemory.subscribeAsync(`${topic}/in`, { qos: 2 });
      const { client: tcp, inbox: tcpInbox } = await subscriber(broker.url, `${topic}/out`, { qos: 1 });
      await tcp.publishAsync(`${topic}/in`, 'to memory', { qos: 2 });
      await inMemory.publishAsync(`${topic}/out`, 'to tcp', { qos: 1 });
      expect((await memoryInbox.waitFor(1))[0]!.payload.toString()).toBe('to memory');
      expect((await tcpInbox.waitFor(1))[0]!.payload.toString()).toBe('to tcp');
    });

    it('speaks the same wire protocol: raw CONNECT gets a CONNACK with the broker properties', async () => {
      const stream = handOver();
      const parser = mqttPacket.parser({ protocolVersion: 5 });
      const connack = new Promise<IConnackPacket>((resolve) => {
        parser.on('packet', (packet: Packet) => {
          if (packet.cmd === 'connack') resolve(packet);
        });
      });
      stream.on('data', (chunk: Buffer) => parser.parse(chunk));
      stream.write(
        encode({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 5,
          clean: true,
          keepalive: 0,
          clientId: '',
        }),
      );
      const { reasonCode, properties } = await connack;
      expect(reasonCode).toBe(0);
      expect(properties?.assignedClientIdentifier).toEqual(expect.any(String));
      expect(properties?.sharedSubscriptionAvailable).toBe(true);
      stream.destroy();
    });

    it('reports the connection with transport "stream"', async () => {
      const clientId = unique('stream-client');
      const connected = new Promise<ClientInfo>((resolve) => {
        const listener = (client: ClientInfo): void => {
          if (client.id !== clientId) return;
          broker.broker!.off('client-connect', listener);
          resolve(client);
        };
        broker.broker!.on('client-connect', listener);
      });
      await connectClient(() => handOver(), { clientId });
      expect((await connected).transport).toBe('stream');
    });

    it('publishes the will when the stream is destroyed', async () => {
      const topic = `handle/will/${unique('t')}`;
      const { inbox } = await subscriber(broker.url, topic, { qos: 1 });
      let stream: Duplex | undefined;
      await connectClient(() => (stream = handOver()), {
        will: { topic, payload: Buffer.from('stream gone'), qos: 1, retain: false },
      });
      stream!.destroy();
      const [will] = await inbox.waitFor(1);
      expect(will!.payload.toString()).toBe('stream gone');
    });

    it('counts the stream client among the connected clients until it disconnects', async () => {
      const clientId = unique('counted');
      const client = await connectClient(() => handOver(), { clientId });
      expect(broker.broker!.clientIds).toContain(clientId);
      await client.endAsync();
      // The broker learns about the end through the stream; wait for its event rather than sleeping.
      if (broker.broker!.clientIds.includes(clientId)) {
        await new Promise<void>((resolve) => {
          const listener = (info: ClientInfo): void => {
            if (info.id !== clientId) return;
            broker.broker!.off('client-disconnect', listener);
            resolve();
          };
          broker.broker!.on('client-disconnect', listener);
        });
      }
      expect(broker.broker!.clientIds).not.toContain(clientId);
    });
  },
);
