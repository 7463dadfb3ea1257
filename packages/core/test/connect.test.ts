import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
// The core package has no devDependency on the broker package yet, so import its test helper by path.
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { MqttAgentsError, connectMqtt } from '../src/index.js';
import type { MqttConnection, MqttMessage } from '../src/index.js';

const NOT_AUTHORIZED = 0x87;
const DYNSEC_PLUGINS = [
  process.env.MOSQUITTO_DYNSEC_PLUGIN,
  '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so',
  '/usr/local/lib/mosquitto_dynamic_security.so',
];

let broker: TestBroker;
let scratch: string;
/** Whether the broker under test refuses SUBSCRIBE to `forbidden/#` (embedded hook or Mosquitto dynsec). */
let refusesForbidden = false;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mqtt-agents-core-connect-'));
  const mosquittoConfig: string[] = [];
  const plugin = DYNSEC_PLUGINS.find((path) => path !== undefined && existsSync(path));
  if (plugin) {
    // Mosquitto grants every subscription unless a plugin says otherwise: dynsec denies `forbidden/#`.
    const dynsec = join(scratch, 'dynamic-security.json');
    await writeFile(
      dynsec,
      JSON.stringify({
        defaultACLAccess: {
          publishClientSend: true,
          publishClientReceive: true,
          subscribe: true,
          unsubscribe: true,
        },
        clients: [],
        groups: [{ groupname: 'anonymous', roles: [{ rolename: 'limited' }] }],
        roles: [
          {
            rolename: 'limited',
            acls: [{ acltype: 'subscribePattern', topic: 'forbidden/#', priority: 0, allow: false }],
          },
        ],
        anonymousGroup: 'anonymous',
      }),
    );
    // Mosquitto started as root drops to the `mosquitto` user before the plugin reads this file.
    await chmod(scratch, 0o755);
    await chmod(dynsec, 0o644);
    mosquittoConfig.push(`plugin ${plugin}`, `plugin_opt_config_file ${dynsec}`);
  }
  broker = await startTestBroker({
    mosquittoConfig,
    embedded: {
      authorizeSubscribe: (_client, subscription) =>
        subscription.filter.startsWith('forbidden/') ? NOT_AUTHORIZED : true,
    },
  });
  refusesForbidden = broker.kind === 'embedded' || (broker.kind === 'mosquitto' && plugin !== undefined);
});

afterAll(async () => {
  await broker?.close();
  await rm(scratch, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The next message a connection receives on `filter` (the handler is registered before it resolves). */
function nextMessage(connection: MqttConnection, filter: string): Promise<MqttMessage> {
  return new Promise((resolve) => {
    const remove = connection.addMessageHandler(filter, (message) => {
      remove();
      resolve(message);
    });
  });
}

function text(message: MqttMessage): string {
  return new TextDecoder().decode(message.payload);
}

/** A loopback port nothing listens on. */
async function refusedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** A TCP server that accepts connections and never says a word. */
async function silentServer(): Promise<{ url: string; connected: Promise<unknown>; close(): Promise<void> }> {
  const connections: net.Socket[] = [];
  const server = net.createServer((socket) => connections.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    connected: once(server, 'connection'),
    close: async () => {
      for (const socket of connections) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function encodeLength(length: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return bytes;
}

function frame(header: number, body: number[]): Buffer {
  return Buffer.from([header, ...encodeLength(body.length), ...body]);
}

/**
 * A scripted MQTT 5 peer that answers CONNECT, PUBLISH, SUBSCRIBE and PINGREQ with the reason codes the test
 * asks for, so PUBACK/SUBACK handling is tested independently of what a given broker version sends.
 */
async function scriptedBroker(script: {
  pubackReason?: (topic: string) => number;
  subackReason?: (filter: string) => number;
}): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (buffer.length < 2) return;
        let length = 0;
        let multiplier = 1;
        let index = 1;
        let byte: number;
        do {
          if (index >= buffer.length) return;
          byte = buffer[index++] as number;
          length += (byte & 0x7f) * multiplier;
          multiplier *= 128;
        } while (byte & 0x80);
        if (buffer.length < index + length) return;
        const header = buffer[0] as number;
        const body = buffer.subarray(index, index + length);
        buffer = buffer.subarray(index + length);
        const type = header >> 4;
        if (type === 1) socket.write(frame(0x20, [0x00, 0x00, 0x00]));
        else if (type === 3) {
          const qos = (header >> 1) & 3;
          const topicLength = body.readUInt16BE(0);
          const topic = body.subarray(2, 2 + topicLength).toString();
          if (qos === 1) {
            const id = body.subarray(2 + topicLength, 4 + topicLength);
            socket.write(frame(0x40, [id[0] as number, id[1] as number, script.pubackReason?.(topic) ?? 0]));
          }
        } else if (type === 8) {
          const id = [body[0] as number, body[1] as number];
          let offset = 2;
          const propertiesLength = body[offset] as number; // small in these tests: one length byte
          offset += 1 + propertiesLength;
          const codes: number[] = [];
          while (offset < body.length) {
            const filterLength = body.readUInt16BE(offset);
            const filter = body.subarray(offset + 2, offset + 2 + filterLength).toString();
            offset += 2 + filterLength + 1;
            codes.push(script.subackReason?.(filter) ?? 1);
          }
          socket.write(frame(0x90, [...id, 0x00, ...codes]));
        } else if (type === 12) socket.write(frame(0xd0, []));
        else if (type === 14) socket.end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('connectMqtt', () => {
  it('connects with MQTT 5 and exposes what the CONNACK said', async () => {
    await using connection = await connectMqtt({ url: broker.url, clientId: '' });
    expect(connection.connected).toBe(true);
    expect(connection.client.options.protocolVersion).toBe(5);
    expect(connection.client.options.clean).toBe(true);
    const connack = connection.connack;
    expect(connack.reasonCode).toBe(0);
    expect(connack.sessionPresent).toBe(false);
    // An empty client id makes the broker assign one, which becomes the connection's id.
    expect(connack.assignedClientIdentifier).toEqual(expect.any(String));
    expect(connack.clientId).toBe(connack.assignedClientIdentifier);
    // Mosquitto omits these flags; absent means available.
    expect(connack.retainAvailable).toBe(true);
    expect(connack.wildcardSubscriptionAvailable).toBe(true);
    expect(connack.sharedSubscriptionAvailable).toBe(true);
    expect(connack.maximumQoS).toBe(2);
  });

  it('sets TCP_NODELAY on every socket, reconnects included, and refreshes the CONNACK', async () => {
    const setNoDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    await using connection = await connectMqtt({ url: broker.url, reconnectPeriodMs: 20 });
    const firstStream = connection.client.stream;
    const firstConnack = connection.connack;
    expect(setNoDelay.mock.contexts).toContain(firstStream);
    expect(setNoDelay.mock.calls.every(([value]) => value === true || value === undefined)).toBe(true);

    const events: string[] = [];
    connection.on('connection-drop', (info) => events.push(`drop reconnect=${info.willReconnect}`));
    const reopened = new Promise<void>((resolve) =>
      connection.on('connection-open', () => {
        events.push('open');
        resolve();
      }),
    );
    firstStream.destroy();
    await reopened;
    expect(events).toEqual(['drop reconnect=true', 'open']);
    expect(connection.client.stream).not.toBe(firstStream);
    expect(setNoDelay.mock.contexts).toContain(connection.client.stream);
    expect(connection.connack).not.toBe(firstConnack);
    expect(connection.connected).toBe(true);
  });

  it('warns once while the broker stays away, logs the failed reconnects at debug, and says when it is back', async () => {
    // A TCP relay in front of the broker stands in for it: closing the relay takes the broker away.
    const target = new URL(broker.url);
    const links = new Set<net.Socket>();
    let relay: net.Server | undefined;
    const openRelay = async (port: number): Promise<number> => {
      relay = net.createServer((client) => {
        const upstream = net.connect(Number(target.port), target.hostname);
        for (const socket of [client, upstream]) {
          links.add(socket);
          socket.on('error', () => undefined);
          socket.on('close', () => {
            links.delete(socket);
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      relay.listen(port, '127.0.0.1');
      await once(relay, 'listening');
      return (relay.address() as net.AddressInfo).port;
    };
    const closeRelay = async (): Promise<void> => {
      const closed = relay ? once(relay, 'close') : Promise.resolve();
      relay?.close();
      for (const socket of links) socket.destroy();
      await closed;
    };
    const lines: Array<[string, string]> = [];
    const record = (level: string) => (message: string) => void lines.push([level, message]);
    const logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    const clientErrors = (level: string) =>
      lines.filter(([at, message]) => at === level && message.startsWith('mqtt client error'));

    const port = await openRelay(0);
    const connection = await connectMqtt({ url: `mqtt://127.0.0.1:${port}`, reconnectPeriodMs: 50, logger });
    try {
      await closeRelay();
      await vi.waitFor(() => expect(clientErrors('debug').length).toBeGreaterThanOrEqual(3), {
        timeout: 10_000,
        interval: 20,
      });
      const back = new Promise<void>((resolve) => connection.on('connection-open', () => resolve()));
      await openRelay(port);
      await back;
      expect(clientErrors('warn')).toHaveLength(1);
      expect(lines).toContainEqual([
        'info',
        expect.stringMatching(/^connected again after \d+ connection errors$/),
      ]);
      expect(connection.connected).toBe(true);
    } finally {
      await connection.close();
      await closeRelay();
    }
  });

  it('sends the will with its properties when the link dies, and none after a clean close', async () => {
    await using watcher = await connectMqtt({ url: broker.url });
    await watcher.subscribe('will/#');
    const firstWill = nextMessage(watcher, 'will/#');

    const polite = await connectMqtt({
      url: broker.url,
      will: { topic: 'will/polite', payload: 'gone', qos: 1 },
    });
    await polite.close();

    const rude = await connectMqtt({
      url: broker.url,
      reconnectPeriodMs: 0,
      userProperties: { 'MCP-COMPONENT-TYPE': 'mcp-server' },
      will: {
        topic: 'will/rude',
        payload: new Uint8Array([0, 1, 2]),
        qos: 1,
        properties: { userProperties: { reason: 'crash' }, contentType: 'application/octet-stream' },
      },
    });
    rude.client.stream.destroy();
    const will = await firstWill;
    expect(will.topic).toBe('will/rude');
    expect([...will.payload]).toEqual([0, 1, 2]);
    expect(will.properties.userProperties).toEqual({ reason: 'crash' });
    expect(will.properties.contentType).toBe('application/octet-stream');
    await rude.close();
  });

  it('adopts a client you pass in, sets TCP_NODELAY on it, and leaves it open on close', async () => {
    const setNoDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    const client = mqtt.connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    try {
      const connection = await connectMqtt({ client });
      expect(connection.client).toBe(client);
      expect(setNoDelay.mock.contexts).toContain(client.stream);
      await connection.subscribe('byo/topic');
      const received = nextMessage(connection, 'byo/topic');
      await connection.publish('byo/topic', 'hello');
      expect(text(await received)).toBe('hello');
      await connection.close();
      expect(connection.closed).toBe(true);
      expect(client.connected).toBe(true);
      await expect(connection.publish('byo/topic', 'x')).rejects.toMatchObject({ code: 'CLOSED' });

      // Adopting an already connected client reads the CONNACK it got.
      const again = await connectMqtt({ client, closeClient: true });
      expect(again.connack.reasonCode).toBe(0);
      expect(again.connected).toBe(true);
      await again.close();
      expect(client.connected).toBe(false);
      expect(client.disconnected).toBe(true);
    } finally {
      client.end(true);
    }
  });

  it('refuses a client that does not speak MQTT 5', async () => {
    const client = mqtt.connect(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    try {
      await expect(connectMqtt({ client })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    } finally {
      client.end(true);
    }
  });

  it('fails fast with CONNECT_FAILED when nothing listens, instead of reconnecting', async () => {
    const port = await refusedPort();
    const started = Date.now();
    const error = await connectMqtt({ url: `mqtt://127.0.0.1:${port}`, reconnectPeriodMs: 50 }).catch(
      (caught: unknown) => caught,
    );
    expect(MqttAgentsError.hasCode(error, 'CONNECT_FAILED')).toBe(true);
    expect((error as MqttAgentsError).details).toMatchObject({ networkCode: 'ECONNREFUSED' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it.skipIf(Boolean(process.env.MQTT_URL))(
    'fails with the CONNACK reason code when the broker refuses the client',
    async () => {
      await using refusing = await startTestBroker({
        mosquittoConfig: ['allow_anonymous false'],
        embedded: { authenticate: () => NOT_AUTHORIZED },
      });
      const error = await connectMqtt({ url: refusing.url }).catch((caught: unknown) => caught);
      expect(MqttAgentsError.hasCode(error, 'CONNECT_FAILED')).toBe(true);
      expect((error as MqttAgentsError).details).toMatchObject({ reasonCode: NOT_AUTHORIZED });
      expect((error as Error).message).toMatch(/0x87 \(Not authorized\)/);
    },
  );

  it('gives up after the connect timeout when the broker never answers', async () => {
    const server = await silentServer();
    try {
      const started = Date.now();
      const error = await connectMqtt({ url: server.url, connectTimeoutMs: 150 }).catch(
        (caught: unknown) => caught,
      );
      expect(MqttAgentsError.hasCode(error, 'CONNECT_FAILED')).toBe(true);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await server.close();
    }
  });

  it('stops waiting with ABORTED when the signal fires', async () => {
    const server = await silentServer();
    try {
      const controller = new AbortController();
      const pending = connectMqtt({ url: server.url, signal: controller.signal });
      await server.connected;
      controller.abort();
      await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
      await expect(connectMqtt({ url: server.url, signal: controller.signal })).rejects.toMatchObject({
        code: 'ABORTED',
      });
    } finally {
      await server.close();
    }
  });
});

describe('MqttConnection', () => {
  let connection: MqttConnection;

  beforeAll(async () => {
    connection = await connectMqtt({ url: broker.url });
  });

  afterAll(async () => {
    await connection?.close();
  });

  it('publishes and receives binary payloads with their properties', async () => {
    await connection.subscribe('props/topic');
    const received = nextMessage(connection, 'props/topic');
    const result = await connection.publish('props/topic', new Uint8Array([0xde, 0xad, 0xbe, 0xef]), {
      qos: 1,
      properties: {
        correlationData: new Uint8Array([1, 2, 3]),
        responseTopic: 'props/reply',
        userProperties: { k: ['v1', 'v2'] },
        contentType: 'application/octet-stream',
      },
    });
    expect(result.reasonCode).toBe(0);
    expect(result.noMatchingSubscribers).toBe(false);
    const message = await received;
    expect(message.payload).toBeInstanceOf(Uint8Array);
    expect([...message.payload]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect([...(message.properties.correlationData ?? [])]).toEqual([1, 2, 3]);
    expect(message.properties.responseTopic).toBe('props/reply');
    expect(message.properties.userProperties).toEqual({ k: ['v1', 'v2'] });
    expect(message.qos).toBe(1);
  });

  it('publishes a message whose user-property set is empty (mqtt-packet would write a broken packet)', async () => {
    await connection.subscribe('props/empty-user-properties');
    const received = nextMessage(connection, 'props/empty-user-properties');
    const result = await connection.publish('props/empty-user-properties', 'x', {
      qos: 1,
      properties: { userProperties: {}, contentType: 'text/plain' },
    });
    expect(result.reasonCode).toBe(0);
    const message = await received;
    expect(message.properties.contentType).toBe('text/plain');
    expect(message.properties.userProperties).toBeUndefined();
  });

  it('treats a QoS 1 publish nobody receives as success, whatever the broker says', async () => {
    const result = await connection.publish('nobody/listens', 'x', { qos: 1 });
    expect([0x00, 0x10]).toContain(result.reasonCode);
    expect(result.noMatchingSubscribers).toBe(result.reasonCode === 0x10);
    expect(await connection.publish('nobody/listens', 'x', { qos: 0 })).toEqual({
      reasonCode: undefined,
      noMatchingSubscribers: false,
    });
  });

  it('dispatches each message to every handler whose filter matches, and survives a throwing one', async () => {
    await connection.subscribe(['disp/#', 'disp/+/b']);
    const all: string[] = [];
    const second: string[] = [];
    const removeAll = connection.addMessageHandler('disp/#', (message) => void all.push(message.topic));
    const removeThrowing = connection.addMessageHandler('disp/#', () => {
      throw new Error('handler bug');
    });
    const removeSecond = connection.addMessageHandler(
      'disp/+/b',
      (message) => void second.push(message.topic),
    );
    const done = nextMessage(connection, 'disp/end');
    await connection.publish('disp/a/b', '1');
    await connection.publish('disp/x', '2');
    await connection.publish('disp/end', '3');
    await done;
    // `disp/a/b` matches both subscriptions, so the broker may deliver it twice (MQTT 5 allows either).
    expect(new Set(all)).toEqual(new Set(['disp/a/b', 'disp/x', 'disp/end']));
    expect(new Set(second)).toEqual(new Set(['disp/a/b']));
    removeAll();
    removeThrowing();
    removeSecond();
    const after = nextMessage(connection, 'disp/end');
    await connection.publish('disp/x', '4');
    await connection.publish('disp/end', '5');
    await after;
    expect(all.filter((topic) => topic === 'disp/x')).toHaveLength(1);
  });

  it('gives a handler added while dispatching the next message only, and skips one removed meanwhile', async () => {
    await connection.subscribe('snapshot/#');
    const late: string[] = [];
    const removed: string[] = [];
    let removeLate: (() => void) | undefined;
    let removeRemoved: (() => void) | undefined = undefined;
    const removeFirst = connection.addMessageHandler('snapshot/#', () => {
      removeLate ??= connection.addMessageHandler('snapshot/#', (next) => void late.push(next.topic));
      removeRemoved?.();
    });
    removeRemoved = connection.addMessageHandler('snapshot/#', (message) => void removed.push(message.topic));
    const first = nextMessage(connection, 'snapshot/1');
    await connection.publish('snapshot/1', 'x');
    await first;
    const second = nextMessage(connection, 'snapshot/2');
    await connection.publish('snapshot/2', 'x');
    await second;
    expect(late).toEqual(['snapshot/2']);
    expect(removed).toEqual([]);
    removeFirst();
    removeLate?.();
  });

  it('sends the packets of one event-loop turn in one socket write (cork until setImmediate)', async () => {
    await using batching = await connectMqtt({ url: broker.url });
    await batching.subscribe('batch/+');
    const socket = batching.client.stream as unknown as {
      _write: (...args: unknown[]) => void;
      _writev?: (...args: unknown[]) => void;
    };
    let writes = 0;
    const write = socket._write.bind(socket);
    socket._write = (...args) => {
      writes++;
      write(...args);
    };
    const writev = socket._writev?.bind(socket);
    if (writev) {
      socket._writev = (...args) => {
        writes++;
        writev(...args);
      };
    }
    const received: string[] = [];
    const all = new Promise<void>((resolve) =>
      batching.addMessageHandler('batch/+', (message) => {
        received.push(message.topic);
        if (received.length === 20) resolve();
      }),
    );
    // Twenty publishes spread over twenty ticks of one turn: mqtt-packet alone flushes once per tick.
    for (let index = 0; index < 20; index++) {
      void batching.publish(`batch/${index}`, 'x', { qos: 0 });
      await new Promise<void>((resolve) => process.nextTick(resolve));
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(writes).toBe(1);
    await all;
    expect(received).toEqual(Array.from({ length: 20 }, (_, index) => `batch/${index}`));
  });

  it('leaves MQTT.js debug logging off unless DEBUG enables it, and keeps a log function you pass', async () => {
    const lines: unknown[] = [];
    const previous = process.env.DEBUG;
    delete process.env.DEBUG;
    try {
      await using quiet = await connectMqtt({ url: broker.url });
      await using own = await connectMqtt({
        url: broker.url,
        mqttOptions: { log: (...args) => void lines.push(args) },
      });
      process.env.DEBUG = 'mqttjs*';
      await using debugging = await connectMqtt({ url: broker.url });
      expect(quiet.client.options.log).toBeTypeOf('function');
      expect(lines.length).toBeGreaterThan(0);
      // Left to MQTT.js, which logs through the `debug` package when DEBUG names it.
      expect(debugging.client.options.log).toBeUndefined();
      expect(own.connected && quiet.connected && debugging.connected).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.DEBUG;
      else process.env.DEBUG = previous;
    }
  });

  it('routes messages of a shared subscription to handlers registered with the $share filter', async () => {
    const filter = '$share/workers/shared/jobs';
    await connection.subscribe(filter);
    const received = nextMessage(connection, filter);
    await connection.publish('shared/jobs', 'job-1');
    expect(text(await received)).toBe('job-1');
    await connection.unsubscribe(filter);
  });

  it('stops delivery after unsubscribe', async () => {
    await connection.subscribe(['unsub/a', 'unsub/sentinel']);
    const seen: string[] = [];
    const remove = connection.addMessageHandler('unsub/a', (message) => void seen.push(text(message)));
    await connection.unsubscribe('unsub/a');
    const sentinel = nextMessage(connection, 'unsub/sentinel');
    await connection.publish('unsub/a', 'should not arrive');
    await connection.publish('unsub/sentinel', 'done');
    await sentinel;
    expect(seen).toEqual([]);
    remove();
  });

  it('throws SUBSCRIBE_FAILED naming the filter the broker refused', async (context) => {
    // Mosquitto refuses subscriptions only through a plugin (dynamic security); skip where it is missing.
    if (!refusesForbidden) context.skip();
    const error = await connection
      .subscribe(['allowed/topic', 'forbidden/topic'])
      .catch((caught: unknown) => caught);
    expect(MqttAgentsError.hasCode(error, 'SUBSCRIBE_FAILED')).toBe(true);
    expect((error as Error).message).toBe("subscribe to 'forbidden/topic' refused: 0x87 (Not authorized)");
    expect((error as MqttAgentsError).details).toMatchObject({
      filter: 'forbidden/topic',
      reasonCode: NOT_AUTHORIZED,
      grants: [
        { filter: 'allowed/topic', reasonCode: 1 },
        { filter: 'forbidden/topic', reasonCode: NOT_AUTHORIZED },
      ],
    });
    // The connection is still usable.
    expect(await connection.subscribe('allowed/topic', { qos: 0 })).toEqual([
      { filter: 'allowed/topic', reasonCode: 0 },
    ]);
  });

  it('honours an aborted signal without sending anything', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(connection.publish('x', 'y', {}, controller.signal)).rejects.toMatchObject({
      code: 'ABORTED',
    });
    await expect(connection.subscribe('x', {}, controller.signal)).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('takes the signal inside the options object too, for publish, subscribe and unsubscribe', async () => {
    const controller = new AbortController();
    controller.abort();
    const signal = controller.signal;
    await expect(connection.publish('x', 'y', { signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(connection.subscribe('x', { signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(connection.unsubscribe('x', { signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(connection.unsubscribe('x', signal)).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('reason codes from a scripted peer', () => {
  it('reports PUBACK 0x10 as advisory and PUBACK >= 0x80 as PUBLISH_FAILED', async () => {
    const peer = await scriptedBroker({
      pubackReason: (topic) => (topic === 'nobody' ? 0x10 : topic === 'denied' ? NOT_AUTHORIZED : 0),
    });
    try {
      await using connection = await connectMqtt({ url: peer.url });
      expect(await connection.publish('nobody', 'x')).toEqual({
        reasonCode: 0x10,
        noMatchingSubscribers: true,
      });
      expect(await connection.publish('fine', 'x')).toEqual({ reasonCode: 0, noMatchingSubscribers: false });
      const error = await connection.publish('denied', 'x').catch((caught: unknown) => caught);
      expect(MqttAgentsError.hasCode(error, 'PUBLISH_FAILED')).toBe(true);
      expect((error as MqttAgentsError).details).toMatchObject({
        topic: 'denied',
        reasonCode: NOT_AUTHORIZED,
      });
      // Many publishes in flight each get their own acknowledgement.
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          connection.publish(index % 2 ? 'nobody' : 'fine', `${index}`),
        ),
      );
      expect(results.map((result) => result.noMatchingSubscribers)).toEqual(
        Array.from({ length: 50 }, (_, index) => index % 2 === 1),
      );
    } finally {
      await peer.close();
    }
  });

  it('throws SUBSCRIBE_FAILED with the SUBACK reason code of the refused filter', async () => {
    const peer = await scriptedBroker({ subackReason: (filter) => (filter === 'b/#' ? 0x8f : 1) });
    try {
      await using connection = await connectMqtt({ url: peer.url });
      await expect(connection.subscribe(['a', 'b/#', 'c'])).rejects.toMatchObject({
        code: 'SUBSCRIBE_FAILED',
        message: "subscribe to 'b/#' refused: 0x8f (Topic Filter invalid)",
        details: { filter: 'b/#', reasonCode: 0x8f },
      });
      expect(await connection.subscribe(['a', 'c'])).toEqual([
        { filter: 'a', reasonCode: 1 },
        { filter: 'c', reasonCode: 1 },
      ]);
    } finally {
      await peer.close();
    }
  });
});

describe('close', () => {
  it('is idempotent, fires connection-close once and ends the client it owns', async () => {
    const connection = await connectMqtt({ url: broker.url });
    const closes = vi.fn();
    connection.on('connection-close', closes);
    const first = connection.close();
    expect(connection.close()).toBe(first);
    await first;
    await connection[Symbol.asyncDispose]();
    expect(closes).toHaveBeenCalledTimes(1);
    expect(connection.closed).toBe(true);
    expect(connection.connected).toBe(false);
    expect(connection.client.disconnected).toBe(true);
    await expect(connection.subscribe('x')).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('closes when the client it wraps is ended directly', async () => {
    const connection = await connectMqtt({ url: broker.url });
    const closed = new Promise<void>((resolve) => connection.on('connection-close', resolve));
    connection.client.end();
    await closed;
    expect(connection.closed).toBe(true);
  });
});
