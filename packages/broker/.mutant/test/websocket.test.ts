// Embedded only: MQTT over WebSocket is a listener of the embedded broker (the Mosquitto lane runs a TCP-only
// Mosquitto).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqttPacket, { type Packet } from 'mqtt-packet';
import WebSocket, { createWebSocketStream } from 'ws';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import {
  closeAllClients,
  connectClient,
  delay,
  embedded,
  encode,
  Inbox,
  subscriber,
  unique,
} from './helpers.js';

let broker: TestBroker;
let wsUrl: string;

/** A raw WebSocket that collects the MQTT packets the broker sends. */
async function openWebSocket(url: string, protocols: string[] = ['mqtt']) {
  const socket = new WebSocket(url, protocols);
  const packets: Packet[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  parser.on('packet', (packet: Packet) => packets.push(packet));
  socket.on('message', (data: Buffer) => parser.parse(data));
  const closed = new Promise<number>((resolve) => socket.once('close', (code: number) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const next = async (cmd: Packet['cmd']): Promise<Packet> => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const index = packets.findIndex((packet) => packet.cmd === cmd);
      if (index >= 0) return packets.splice(index, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no ${cmd} over WebSocket`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return { socket, next, closed };
}

const connectPacket = (clientId: string, will?: { topic: string; payload: Buffer }): Buffer =>
  encode({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 5,
    clean: true,
    keepalive: 0,
    clientId,
    ...(will ? { will: { ...will, qos: 1, retain: false } } : {}),
  });

describe.skipIf(!embedded)('MQTT over WebSocket (embedded only)', { concurrent: true }, () => {
  beforeAll(async () => {
    broker = await startTestBroker({ embedded: { ws: { port: 0 } } });
    wsUrl = broker.broker!.wsUrl!;
  });

  afterAll(async () => {
    await closeAllClients();
    await broker?.close();
  });

  it('listens on a ws:// URL with the /mqtt path', () => {
    expect(wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/);
  });

  it('carries MQTT 5 both ways between a WebSocket client and a TCP client', async () => {
    const topic = `ws/${unique('t')}`;
    // MQTT.js's own ws:// transport breaks under this vitest config (its `require('ws')` resolves to the ESM
    // wrapper, which lacks `createWebSocketStream`), so it gets the WebSocket stream built here.
    const wsClient = await connectClient(() => createWebSocketStream(new WebSocket(wsUrl, ['mqtt'])));
    const wsInbox = new Inbox(wsClient);
    await wsClient.subscribeAsync(`${topic}/to-ws`, { qos: 1 });
    const { client: tcpClient, inbox: tcpInbox } = await subscriber(broker.url, `${topic}/to-tcp`, {
      qos: 1,
    });
    await tcpClient.publishAsync(`${topic}/to-ws`, 'hello ws', {
      qos: 1,
      properties: { userProperties: { via: 'tcp' } },
    });
    await wsClient.publishAsync(`${topic}/to-tcp`, 'hello tcp', { qos: 2 });
    const [toWs] = await wsInbox.waitFor(1);
    const [toTcp] = await tcpInbox.waitFor(1);
    expect(toWs!.payload.toString()).toBe('hello ws');
    expect(toWs!.packet.properties?.userProperties).toEqual({ via: 'tcp' });
    expect(toTcp!.payload.toString()).toBe('hello tcp');
  });

  it('selects the mqtt WebSocket subprotocol', async () => {
    const { socket } = await openWebSocket(wsUrl, ['mqtt']);
    expect(socket.protocol).toBe('mqtt');
    socket.terminate();
  });

  it('refuses an upgrade on another path', async () => {
    const url = wsUrl.replace(/\/mqtt$/, '/elsewhere');
    await expect(openWebSocket(url)).rejects.toThrow();
  });

  it('handles a packet split across frames and several packets in one frame', async () => {
    const { socket, next } = await openWebSocket(wsUrl);
    const connect = connectPacket(unique('ws-raw'));
    socket.send(connect.subarray(0, 5));
    socket.send(connect.subarray(5));
    const connack = await next('connack');
    expect((connack as { reasonCode?: number }).reasonCode).toBe(0);
    const topic = `ws/${unique('t')}`;
    socket.send(
      Buffer.concat([
        encode({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] }),
        encode({ cmd: 'pingreq' }),
      ]),
    );
    await next('suback');
    await next('pingresp');
    socket.terminate();
  });

  it('closes the connection on a text frame (MQTT needs binary frames)', async () => {
    const topic = `ws/text/${unique('t')}`;
    const { inbox } = await subscriber(broker.url, topic, { qos: 0 });
    const { socket, next, closed } = await openWebSocket(wsUrl);
    socket.send(connectPacket(unique('ws-text')));
    await next('connack');
    // A QoS 0 PUBLISH is all ASCII, so as a text frame it still arrives as valid MQTT bytes: it must not count.
    const publish = encode({
      cmd: 'publish',
      topic,
      payload: Buffer.from('text'),
      qos: 0,
      dup: false,
      retain: false,
    });
    expect(publish.every((byte) => byte < 0x80)).toBe(true);
    socket.send(publish.toString('latin1'), { binary: false });
    const kept = delay(2_000).then(() => 'still open');
    expect(await Promise.race([closed.then(() => 'closed'), kept])).toBe('closed');
    expect(await inbox.quiet()).toEqual([]);
  });

  it('publishes the will when the WebSocket drops', async () => {
    const topic = `ws/will/${unique('t')}`;
    const { inbox } = await subscriber(broker.url, topic, { qos: 1 });
    const { socket, next } = await openWebSocket(wsUrl);
    socket.send(connectPacket(unique('ws-will'), { topic, payload: Buffer.from('ws gone') }));
    await next('connack');
    socket.terminate();
    const [will] = await inbox.waitFor(1);
    expect(will!.payload.toString()).toBe('ws gone');
  });
});
