/**
 * Broker benchmark: the embedded broker against Mosquitto, each alone in its own process, the clients in
 * this one (TCP_NODELAY everywhere). Prints a table with embedded/Mosquitto ratios and writes it to the
 * "Broker" section of docs/benchmarks.md. Benchmarks are not tests: nothing here gates CI.
 *
 *   node --import tsx bench/src/broker.ts
 *
 * Needs `mosquitto` on PATH (or MOSQUITTO_BIN). Bounded: well under two minutes.
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import {
  publishTemplate,
  pubackBytes,
  uniqueId,
  wireConnect,
  wireSubscribe,
  type WireClient,
} from './wire.js';
import { startEmbeddedBroker, startMosquittoBroker, type BrokerUnderTest } from './lib/brokers.js';
import { REPORT_FILE, integer, kib, mosquittoVersion, ratio, table, writeSection } from './lib/report.js';

const PAYLOAD = Buffer.alloc(1024, 0x61);
const WARMUP_MS = 500;
const MEASURE_MS = 3_000;
const LATENCY_SAMPLES = 5_000;
const FAN_OUT = 100;
const IDLE_CONNECTIONS = 1_000;
/** In-flight QoS 1 window, the same for both brokers (Mosquitto is configured to it). */
const QOS1_WINDOW = 100;

// --- Brokers under test, each in its own process (lib/brokers.ts) ------------------------------------------------

type Memory = Awaited<ReturnType<BrokerUnderTest['memory']>>;

// --- Scenarios -------------------------------------------------------------------------------------------------

const now = (): number => performance.now();
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Count `counter()` over MEASURE_MS after WARMUP_MS; returns events per second. */
async function rate(counter: () => number): Promise<number> {
  await delay(WARMUP_MS);
  const startCount = counter();
  const start = now();
  await delay(MEASURE_MS);
  return ((counter() - startCount) * 1000) / (now() - start);
}

/**
 * Publisher → broker → subscriber, 1 KiB payloads, as fast as the window allows: QoS 0 keeps at most 1,000
 * messages between publisher and subscriber; QoS 1 at most QOS1_WINDOW unacknowledged each way.
 */
async function throughput(port: number, qos: 0 | 1): Promise<number> {
  const topic = uniqueId('bench/throughput');
  const subscriber = await wireConnect(port, { clientId: uniqueId('sub'), receiveMaximum: QOS1_WINDOW });
  await wireSubscribe(subscriber, topic, qos);
  const publisher = await wireConnect(port, { clientId: uniqueId('pub') });
  const brokerWindow = Math.min(publisher.connack.properties?.receiveMaximum ?? 65_535, QOS1_WINDOW);
  const window = qos === 0 ? 1_000 : QOS1_WINDOW;
  const template = publishTemplate(topic, PAYLOAD, qos);
  let sent = 0;
  let received = 0;
  let acknowledged = 0;
  let packetId = 0;
  let running = true;
  let pumping = false;

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    publisher.socket.cork();
    while (running && sent - received < window && (qos === 0 || sent - acknowledged < brokerWindow)) {
      packetId = packetId === 65_535 ? 1 : packetId + 1;
      sent++;
      const wait = publisher.write(qos === 0 ? template.bytes : template.withPacketId(packetId));
      if (wait) {
        publisher.socket.uncork();
        await wait;
        publisher.socket.cork();
      }
    }
    publisher.socket.uncork();
    pumping = false;
  };

  subscriber.onPacket = (packet) => {
    if (packet.cmd !== 'publish') return;
    received++;
    if (qos === 1) subscriber.socket.write(pubackBytes(packet.messageId!));
    void pump();
  };
  publisher.onPacket = (packet) => {
    if (packet.cmd !== 'puback') return;
    acknowledged++;
    void pump();
  };
  void pump();
  const result = await rate(() => received);
  running = false;
  publisher.close();
  subscriber.close();
  return result;
}

async function mqttClient(port: number): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 5,
    clientId: uniqueId('latency'),
    reconnectPeriod: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => {
      (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
      resolve();
    });
    client.once('error', reject);
  });
  return client;
}

/**
 * QoS 1 request/reply round trip at concurrency 1, the way the SDK's MCP and A2A transports use the broker:
 * the requester publishes a request, the responder publishes a reply on receipt. MQTT.js clients.
 */
async function latency(port: number): Promise<{ p50: number; p99: number }> {
  const requestTopic = uniqueId('bench/request');
  const replyTopic = uniqueId('bench/reply');
  const responder = await mqttClient(port);
  await responder.subscribeAsync(requestTopic, { qos: 1 });
  responder.on('message', (_topic, payload) => responder.publish(replyTopic, payload, { qos: 1 }));
  const requester = await mqttClient(port);
  await requester.subscribeAsync(replyTopic, { qos: 1 });
  let replied: (() => void) | undefined;
  requester.on('message', () => replied?.());
  const samples: number[] = [];
  const deadline = now() + WARMUP_MS + MEASURE_MS;
  for (let index = 0; index < LATENCY_SAMPLES + 200 && now() < deadline; index++) {
    const reply = new Promise<void>((resolve) => (replied = resolve));
    const start = now();
    requester.publish(requestTopic, PAYLOAD, { qos: 1 });
    await reply;
    if (index >= 200) samples.push(now() - start);
  }
  await Promise.all([requester.endAsync(), responder.endAsync()]);
  samples.sort((a, b) => a - b);
  const percentile = (p: number): number =>
    samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
  return { p50: percentile(0.5), p99: percentile(0.99) };
}

/** One publisher, FAN_OUT QoS 0 subscribers on the same topic; deliveries per second across all of them. */
async function fanOut(port: number): Promise<number> {
  const topic = uniqueId('bench/fan-out');
  const subscribers: WireClient[] = [];
  let delivered = 0;
  for (let index = 0; index < FAN_OUT; index++) {
    const subscriber = await wireConnect(port, { clientId: uniqueId('fan') });
    await wireSubscribe(subscriber, topic, 0);
    subscriber.onPacket = (packet) => {
      if (packet.cmd !== 'publish') return;
      delivered++;
      void pump();
    };
    subscribers.push(subscriber);
  }
  const publisher = await wireConnect(port, { clientId: uniqueId('fan-pub') });
  const template = publishTemplate(topic, PAYLOAD, 0);
  const window = 100;
  let sent = 0;
  let running = true;
  let pumping = false;
  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    while (running && sent - delivered / FAN_OUT < window) {
      sent++;
      const wait = publisher.write(template.bytes);
      if (wait) await wait;
    }
    pumping = false;
  };
  void pump();
  const result = await rate(() => delivered);
  running = false;
  publisher.close();
  for (const subscriber of subscribers) subscriber.close();
  return result;
}

/** RSS (and heap, for the embedded broker) the broker process grows by per idle MQTT 5 connection. */
async function idleMemory(broker: BrokerUnderTest): Promise<Memory> {
  await delay(200);
  const before = await broker.memory();
  const clients: WireClient[] = [];
  for (let batch = 0; batch < IDLE_CONNECTIONS / 100; batch++) {
    clients.push(
      ...(await Promise.all(
        Array.from({ length: 100 }, () => wireConnect(broker.port, { clientId: uniqueId('idle') })),
      )),
    );
  }
  await delay(200);
  const after = await broker.memory();
  for (const client of clients) client.close();
  return {
    rss: (after.rss - before.rss) / IDLE_CONNECTIONS,
    ...(after.heapUsed !== undefined && before.heapUsed !== undefined
      ? { heapUsed: (after.heapUsed - before.heapUsed) / IDLE_CONNECTIONS }
      : {}),
  };
}

export interface Results {
  qos0: number;
  qos1: number;
  p50: number;
  p99: number;
  fanOut: number;
  memory: Memory;
}

async function measure(broker: BrokerUnderTest): Promise<Results> {
  process.stdout.write(`${broker.name}: idle memory`);
  const memory = await idleMemory(broker);
  process.stdout.write(', QoS 0');
  const qos0 = await throughput(broker.port, 0);
  process.stdout.write(', QoS 1');
  const qos1 = await throughput(broker.port, 1);
  process.stdout.write(', latency');
  const { p50, p99 } = await latency(broker.port);
  process.stdout.write(', fan-out');
  const fan = await fanOut(broker.port);
  process.stdout.write('\n');
  return { qos0, qos1, p50, p99, fanOut: fan, memory };
}

// --- Report ----------------------------------------------------------------------------------------------------

const milliseconds = (value: number): string => `${value.toFixed(3)} ms`;

function resultsTable(embedded: Results, mosquitto: Results): string {
  const rows: Array<[string, string, string, string]> = [
    [
      'QoS 0 throughput, 1 KiB (msg/s)',
      integer(embedded.qos0),
      integer(mosquitto.qos0),
      ratio(embedded.qos0, mosquitto.qos0),
    ],
    [
      'QoS 1 throughput, 1 KiB (msg/s)',
      integer(embedded.qos1),
      integer(mosquitto.qos1),
      ratio(embedded.qos1, mosquitto.qos1),
    ],
    [
      'QoS 1 round trip p50',
      milliseconds(embedded.p50),
      milliseconds(mosquitto.p50),
      ratio(embedded.p50, mosquitto.p50),
    ],
    [
      'QoS 1 round trip p99',
      milliseconds(embedded.p99),
      milliseconds(mosquitto.p99),
      ratio(embedded.p99, mosquitto.p99),
    ],
    [
      `Fan-out 1→${FAN_OUT}, QoS 0 (deliveries/s)`,
      integer(embedded.fanOut),
      integer(mosquitto.fanOut),
      ratio(embedded.fanOut, mosquitto.fanOut),
    ],
    [
      'RSS per idle connection',
      kib(embedded.memory.rss),
      kib(mosquitto.memory.rss),
      ratio(embedded.memory.rss, mosquitto.memory.rss),
    ],
    ['JS heap per idle connection', kib(embedded.memory.heapUsed ?? Number.NaN), 'n/a (C)', 'n/a'],
  ];
  return table(['Scenario', 'Embedded', 'Mosquitto', 'Embedded / Mosquitto'], rows);
}

export interface BrokerBenchmark {
  embedded: Results;
  mosquitto: Results;
  /** Machine, Node.js and Mosquitto versions, as a Markdown list. */
  machine: string;
  /** The Markdown table with ratios. */
  table: string;
  /** The "Broker" section of docs/benchmarks.md, without its title. */
  section: string;
}

/** Run every scenario against the embedded broker, then against Mosquitto; returns the results and the report. */
export async function runBrokerBenchmark(): Promise<BrokerBenchmark> {
  // Other work on the machine skews every number: record how busy it was.
  const loadBefore = os.loadavg()[0]!;
  const embeddedBroker = await startEmbeddedBroker();
  let embedded: Results;
  try {
    embedded = await measure(embeddedBroker);
  } finally {
    await embeddedBroker.close();
  }
  // The same QoS 1 window as the embedded broker gets from the clients (Mosquitto's default is 20).
  const mosquittoBroker = await startMosquittoBroker({ config: [`max_inflight_messages ${QOS1_WINDOW}`] });
  let mosquitto: Results;
  try {
    mosquitto = await measure(mosquittoBroker);
  } finally {
    await mosquittoBroker.close();
  }

  const cpus = os.cpus();
  const machine = [
    `- CPU: ${cpus[0]?.model.trim() ?? 'unknown'}, ${cpus.length} cores`,
    `- Node.js ${process.version}, Mosquitto ${mosquittoVersion()} (\`set_tcp_nodelay true\`, \`max_inflight_messages ${QOS1_WINDOW}\`)`,
    `- ${os.type()} ${os.release()}, ${new Date().toISOString().slice(0, 10)}, 1-minute load average ${loadBefore.toFixed(1)} before and ${os.loadavg()[0]!.toFixed(1)} after the run (idle: near 0)`,
  ].join('\n');
  const result = resultsTable(embedded, mosquitto);
  const section = [
    'The embedded broker (`@mqtt-agents/broker`) against Mosquitto, each alone in its own process, the',
    'clients in a third (TCP_NODELAY on every socket). Reproduce with `node --import tsx bench/src/broker.ts`.',
    '',
    machine,
    '',
    result,
    '',
    'How it is measured: throughput is one publisher and one subscriber on raw sockets with pre-encoded 1 KiB',
    `PUBLISH packets, counted over ${MEASURE_MS / 1000} s after ${WARMUP_MS} ms of warm-up (QoS 0: at most 1,000 messages between`,
    `publisher and subscriber; QoS 1: at most ${QOS1_WINDOW} unacknowledged each way). The round trip is an MQTT.js`,
    'requester publishing a QoS 1 request and an MQTT.js responder publishing the QoS 1 reply, one at a time,',
    `up to ${LATENCY_SAMPLES.toLocaleString('en-US')} samples. Fan-out is one QoS 0 publisher and ${FAN_OUT} subscribers on one topic.`,
    `Memory is the broker process's growth over ${IDLE_CONNECTIONS.toLocaleString('en-US')} idle MQTT 5 connections (after a full GC for the`,
    'embedded broker; VmRSS for Mosquitto). Above 1x the embedded broker is faster for throughput, and',
    'slower or bigger for round trip and memory.',
    '',
  ].join('\n');
  return { embedded, mosquitto, machine, table: result, section };
}

// Run as a script: measure, print, record; give up after two minutes.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const watchdog = setTimeout(() => {
    process.stderr.write('bench: gave up after 2 minutes\n');
    process.exit(1);
  }, 120_000);
  watchdog.unref();
  const started = now();
  const { machine, table, section } = await runBrokerBenchmark();
  process.stdout.write(`\n${machine}\n\n${table}\n\n`);
  await writeSection('Broker', section);
  process.stdout.write(`written to ${REPORT_FILE} in ${((now() - started) / 1000).toFixed(1)} s\n`);
}
