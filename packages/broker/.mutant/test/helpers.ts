import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import mqtt, { type IClientOptions, type IClientSubscribeOptions, type IStream, type MqttClient } from 'mqtt';
import mqttPacket, {
  type IConnackPacket,
  type IConnectPacket,
  type IDisconnectPacket,
  type IPubackPacket,
  type IPublishPacket,
  type IPubrecPacket,
  type ISubackPacket,
  type ISubscribePacket,
  type ISubscription,
  type Packet,
  type PacketCmd,
} from 'mqtt-packet';
import { it } from 'vitest';
import { testBrokerKind, type TestBrokerKind } from '../src/vitest.js';

/** How long a wait for something that must happen may take before the test fails. */
export const WAIT_TIMEOUT = 5_000;
/** How long we watch to prove that something does NOT happen. */
export const QUIET_PERIOD = 200;

export const kind: TestBrokerKind = testBrokerKind();
export const embedded = kind === 'embedded';
export const mosquitto = kind === 'mosquitto';

/**
 * `it`, but expected to fail on the given lane: a documented limitation of that broker (the comment above
 * each use says which). If the broker ever gets it right the test turns red and the mark has to go.
 * `MQTT_AGENTS_SHOW_KNOWN_FAILURES=1` runs them as plain tests, to see how they fail.
 */
export function itFailsOn(lane: TestBrokerKind): typeof it {
  const expectFailure = kind === lane && process.env.MQTT_AGENTS_SHOW_KNOWN_FAILURES !== '1';
  return (expectFailure ? it.fails : it) as typeof it;
}

let sequence = 0;
/** A client id or topic segment that no other test, file or lane uses. */
export function unique(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}-${randomBytes(3).toString('hex')}`;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const cleanups = new Set<() => unknown>();

/**
 * Close everything this file's tests opened (clients, raw sockets). Call it in `afterAll`, before closing the
 * broker. (Per-test `onTestFinished` would be neater, but it attaches to the wrong test under `describe.concurrent`.)
 */
export async function closeAllClients(): Promise<void> {
  const pending = [...cleanups];
  cleanups.clear();
  await Promise.allSettled(pending.map(async (cleanup) => await cleanup()));
}

function closeLater(cleanup: () => unknown): void {
  cleanups.add(cleanup);
}

/**
 * Resolve with the first value other than undefined that `check()` returns, re-checking whenever
 * `subscribe`'s listener fires; reject if `check()` throws or `timeout` passes.
 */
async function waitUntil<T>(
  check: () => T | undefined,
  subscribe: (listener: () => void) => () => void,
  timeout: number,
  describe: () => string,
): Promise<T> {
  const now = check();
  if (now !== undefined) return now;
  return await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeout} ms waiting for ${describe()}`));
    }, timeout);
    const unsubscribe = subscribe(() => {
      let value: T | undefined;
      try {
        value = check();
      } catch (error) {
        clearTimeout(timer);
        unsubscribe();
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (value === undefined) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// MQTT.js clients

/**
 * Connect an MQTT.js client (MQTT 5, unique client id, no automatic reconnect, TCP_NODELAY) and wait for
 * its CONNACK. `beforeConnect` runs before any packet can arrive (attach an Inbox there to catch messages
 * a resumed session delivers right after CONNACK). `closeAllClients()` force-closes it.
 */
export async function connectClient(
  target: string | (() => Duplex),
  options: IClientOptions = {},
  beforeConnect?: (client: MqttClient) => void,
): Promise<MqttClient> {
  const settings: IClientOptions = {
    protocolVersion: 5,
    clientId: unique('client'),
    reconnectPeriod: 0,
    connectTimeout: WAIT_TIMEOUT,
    ...options,
  };
  // A stream builder serves `broker.handle()` pairs and WebSockets built by hand.
  const client =
    typeof target === 'string'
      ? mqtt.connect(target, settings)
      : new mqtt.MqttClient(() => target() as unknown as IStream, settings);
  closeLater(() => client.endAsync(true));
  beforeConnect?.(client);
  await new Promise<void>((resolve, reject) => {
    const onConnect = (): void => {
      const stream = client.stream as Partial<Socket>;
      stream.setNoDelay?.(true);
      done();
      resolve();
    };
    const onError = (error: Error): void => {
      done();
      client.end(true);
      reject(error);
    };
    const onClose = (): void => {
      done();
      client.end(true);
      reject(new Error('connection closed before CONNACK'));
    };
    const done = (): void => {
      client.off('connect', onConnect);
      client.off('error', onError);
      client.off('close', onClose);
    };
    client.once('connect', onConnect);
    client.once('error', onError);
    client.once('close', onClose);
  });
  return client;
}

export interface Received {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
}

/** Every message a client receives (optionally only those whose topic passes `filter`), with waits. */
export class Inbox {
  readonly messages: Received[] = [];
  private readonly listeners = new Set<() => void>();
  /** How many messages the test has accounted for; `quiet()` reports everything after them. */
  private accounted = 0;

  constructor(client: MqttClient, filter: (topic: string) => boolean = () => true) {
    client.on('message', (topic, payload, packet) => {
      if (!filter(topic)) return;
      this.messages.push({ topic, payload, packet });
      for (const listener of [...this.listeners]) listener();
    });
  }

  /** Wait until at least `count` messages arrived; returns all received so far. Accounts for `count`. */
  async waitFor(count: number, timeout = WAIT_TIMEOUT): Promise<Received[]> {
    const messages = await waitUntil(
      () => (this.messages.length >= count ? [...this.messages] : undefined),
      (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
      timeout,
      () => `${count} message(s), got ${this.messages.length}: ${this.topics().join(', ')}`,
    );
    this.accounted = Math.max(this.accounted, count);
    return messages;
  }

  /** Wait for the first message that passes `predicate`; accounts for it and everything before it. */
  async waitForMatch(predicate: (message: Received) => boolean, timeout = WAIT_TIMEOUT): Promise<Received> {
    const match = await waitUntil(
      () => this.messages.find(predicate),
      (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
      timeout,
      () => `a matching message, got: ${this.topics().join(', ')}`,
    );
    this.accounted = Math.max(this.accounted, this.messages.indexOf(match) + 1);
    return match;
  }

  /**
   * Watch for `ms`, then return every message the test has not accounted for with `waitFor` /
   * `waitForMatch` / an earlier `quiet` (including any that arrived before this call): proves a non-delivery.
   */
  async quiet(ms = QUIET_PERIOD): Promise<Received[]> {
    await delay(ms);
    const unaccounted = this.messages.slice(this.accounted);
    this.accounted = this.messages.length;
    return unaccounted;
  }

  topics(): string[] {
    return this.messages.map((message) => message.topic);
  }

  payloads(): string[] {
    return this.messages.map((message) => message.payload.toString());
  }
}

/** Connect a client, subscribe and return an inbox that collects what arrives. */
export async function subscriber(
  url: string,
  filter: string | string[],
  subscribeOptions: IClientSubscribeOptions = { qos: 1 },
  options: IClientOptions = {},
): Promise<{ client: MqttClient; inbox: Inbox }> {
  const client = await connectClient(url, options);
  const inbox = new Inbox(client);
  await client.subscribeAsync(filter, subscribeOptions);
  return { client, inbox };
}

// ---------------------------------------------------------------------------------------------------------
// Raw wire clients

export type PacketOf<C extends PacketCmd> = Extract<Packet, { cmd: C }>;

export interface RawConnectOptions extends Partial<Omit<IConnectPacket, 'cmd'>> {
  /** Wait for CONNACK (default true). */
  awaitConnack?: boolean;
}

/**
 * A TCP connection that speaks mqtt-packet objects (or raw bytes), so tests see and control the wire:
 * reason codes, properties, DUP flags, packet ids, malformed input.
 */
export class RawClient {
  /** Every packet received, in order. */
  readonly received: Packet[] = [];
  /** Set when the bytes from the broker did not parse. */
  parseError: Error | undefined;
  private readonly unconsumed: Packet[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly parser;
  private closedFlag = false;
  readonly closed: Promise<void>;

  private constructor(
    readonly socket: Socket,
    readonly protocolVersion: 3 | 4 | 5,
  ) {
    this.parser = mqttPacket.parser({ protocolVersion });
    this.parser.on('packet', (packet: Packet) => {
      this.received.push(packet);
      this.unconsumed.push(packet);
      this.notify();
    });
    this.parser.on('error', (error: Error) => {
      this.parseError = error;
      this.notify();
    });
    socket.on('data', (chunk: Buffer) => this.parser.parse(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedFlag = true;
        this.notify();
        resolve();
      }),
    );
  }

  /** Open a TCP connection (TCP_NODELAY) and send nothing yet. */
  static async open(url: string, protocolVersion: 3 | 4 | 5 = 5): Promise<RawClient> {
    const { hostname, port } = new URL(url);
    const socket = netConnect({ host: hostname, port: Number(port), noDelay: true });
    const client = new RawClient(socket, protocolVersion);
    closeLater(() => client.destroy());
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Open a connection, send CONNECT (MQTT 5, clean start, unique id, keep alive 0) and wait for CONNACK. */
  static async connect(
    url: string,
    options: RawConnectOptions = {},
  ): Promise<{ client: RawClient; connack: IConnackPacket }> {
    const { awaitConnack = true, ...fields } = options;
    const protocolVersion = fields.protocolVersion ?? 5;
    const client = await RawClient.open(url, protocolVersion);
    client.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion,
      clean: true,
      keepalive: 0,
      clientId: unique('raw'),
      ...fields,
    } as IConnectPacket);
    if (!awaitConnack) return { client, connack: undefined as unknown as IConnackPacket };
    const connack = await client.next('connack');
    return { client, connack };
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private listen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private packetId = 0;

  /** A fresh packet identifier (1..65535). */
  nextPacketId(): number {
    this.packetId = (this.packetId % 65535) + 1;
    return this.packetId;
  }

  /** SUBSCRIBE and wait for the SUBACK. */
  async subscribe(
    subscriptions: ISubscription | ISubscription[],
    properties?: ISubscribePacket['properties'],
  ): Promise<ISubackPacket> {
    const messageId = this.nextPacketId();
    this.send({
      cmd: 'subscribe',
      messageId,
      subscriptions: Array.isArray(subscriptions) ? subscriptions : [subscriptions],
      ...(properties ? { properties } : {}),
    });
    return await this.next('suback', (packet) => packet.messageId === messageId);
  }

  /**
   * PUBLISH and run the acknowledgement flow: QoS 1 returns the PUBACK, QoS 2 the PUBREC (after sending
   * PUBREL and receiving PUBCOMP), QoS 0 returns undefined.
   */
  async publish(
    fields: Omit<IPublishPacket, 'cmd' | 'qos' | 'dup' | 'retain'> & Partial<IPublishPacket>,
  ): Promise<IPubackPacket | IPubrecPacket | undefined> {
    const qos = fields.qos ?? 0;
    const messageId = qos > 0 ? (fields.messageId ?? this.nextPacketId()) : undefined;
    this.send({ cmd: 'publish', dup: false, retain: false, ...fields, qos, messageId } as IPublishPacket);
    if (qos === 1) return await this.next('puback', (packet) => packet.messageId === messageId);
    if (qos !== 2) return undefined;
    const pubrec = await this.next('pubrec', (packet) => packet.messageId === messageId);
    if ((pubrec.reasonCode ?? 0) >= 0x80) return pubrec;
    this.send({ cmd: 'pubrel', messageId });
    await this.next('pubcomp', (packet) => packet.messageId === messageId);
    return pubrec;
  }

  /** Acknowledge a PUBLISH the broker sent: PUBACK, or PUBREC / PUBREL / PUBCOMP for QoS 2. */
  async ack(publish: IPublishPacket): Promise<void> {
    const messageId = publish.messageId;
    if (publish.qos === 1) this.send({ cmd: 'puback', messageId });
    if (publish.qos !== 2) return;
    this.send({ cmd: 'pubrec', messageId });
    await this.next('pubrel', (packet) => packet.messageId === messageId);
    this.send({ cmd: 'pubcomp', messageId });
  }

  send(packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: this.protocolVersion }));
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next not-yet-consumed packet of type `cmd` (and passing `predicate`); consumes it. */
  async next<C extends PacketCmd>(
    cmd: C,
    predicate: (packet: PacketOf<C>) => boolean = () => true,
    timeout = WAIT_TIMEOUT,
  ): Promise<PacketOf<C>> {
    return await waitUntil(
      () => {
        const index = this.unconsumed.findIndex(
          (packet) => packet.cmd === cmd && predicate(packet as PacketOf<C>),
        );
        if (index >= 0) return this.unconsumed.splice(index, 1)[0] as PacketOf<C>;
        if (this.closedFlag)
          throw new Error(`connection closed while waiting for ${cmd}: ${this.describe()}`);
        return undefined;
      },
      (listener) => this.listen(listener),
      timeout,
      () => `${cmd} (received so far: ${this.describe()})`,
    );
  }

  /** Wait for `count` packets of type `cmd`. */
  async nextN<C extends PacketCmd>(cmd: C, count: number, timeout = WAIT_TIMEOUT): Promise<PacketOf<C>[]> {
    const packets: PacketOf<C>[] = [];
    const deadline = Date.now() + timeout;
    while (packets.length < count) {
      packets.push(await this.next(cmd, () => true, Math.max(1, deadline - Date.now())));
    }
    return packets;
  }

  /** Watch for `ms` and return the packets of type `cmd` that arrived meanwhile (consuming them). */
  async quiet<C extends PacketCmd>(cmd: C, ms = QUIET_PERIOD): Promise<PacketOf<C>[]> {
    await delay(ms);
    const found: PacketOf<C>[] = [];
    for (let index = 0; index < this.unconsumed.length;) {
      if (this.unconsumed[index]!.cmd === cmd) found.push(this.unconsumed.splice(index, 1)[0] as PacketOf<C>);
      else index++;
    }
    return found;
  }

  /** Wait until the broker closes the connection. */
  async waitClosed(timeout = WAIT_TIMEOUT): Promise<void> {
    await waitUntil(
      () => (this.closedFlag ? true : undefined),
      (listener) => this.listen(listener),
      timeout,
      () => `the broker to close the connection (received: ${this.describe()})`,
    );
  }

  /** The DISCONNECT the broker sent, if any. */
  disconnectPacket(): IDisconnectPacket | undefined {
    return this.received.find((packet): packet is IDisconnectPacket => packet.cmd === 'disconnect');
  }

  /** Send DISCONNECT and end the socket. */
  async disconnect(reasonCode = 0, properties?: IDisconnectPacket['properties']): Promise<void> {
    this.send({ cmd: 'disconnect', reasonCode, ...(properties ? { properties } : {}) });
    this.socket.end();
    await this.closed;
  }

  /** Drop the TCP connection without DISCONNECT (a crash, as far as the broker can tell). */
  destroy(): void {
    this.socket.destroy();
  }

  describe(): string {
    const packets = this.received.map((packet) => {
      const reason = (packet as { reasonCode?: number }).reasonCode;
      return reason === undefined ? packet.cmd : `${packet.cmd}(0x${reason.toString(16)})`;
    });
    return `[${packets.join(', ')}]${this.closedFlag ? ' closed' : ''}`;
  }
}

/**
 * Wait until the broker ends the connection and return the reason code of the DISCONNECT it sent first
 * (undefined if it closed without one).
 */
export async function disconnectReason(
  client: RawClient,
  timeout = WAIT_TIMEOUT,
): Promise<number | undefined> {
  await client.waitClosed(timeout);
  const packet = client.disconnectPacket();
  return packet ? (packet.reasonCode ?? 0) : undefined;
}

/** Encode a packet to bytes (MQTT 5 by default). */
export function encode(packet: Packet, protocolVersion: 3 | 4 | 5 = 5): Buffer {
  return mqttPacket.generate(packet, { protocolVersion });
}

/** Encode a Variable Byte Integer. */
export function varint(value: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return Buffer.from(bytes);
}

/** A UTF-8 string field: two-byte length prefix, then the bytes (which may be ill-formed on purpose). */
export function utf8Field(bytes: Buffer | string): Buffer {
  const body = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length);
  return Buffer.concat([length, body]);
}

/** A packet from its first byte and body: fixed header with the remaining length computed. */
export function rawPacket(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), varint(body.length), body]);
}

/** A round trip through the broker between two fresh well-behaved clients: proves the broker still works. */
export async function assertBrokerServes(url: string): Promise<void> {
  const topic = `alive/${unique('t')}`;
  const { client: receiver, inbox } = await subscriber(url, topic);
  const sender = await connectClient(url);
  await sender.publishAsync(topic, 'ping', { qos: 1 });
  await inbox.waitFor(1);
  await Promise.all([receiver.endAsync(), sender.endAsync()]);
}
