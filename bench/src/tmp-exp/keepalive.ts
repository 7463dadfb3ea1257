import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import mqtt from 'mqtt';
import { startMosquitto } from '@mqtt-agents/broker/vitest';

const m = await startMosquitto();
const watcher = mqtt.connect(m.url, { protocolVersion: 5 });
await new Promise((r) => watcher.once('connect', r));
await watcher.subscribeAsync('will/#', { qos: 1 });
for (let i = 0; i < 3; i++) {
  const socket = net.connect(m.port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: `silent-${i}`, keepalive: Number(process.env.KA), will: { topic: `will/${i}`, payload: Buffer.from('x'), qos: 1, retain: false } } as never));
  await new Promise((r) => setTimeout(r, 100 + i * 700));
  const start = Date.now();
  const got = new Promise<number>((resolve) => watcher.once('message', () => resolve(Date.now() - start)));
  console.log('silent after connect; will after', await got, 'ms');
  socket.destroy();
}
await watcher.endAsync();
await m.close();
