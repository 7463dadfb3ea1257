/**
 * Failover (issue 14): how long a client session is without its server when the instance it uses goes
 * away, and how that compares with what a client would wait for without failover. Per trial, two instances
 * of one server name run in the peer process; an SDK `Client` in this process has its session on the first
 * and calls `tools/call` back to back (one call in flight). Then the first instance
 *   (a) crashes: its socket is destroyed without DISCONNECT, the broker publishes its will;
 *   (a') is killed: the same, for real: that instance runs in a process of its own, which gets SIGKILL;
 *   (b) drains: `host.drain()`, its presence says `draining`.
 * Time to recover = from that moment (taken in the process that crashes, kills or drains) until the first
 * call answered by the second instance returns here. Baselines, from the same configuration: the MQTT keep-alive (a broker
 * notices a dead peer that keeps its socket open after 1.5 x keep-alive) and the health-check interval.
 * Both brokers, each in its own process. Nothing here gates anything.
 *
 *   node --import tsx bench/src/failover.ts
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createMcpMqttClientHost, sessionLostDetails } from '@mqtt-agents/mcp';
import type { McpClientHost, McpFailoverEvent } from '@mqtt-agents/mcp';
import { startEmbeddedBroker, startMosquittoBroker, type BrokerUnderTest } from './lib/brokers.js';
import { median, percentile } from './lib/measure.js';
import { nodeArgs } from './lib/node-args.js';
import { startPeer, type Peer } from './lib/peer.js';
import { integer, machineLines, ms, table, writeSection } from './lib/report.js';

const TRIALS = Number(process.env.BENCH_FAILOVER_TRIALS ?? 20);
/**
 * MQTT keep-alive of every connection here (instances and client host), in seconds: 60, the default of
 * `@mqtt-agents/core`'s `connectMqtt`, set explicitly so that the baseline is the configuration measured.
 */
const KEEPALIVE_S = 60;
/** A broker closes a connection that sent nothing for 1.5 x keep-alive (MQTT 5, 3.1.2.10). */
const KEEPALIVE_DETECTION_MS = 1.5 * KEEPALIVE_S * 1000;
/** The health check docs/mcp-server.md configures: a ping every 30 s, 10 s to answer. */
const HEALTH_CHECK = { intervalMs: 30_000, timeoutMs: 10_000 };
/** Longest one trial may take to recover before it counts as failed. */
const TRIAL_LIMIT_MS = 10_000;
const DRAIN_GRACE_MS = 30_000;

type Loss = 'crash' | 'kill' | 'drain';
const LOSSES: readonly Loss[] = ['crash', 'kill', 'drain'];

interface Trial {
  /** Kill or drain → first call answered by the other instance. */
  recoveryMs: number;
  /** Kill or drain → the client host noticed (the failover event's start). */
  noticedMs: number;
  /** The move itself: the failover event's durationMs. */
  moveMs: number;
  reason: string;
  /** Calls that failed with the session-lost error and were sent again by the caller. */
  lostCalls: number;
}

interface Outcome {
  trials: Trial[];
  failures: string[];
}

const epochNow = (): number => performance.timeOrigin + performance.now();

async function where(client: Client): Promise<string> {
  const result = (await client.callTool({ name: 'where', arguments: {} }, undefined, {
    timeout: TRIAL_LIMIT_MS,
  })) as { content?: Array<{ text?: string }> };
  return result.content?.[0]?.text ?? '';
}

/** Resolves once every id in `serverIds` is online in the client host's discovery. */
async function online(clients: McpClientHost, serverIds: readonly string[]): Promise<void> {
  const waiting = new Set(serverIds);
  const stop = AbortSignal.timeout(TRIAL_LIMIT_MS);
  for await (const change of clients.discover({ signal: stop })) {
    if (change.type === 'online') waiting.delete(change.server.serverId);
    if (waiting.size === 0) return;
  }
  throw new Error(`instances ${[...waiting].join(', ')} did not come online`);
}

function nextFailover(
  clients: McpClientHost,
  serverName: string,
): Promise<McpFailoverEvent & { at: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('no failover event'));
    }, TRIAL_LIMIT_MS);
    const off = clients.on('failover', (event) => {
      if (event.serverName !== serverName) return;
      clearTimeout(timer);
      off();
      resolve({ ...event, at: epochNow() });
    });
  });
}

/** A server instance of one trial: `lose` crashes, kills or drains it and says when (epoch ms). */
interface Instance {
  lose(loss: Loss): Promise<number>;
  stop(): Promise<void>;
}

async function peerInstance(
  peer: Peer,
  request: { brokerUrl: string; serverName: string; serverId: string },
): Promise<Instance> {
  const { handle } = await peer.request<{ handle: number }>({
    op: 'mcp-instance',
    ...request,
    keepaliveSeconds: KEEPALIVE_S,
  });
  return {
    lose: async (loss) => {
      const { at } = await peer.request<{ at: number }>(
        loss === 'drain' ? { op: 'drain', handle, graceMs: DRAIN_GRACE_MS } : { op: 'crash', handle },
      );
      return at;
    },
    stop: () => peer.request({ op: 'stop', handle }).then(() => undefined),
  };
}

/** The instance in a process of its own (bench/src/failover-instance.ts), for the kill -9 trials. */
async function processInstance(request: {
  brokerUrl: string;
  serverName: string;
  serverId: string;
}): Promise<Instance> {
  const script = fileURLToPath(new URL('./failover-instance.ts', import.meta.url));
  const child = fork(script, [request.brokerUrl, request.serverName, request.serverId, String(KEEPALIVE_S)], {
    execArgv: nodeArgs(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([
    new Promise<void>((resolve) => child.once('message', () => resolve())),
    exited.then(() => Promise.reject(new Error('the instance process exited at start'))),
  ]);
  return {
    lose: async () => {
      const at = epochNow();
      child.kill('SIGKILL');
      return at;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function trial(peer: Peer, clients: McpClientHost, brokerUrl: string, loss: Loss): Promise<Trial> {
  const tag = randomUUID().slice(0, 8);
  const serverName = `bench/failover/${tag}`;
  const [first, second] = [`${loss}-${tag}-a`, `${loss}-${tag}-b`] as const;
  const up = online(clients, [first, second]);
  const instances = await Promise.all([
    loss === 'kill'
      ? processInstance({ brokerUrl, serverName, serverId: first })
      : peerInstance(peer, { brokerUrl, serverName, serverId: first }),
    peerInstance(peer, { brokerUrl, serverName, serverId: second }),
  ]);
  const client = new Client({ name: 'bench-failover', version: '1.0.0' });
  // The session is in use: one call in flight at a time, back to back, until the other instance answers.
  let recovering = true;
  try {
    await up;
    await clients.connect(client, serverName, { serverId: first });
    if ((await where(client)) !== first) throw new Error(`the session is not on ${first}`);
    const moved = nextFailover(clients, serverName);
    const recovered = (async () => {
      let lostCalls = 0;
      const deadline = performance.now() + 2 * TRIAL_LIMIT_MS;
      while (recovering && performance.now() < deadline) {
        try {
          if ((await where(client)) === second) return { at: epochNow(), lostCalls };
        } catch (error) {
          // A call in flight when the instance died: it may have run; the caller sends it again.
          if (!sessionLostDetails(error)) throw error;
          lostCalls += 1;
        }
      }
      throw new Error(`${second} did not answer`);
    })();
    // Awaited below; until then a rejection must not count as unhandled.
    recovered.catch(() => undefined);
    moved.catch(() => undefined);
    const at = await instances[0].lose(loss);
    const [done, event] = await Promise.all([recovered, moved]);
    if (event.outcome !== 'moved' || event.to !== second) {
      throw new Error(`the session moved to ${event.to ?? 'nowhere'}`);
    }
    return {
      recoveryMs: done.at - at,
      noticedMs: event.at - event.durationMs - at,
      moveMs: event.durationMs,
      reason: event.reason,
      lostCalls: done.lostCalls,
    };
  } finally {
    recovering = false;
    await client.close().catch(() => undefined);
    for (const instance of instances) await instance.stop().catch(() => undefined);
  }
}

async function measure(peer: Peer, broker: BrokerUnderTest): Promise<Map<Loss, Outcome>> {
  const outcomes = new Map<Loss, Outcome>(LOSSES.map((loss) => [loss, { trials: [], failures: [] }]));
  await using clients = await createMcpMqttClientHost({
    mqtt: { url: broker.url, keepalive: KEEPALIVE_S },
    serverNameFilters: ['bench/failover/#'],
  });
  // One warm-up trial of each kind (not recorded), then the kinds alternate, so a drift in the machine's
  // load lands on both.
  for (const loss of LOSSES) await trial(peer, clients, broker.url, loss).catch(() => undefined);
  for (let index = 0; index < TRIALS; index++) {
    for (const loss of LOSSES) {
      const outcome = outcomes.get(loss)!;
      try {
        outcome.trials.push(await trial(peer, clients, broker.url, loss));
      } catch (error) {
        outcome.failures.push(error instanceof Error ? error.message : String(error));
      }
    }
  }
  for (const loss of LOSSES) {
    const { trials, failures } = outcomes.get(loss)!;
    const recovery = trials.map((entry) => entry.recoveryMs).sort((a, b) => a - b);
    process.stdout.write(
      `${broker.label.padEnd(16)} ${loss.padEnd(6)} ${trials.length} trials  recovery median ${ms(median(recovery))}  p95 ${ms(percentile(recovery, 0.95))}${failures.length ? `  ${failures.length} failed (${failures[0]})` : ''}\n`,
    );
  }
  return outcomes;
}

// --- Report ----------------------------------------------------------------------------------------------------

/** How many times the baseline is longer: whole numbers, the ratios are in the thousands. */
const times = (baseline: number, measured: number): string =>
  measured > 0 && Number.isFinite(measured) ? `${integer(baseline / measured)}x` : 'n/a';

const LOSS_LABEL: Record<Loss, string> = {
  crash: 'crash (socket destroyed, will)',
  kill: 'kill -9 of its process (will)',
  drain: 'graceful drain (`host.drain()`)',
};

function rows(label: string, outcomes: Map<Loss, Outcome>): string[][] {
  return LOSSES.map((loss) => {
    const { trials, failures } = outcomes.get(loss)!;
    const sorted = (pick: (entry: Trial) => number): number[] => trials.map(pick).sort((a, b) => a - b);
    const recovery = sorted((entry) => entry.recoveryMs);
    const noticed = sorted((entry) => entry.noticedMs);
    const move = sorted((entry) => entry.moveMs);
    const p50 = median(recovery);
    const p95 = percentile(recovery, 0.95);
    const reasons = [...new Set(trials.map((entry) => entry.reason))].join(', ') || 'n/a';
    const lost = trials.reduce((sum, entry) => sum + entry.lostCalls, 0);
    return [
      label,
      LOSS_LABEL[loss],
      `${trials.length}${failures.length ? ` (${failures.length} failed)` : ''}`,
      `${ms(p50)} / ${ms(p95)}`,
      `${ms(median(noticed))} / ${ms(median(move))}`,
      reasons,
      String(lost),
      `${times(KEEPALIVE_DETECTION_MS, p50)} / ${times(KEEPALIVE_DETECTION_MS, p95)}`,
      `${times(HEALTH_CHECK.intervalMs, p50)} / ${times(HEALTH_CHECK.intervalMs, p95)}`,
    ];
  });
}

function section(results: Array<{ broker: BrokerUnderTest; outcomes: Map<Loss, Outcome> }>): string {
  const keepalive = `${KEEPALIVE_DETECTION_MS / 1000} s`;
  return [
    machineLines().join('\n'),
    `- Run on ${new Date().toISOString().slice(0, 10)}; ${TRIALS} trials of each kind per broker (\`BENCH_FAILOVER_TRIALS\`), after one warm-up trial each, the kinds alternating`,
    '',
    'Time to recover: a session is in use (an SDK `Client` calls `tools/call` back to back, one call in flight)',
    'on the first of two instances of a server name, both in the peer process; the client host (failover on,',
    'its defaults) runs in the benchmark process, each broker in its own. Then the first instance crashes (its',
    'MQTT socket is destroyed without DISCONNECT: the broker publishes the will, an empty retained presence), is',
    'killed (the same for real: that instance runs in a process of its own, which gets SIGKILL; the kernel',
    'closes its socket) or drains (`host.drain()`, a retained presence with `draining: true`). Measured from',
    'that moment, taken in the process that crashes, kills or drains the instance, until the first call',
    'answered by the second instance returns to the client. A call in flight at a crash or kill fails with the',
    'session-lost error and is sent again by the caller ("lost calls", over all trials); at a drain it is',
    'answered by the draining instance.',
    '"Noticed / move" splits the median: from the loss until the client host saw it (the failover',
    "event's start), and the move itself (its `durationMs`, whole ms: placement, `initialize` replayed on the new",
    'instance); the rest of the recovery is the call that the new instance answers.',
    '',
    `The baselines are the configuration, not measurements. Every connection here uses an MQTT keep-alive of`,
    `${KEEPALIVE_S} s (the \`@mqtt-agents/core\` default, set explicitly): a broker notices a dead peer that does not close`,
    `its socket (a host that loses power, a cut cable, a frozen process) only after 1.5 x keep-alive = ${keepalive},`,
    `and only then publishes the will. A health check as docs/mcp-server.md configures it (\`intervalMs: ${HEALTH_CHECK.intervalMs}\`,`,
    `\`timeoutMs: ${HEALTH_CHECK.timeoutMs}\`) notices a silent instance ${HEALTH_CHECK.timeoutMs / 1000} to ${(HEALTH_CHECK.intervalMs + HEALTH_CHECK.timeoutMs) / 1000} s after it fell silent. "x" = baseline / time to`,
    'recover, at the median and at p95: how many times sooner the session is back than a client would even learn',
    'of the loss that way. A crash that leaves the socket open is detected by those timers, not by the will:',
    'there failover saves only the move, not the wait.',
    '',
    table(
      [
        'Broker',
        'Loss',
        'Trials',
        'Recovery p50 / p95',
        'Noticed / move (p50)',
        'Reason',
        'Lost calls',
        `vs keep-alive ${keepalive} (p50 / p95)`,
        `vs health-check interval ${HEALTH_CHECK.intervalMs / 1000} s (p50 / p95)`,
      ],
      results.flatMap(({ broker, outcomes }) => rows(broker.label, outcomes)),
    ),
    '',
    'Reproduce with `node --import tsx bench/src/failover.ts` (after `pnpm build`) or as a step of `pnpm bench`.',
  ].join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  const peer = await startPeer();
  const results: Array<{ broker: BrokerUnderTest; outcomes: Map<Loss, Outcome> }> = [];
  try {
    for (const start of [startEmbeddedBroker, startMosquittoBroker]) {
      const broker = await start();
      try {
        results.push({ broker, outcomes: await measure(peer, broker) });
      } finally {
        await broker.close();
      }
    }
  } finally {
    await peer.close();
  }
  const body = section(results);
  await writeSection('Failover: time to recover', body);
  process.stdout.write(
    `\n${body}\n\nfailover benchmark done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

await main();
