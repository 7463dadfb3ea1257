/**
 * Benchmark 5 of issue 8: one MCP server host (one MQTT connection, one SDK `McpServer` per session) in its
 * own process with 1,000 client sessions open at once. Measures the server process's memory per session and
 * tools/call latency across the sessions; baseline: the same host with a single session at the same load.
 *
 * The 1,000 clients are not 1,000 SDK `Client`s with 1,000 MQTT connections (that would measure this
 * process, not the server): a load generator speaks the MCP binding on a few MQTT connections, each carrying
 * many mcp-client-ids, exactly as 1,000 separate clients would on the wire (initialize on the control topic,
 * `notifications/initialized`, then requests on `$mcp-rpc/{mcp-client-id}/{server-id}/{server-name}`, with
 * MCP-COMPONENT-TYPE and MCP-MQTT-CLIENT-ID on every publish).
 *
 *   node --import tsx bench/src/sessions.ts
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { startEmbeddedBroker, startMosquittoBroker, type BrokerUnderTest } from './lib/brokers.js';
import { PAYLOAD_TEXT } from './lib/fixtures.js';
import { DEFAULT_LOAD, delay, runLoad, type LoadResult } from './lib/measure.js';
import { startPeer, type Peer } from './lib/peer.js';
import {
  integer,
  kib,
  machineLines,
  ms,
  ratio,
  recordTargets,
  table,
  writeSection,
  type TargetResult,
} from './lib/report.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1_000);
const GENERATOR_CONNECTIONS = 4;
const IN_FLIGHT = 64;

interface Rpc {
  jsonrpc: '2.0';
  id?: number;
  result?: { content?: Array<{ text?: string }> };
  error?: { message: string };
}

/** Many MCP client sessions multiplexed on one MQTT connection. */
class SessionGenerator {
  private readonly waiting = new Map<string, (message: Rpc) => void>();
  private nextId = 1;

  private constructor(
    private readonly client: MqttClient,
    private readonly server: { serverId: string; serverName: string },
  ) {
    client.on('message', (topic, payload) => {
      const mcpClientId = topic.split('/')[1] ?? '';
      const message = JSON.parse(payload.toString('utf8')) as Rpc;
      if (message.id === undefined) return;
      const key = `${mcpClientId} ${message.id}`;
      const resolve = this.waiting.get(key);
      this.waiting.delete(key);
      resolve?.(message);
    });
  }

  static async connect(
    url: string,
    server: { serverId: string; serverName: string },
  ): Promise<SessionGenerator> {
    const client = mqtt.connect(url, {
      protocolVersion: 5,
      clientId: `bench-sessions-${randomUUID()}`,
      reconnectPeriod: 0,
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    (client.stream as { setNoDelay?: (value: boolean) => void }).setNoDelay?.(true);
    // Every session's RPC topic at once; No Local keeps our own requests away.
    await client.subscribeAsync(`$mcp-rpc/+/${server.serverId}/${server.serverName}`, { qos: 1, nl: true });
    return new SessionGenerator(client, server);
  }

  private publish(mcpClientId: string, topic: string, message: Record<string, unknown>): void {
    this.client.publish(topic, JSON.stringify(message), {
      qos: 1,
      properties: {
        userProperties: { 'MCP-COMPONENT-TYPE': 'mcp-client', 'MCP-MQTT-CLIENT-ID': mcpClientId },
      },
    });
  }

  private rpcTopic(mcpClientId: string): string {
    return `$mcp-rpc/${mcpClientId}/${this.server.serverId}/${this.server.serverName}`;
  }

  private request(mcpClientId: string, topic: string, method: string, params: unknown): Promise<Rpc> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(`${mcpClientId} ${id}`);
        reject(new Error(`${method} from ${mcpClientId} timed out`));
      }, 30_000);
      this.waiting.set(`${mcpClientId} ${id}`, (message) => {
        clearTimeout(timer);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message);
      });
      this.publish(mcpClientId, topic, { jsonrpc: '2.0', id, method, params });
    });
  }

  async open(mcpClientId: string): Promise<void> {
    const control = `$mcp-server/${this.server.serverId}/${this.server.serverName}`;
    await this.request(mcpClientId, control, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'bench-session', version: '1.0.0' },
    });
    this.publish(mcpClientId, this.rpcTopic(mcpClientId), {
      jsonrpc: '2.0',
      method: 'notifications/initialized',
    });
  }

  async callEcho(mcpClientId: string): Promise<void> {
    const answer = await this.request(mcpClientId, this.rpcTopic(mcpClientId), 'tools/call', {
      name: 'echo',
      arguments: { text: PAYLOAD_TEXT },
    });
    if (answer.result?.content?.[0]?.text !== PAYLOAD_TEXT) throw new Error('unexpected tools/call result');
  }

  async close(mcpClientIds: readonly string[]): Promise<void> {
    for (const id of mcpClientIds) {
      this.publish(id, this.rpcTopic(id), { jsonrpc: '2.0', method: 'notifications/disconnected' });
    }
    await this.client.endAsync();
  }
}

interface Memory {
  heapUsed: number;
  rss: number;
}

interface BrokerResults {
  label: string;
  setupMs: number;
  memoryPerSession: Memory;
  single: LoadResult;
  spread: LoadResult;
  all: LoadResult;
}

async function measure(broker: BrokerUnderTest, peer: Peer): Promise<BrokerResults> {
  const serverName = `bench/${randomUUID().slice(0, 8)}/sessions`;
  const { handle, serverId } = await peer.request<{ handle: number; serverId: string }>({
    op: 'mcp-mqtt',
    brokerUrl: broker.url,
    serverName,
  });
  const server = { serverId, serverName };
  const generators = await Promise.all(
    Array.from({ length: GENERATOR_CONNECTIONS }, () => SessionGenerator.connect(broker.url, server)),
  );
  const ids = Array.from(
    { length: SESSIONS },
    (_, index) => `bench-client-${index}-${randomUUID().slice(0, 6)}`,
  );
  const generatorOf = (index: number): SessionGenerator => generators[index % GENERATOR_CONNECTIONS]!;
  try {
    // Baseline: one session, IN_FLIGHT calls at a time.
    await generatorOf(0).open(ids[0]!);
    const single = await runLoad(() => generatorOf(0).callEcho(ids[0]!), {
      concurrency: IN_FLIGHT,
      ...DEFAULT_LOAD,
    });
    process.stdout.write(
      `${broker.label}: 1 session, ${IN_FLIGHT} in flight: ${integer(single.rate)} calls/s, p99 ${ms(single.p99)}\n`,
    );

    await delay(200);
    const before = await peer.request<Memory>({ op: 'memory' });
    const setupStart = performance.now();
    let next = 1;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (next < SESSIONS) {
          const index = next++;
          await generatorOf(index).open(ids[index]!);
        }
      }),
    );
    const setupMs = performance.now() - setupStart;
    const sessions = await peer.request<number>({ op: 'sessions', handle });
    if (sessions !== SESSIONS)
      throw new Error(`expected ${SESSIONS} sessions on the host, found ${sessions}`);
    await delay(200);
    const after = await peer.request<Memory>({ op: 'memory' });
    const memoryPerSession = {
      heapUsed: (after.heapUsed - before.heapUsed) / (SESSIONS - 1),
      rss: (after.rss - before.rss) / (SESSIONS - 1),
    };
    process.stdout.write(
      `${broker.label}: ${SESSIONS} sessions open in ${ms(setupMs)}, ${kib(memoryPerSession.heapUsed)} heap per session\n`,
    );

    // The same load spread over every session, round robin; then as many calls in flight as sessions, so
    // that every session has one call in flight (round robin hands each worker the next session).
    let turn = 0;
    const roundRobin = (): Promise<void> => {
      const index = turn++ % SESSIONS;
      return generatorOf(index).callEcho(ids[index]!);
    };
    const spread = await runLoad(roundRobin, { concurrency: IN_FLIGHT, ...DEFAULT_LOAD });
    process.stdout.write(
      `${broker.label}: ${SESSIONS} sessions, ${IN_FLIGHT} in flight: ${integer(spread.rate)} calls/s, p99 ${ms(spread.p99)}\n`,
    );
    const all = await runLoad(roundRobin, { concurrency: SESSIONS, ...DEFAULT_LOAD });
    process.stdout.write(
      `${broker.label}: ${SESSIONS} sessions, ${SESSIONS} in flight: ${integer(all.rate)} calls/s, p99 ${ms(all.p99)}\n`,
    );
    return { label: broker.label, setupMs, memoryPerSession, single, spread, all };
  } finally {
    await Promise.all(
      generators.map((generator, index) =>
        generator.close(ids.filter((_, id) => id % GENERATOR_CONNECTIONS === index)),
      ),
    );
    await peer.request({ op: 'stop', handle });
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const results: BrokerResults[] = [];
  const peer = await startPeer();
  try {
    for (const start of [startEmbeddedBroker, () => startMosquittoBroker()]) {
      const broker = await start();
      try {
        results.push(await measure(broker, peer));
      } finally {
        await broker.close();
      }
    }
  } finally {
    await peer.close();
  }

  const targets: TargetResult[] = [];
  const rows: string[][] = [];
  for (const result of results) {
    const line = (what: string, load: LoadResult, base?: LoadResult): string[] => [
      result.label,
      what,
      integer(load.rate),
      ms(load.p50),
      ms(load.p99),
      base ? ratio(load.p99, base.p99) : '1.00x',
    ];
    rows.push(
      line(`1 session, ${IN_FLIGHT} calls in flight (baseline)`, result.single),
      line(`${integer(SESSIONS)} sessions, ${IN_FLIGHT} calls in flight`, result.spread, result.single),
      line(`${integer(SESSIONS)} sessions, one call in flight each`, result.all, result.single),
    );
    targets.push({
      benchmark: `5. Sessions, ${result.label}`,
      target: `< 50 KiB per session with ${integer(SESSIONS)} sessions`,
      measured: `${kib(result.memoryPerSession.heapUsed)} heap, ${kib(result.memoryPerSession.rss)} RSS`,
      met: result.memoryPerSession.heapUsed < 50 * 1024,
    });
  }
  const body = [
    machineLines().join('\n'),
    '',
    `One \`serveMcpOverMqtt\` host (one MQTT connection, one SDK \`McpServer\` with the echo tool per session) in`,
    `its own process; ${integer(SESSIONS)} client sessions opened on it (100 initializes in flight), held open, and called.`,
    `The clients are a load generator speaking the binding on ${GENERATOR_CONNECTIONS} MQTT connections, each carrying`,
    `${integer(SESSIONS / GENERATOR_CONNECTIONS)} mcp-client-ids (initialize on the control topic, \`notifications/initialized\`, then`,
    "requests on each session's RPC topic): on the wire and for the server it is the same as separate clients,",
    'and it keeps the client side from dominating the measurement. Memory per session is the server',
    "process's growth (JS heap after a full GC, and RSS) from one session to all of them, divided by the",
    `sessions added. Latency: the same ${IN_FLIGHT} calls in flight on one session (baseline) and spread round robin`,
    'over every session, then every session with one call in flight. "p99 vs baseline" = p99 / baseline p99.',
    '',
    table(
      ['Broker', 'Memory per session (heap / RSS)', `Time to open ${integer(SESSIONS)} sessions`],
      results.map((result) => [
        result.label,
        `${kib(result.memoryPerSession.heapUsed)} / ${kib(result.memoryPerSession.rss)}`,
        ms(result.setupMs),
      ]),
    ),
    '',
    table(['Broker', 'Load', 'calls/s', 'p50', 'p99', 'p99 vs baseline'], rows),
  ].join('\n');
  await writeSection('Sessions: one server host, 1,000 client sessions', body);
  recordTargets('sessions', targets);
  process.stdout.write(`sessions benchmark done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

await main();
