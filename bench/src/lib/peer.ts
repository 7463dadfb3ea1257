/**
 * The parent's side of bench/src/peer-process.ts: fork it and ask it to serve things (and to record a CPU
 * profile: BENCH_PROFILE=1 turns on the source maps that profiles are mapped with).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeArgs } from './node-args.js';

export type PeerRequest =
  | { op: 'mcp-http'; json: boolean }
  | { op: 'mcp-mqtt'; brokerUrl: string; serverName: string }
  | {
      op: 'mcp-instance';
      brokerUrl: string;
      serverName: string;
      serverId: string;
      keepaliveSeconds: number;
    }
  | { op: 'crash'; handle: number }
  | { op: 'drain'; handle: number; graceMs: number }
  | { op: 'raw-echo'; brokerUrl: string; requestTopic: string; noDelay: boolean }
  | { op: 'a2a-http' }
  | { op: 'a2a-mqtt'; brokerUrl: string; address: { org: string; unit: string; agentId: string } }
  | { op: 'sessions'; handle: number }
  | { op: 'memory' }
  | { op: 'cpu' }
  | { op: 'profile-start'; file: string }
  | { op: 'profile-stop' }
  | { op: 'stop'; handle: number }
  | { op: 'exit' };

interface PeerReply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface Peer {
  request<T>(request: PeerRequest): Promise<T>;
  close(): Promise<void>;
}

export async function startPeer(): Promise<Peer> {
  const script = fileURLToPath(new URL('../peer-process.ts', import.meta.url));
  const child: ChildProcess = fork(script, [], {
    execArgv: nodeArgs('--expose-gc', ...(process.env.BENCH_PROFILE === '1' ? ['--enable-source-maps'] : [])),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  child.on('message', (reply: PeerReply) => {
    if (reply.id === 0) return ready();
    const waiter = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (reply.ok) waiter?.resolve(reply.result);
    else waiter?.reject(new Error(`peer: ${reply.error}`));
  });
  void exited.then(() => {
    for (const waiter of waiting.values()) waiter.reject(new Error('peer process exited'));
    waiting.clear();
  });
  await Promise.race([started, exited.then(() => Promise.reject(new Error('peer process exited at start')))]);
  let closing: Promise<void> | undefined;
  return {
    request: <T>(request: PeerRequest) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ ...request, id });
      }),
    close: () =>
      (closing ??= (async () => {
        if (child.exitCode === null && child.connected) child.send({ op: 'exit', id: nextId++ });
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      })()),
  };
}
