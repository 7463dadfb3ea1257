/**
 * A minimal MQTT 5 client on a raw socket for the throughput and fan-out runs: pre-encoded PUBLISH packets
 * and mqtt-packet's parser, so that the client costs as little as possible and the broker is what is
 * measured. TCP_NODELAY on every socket.
 */
import { connect as netConnect, type Socket } from 'node:net';
import mqttPacket, { type IConnackPacket, type Packet } from 'mqtt-packet';

export interface WireClient {
  readonly socket: Socket;
  readonly connack: IConnackPacket;
  /** Called for every packet after CONNACK. */
  onPacket: (packet: Packet) => void;
  /** Write bytes; resolves at once, or after 'drain' when the socket buffer is full. */
  write(bytes: Buffer): Promise<void> | undefined;
  close(): void;
}

export interface WireConnectOptions {
  clientId: string;
  /** Receive Maximum sent in CONNECT (the broker's QoS 1 window towards this client). */
  receiveMaximum?: number;
}

let sequence = 0;
export function uniqueId(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}`;
}

export async function wireConnect(port: number, options: WireConnectOptions): Promise<WireClient> {
  const socket = netConnect({ host: '127.0.0.1', port, noDelay: true });
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  let onPacket: (packet: Packet) => void = () => {};
  let connackReceived: ((packet: IConnackPacket) => void) | undefined;
  const connack = new Promise<IConnackPacket>((resolve, reject) => {
    connackReceived = resolve;
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
  parser.on('packet', (packet: Packet) => {
    if (packet.cmd === 'connack' && connackReceived) {
      const resolve = connackReceived;
      connackReceived = undefined;
      resolve(packet);
      return;
    }
    onPacket(packet);
  });
  socket.on('data', (chunk: Buffer) => parser.parse(chunk));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    mqttPacket.generate(
      {
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 5,
        clean: true,
        keepalive: 0,
        clientId: options.clientId,
        ...(options.receiveMaximum ? { properties: { receiveMaximum: options.receiveMaximum } } : {}),
      },
      { protocolVersion: 5 },
    ),
  );
  const received = await connack;
  if ((received.reasonCode ?? 0) !== 0)
    throw new Error(`connection refused: 0x${received.reasonCode?.toString(16)}`);
  socket.on('error', () => {});
  const client: WireClient = {
    socket,
    connack: received,
    get onPacket() {
      return onPacket;
    },
    set onPacket(handler) {
      onPacket = handler;
    },
    write(bytes) {
      if (socket.write(bytes)) return undefined;
      return new Promise((resolve) => socket.once('drain', () => resolve()));
    },
    close() {
      socket.destroy();
    },
  };
  return client;
}

export async function wireSubscribe(client: WireClient, topic: string, qos: 0 | 1): Promise<void> {
  const suback = new Promise<void>((resolve) => {
    const previous = client.onPacket;
    client.onPacket = (packet) => {
      if (packet.cmd === 'suback') {
        client.onPacket = previous;
        resolve();
      } else previous(packet);
    };
  });
  client.socket.write(
    mqttPacket.generate(
      { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] },
      { protocolVersion: 5 },
    ),
  );
  await suback;
}

/** PUBLISH bytes for `topic` and `payload`; for QoS 1 call `withPacketId` to stamp each copy. */
export function publishTemplate(topic: string, payload: Buffer, qos: 0 | 1) {
  const template = mqttPacket.generate(
    { cmd: 'publish', topic, payload, qos, messageId: qos ? 1 : undefined, dup: false, retain: false },
    { protocolVersion: 5 },
  );
  // The packet id sits right after the topic: fixed header, remaining length, 2-byte length, topic.
  const idOffset = template.indexOf(Buffer.from(topic)) + Buffer.byteLength(topic);
  return {
    bytes: template,
    withPacketId(id: number): Buffer {
      const copy = Buffer.from(template);
      copy.writeUInt16BE(id, idOffset);
      return copy;
    },
  };
}

export function pubackBytes(packetId: number): Buffer {
  return Buffer.from([0x40, 0x02, packetId >> 8, packetId & 0xff]);
}
