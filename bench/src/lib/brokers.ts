/**
 * Brokers under test, each alone in its own process: the embedded broker in a forked Node.js process
 * (bench/src/embedded-broker.ts), Mosquitto as itself. Both answer `memory()` for the broker process.
 */
import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startMosquitto } from '@mqtt-agents/broker/vitest';
import { nodeArgs } from './node-args.js';

export type BrokerName = 'embedded' | 'mosquitto';

export interface BrokerUnderTest {
  readonly name: BrokerName;
  readonly label: string;
  readonly url: string;
  readonly port: number;
  /** RSS of the broker process, and the JS heap after a full GC for the embedded broker. */
  memory(): Promise<{ rss: number; heapUsed?: number }>;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(): Promise<BrokerUnderTest> {
  const script = fileURLToPath(new URL('../embedded-broker.ts', import.meta.url));
  const child = fork(script, [], {
    execArgv: nodeArgs('--expose-gc'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const request = <T>(type: string, reply: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: { type?: string }): void => {
        if (message.type !== reply) return;
        child.off('message', onMessage);
        resolve(message as T);
      };
      child.on('message', onMessage);
      void exited.then((code) => reject(new Error(`embedded broker exited with code ${code}`)));
      if (type) child.send({ type });
    });
  const { port } = await request<{ port: number }>('', 'ready');
  let closing: Promise<void> | undefined;
  return {
    name: 'embedded',
    label: 'embedded broker',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    memory: async () => {
      const { rss, heapUsed } = await request<{ rss: number; heapUsed: number }>('memory', 'memory');
      return { rss, heapUsed };
    },
    close: () =>
      (closing ??= (async () => {
        if (child.exitCode === null) child.send({ type: 'close' });
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      })()),
  };
}

export interface MosquittoBenchOptions {
  /** Default true (`set_tcp_nodelay true`); false leaves Nagle's algorithm on, Mosquitto's default. */
  noDelay?: boolean;
  /** More mosquitto.conf lines. */
  config?: string[];
}

/** The pid of the process listening on a loopback port (Mosquitto's helper does not expose it). */
async function pidListeningOn(port: number): Promise<number | undefined> {
  const { readdir, readlink } = await import('node:fs/promises');
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const rows = (await readFile('/proc/net/tcp', 'utf8')).split('\n').slice(1);
  const inode = rows
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A')?.[9];
  if (!inode) return undefined;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      for (const fd of await readdir(`/proc/${entry}/fd`)) {
        if ((await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '')) === `socket:[${inode}]`)
          return Number(entry);
      }
    } catch {
      // Not ours to read.
    }
  }
  return undefined;
}

export async function startMosquittoBroker(options: MosquittoBenchOptions = {}): Promise<BrokerUnderTest> {
  const noDelay = options.noDelay ?? true;
  // startMosquitto writes `set_tcp_nodelay true`; a later line wins in mosquitto.conf.
  const mosquitto = await startMosquitto({
    config: [...(noDelay ? [] : ['set_tcp_nodelay false']), ...(options.config ?? [])],
  });
  const pid = await pidListeningOn(mosquitto.port).catch(() => undefined);
  return {
    name: 'mosquitto',
    label: noDelay ? 'Mosquitto' : 'Mosquitto, Nagle on',
    url: mosquitto.url,
    port: mosquitto.port,
    memory: async () => {
      if (pid === undefined) return { rss: Number.NaN };
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      return { rss: Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024 };
    },
    close: () => mosquitto.close(),
  };
}

export function startBrokerByName(
  name: BrokerName,
  options: MosquittoBenchOptions = {},
): Promise<BrokerUnderTest> {
  return name === 'embedded' ? startEmbeddedBroker() : startMosquittoBroker(options);
}
