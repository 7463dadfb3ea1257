// Shared fixtures of the reliability suite: a broker that can be stopped and restarted on the same port
// (embedded or Mosquitto, following the lane), a server process that can be killed, heap measurement, and
// small waiting helpers. Every wait has a deadline: a reliability test must fail, never hang.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startBroker } from '@mqtt-agents/broker';
import type { Broker, BrokerOptions } from '@mqtt-agents/broker';
import { startMosquitto, testBrokerKind } from '@mqtt-agents/broker/vitest';
import type { MosquittoProcess } from '@mqtt-agents/broker/vitest';
import { Role } from '@a2a-js/sdk';
import type { Message, Part } from '@a2a-js/sdk';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import type { Logger } from '@mqtt-agents/core';

export const brokerKind = testBrokerKind();

let sequence = 0;
/** An identifier no other test, file or lane uses. */
export function unique(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}-${Math.random().toString(36).slice(2, 8)}`;
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll a condition until it holds (for state that has no event), failing after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** A broker on a fixed port that can go away and come back (the embedded one in this process, or Mosquitto). */
export interface RestartableBroker {
  readonly url: string;
  readonly port: number;
  /** The embedded broker while it runs (undefined for Mosquitto). */
  readonly embedded: Broker | undefined;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startRestartableBroker(
  options: { embedded?: BrokerOptions; mosquittoConfig?: string[] } = {},
): Promise<RestartableBroker> {
  if (brokerKind === 'mosquitto') {
    let current: MosquittoProcess | undefined = await startMosquitto({
      config: options.mosquittoConfig ?? [],
    });
    const port = current.port;
    return {
      url: current.url,
      port,
      embedded: undefined,
      stop: async () => {
        await current?.close();
        current = undefined;
      },
      start: async () => {
        current = await startMosquitto({ port, config: options.mosquittoConfig ?? [] });
      },
      close: async () => {
        await current?.close();
        current = undefined;
      },
    };
  }
  let current: Broker | undefined = await startBroker({ host: '127.0.0.1', port: 0, ...options.embedded });
  const port = current.port;
  return {
    url: current.url,
    port,
    get embedded() {
      return current;
    },
    stop: async () => {
      await current?.close();
      current = undefined;
    },
    start: async () => {
      current = await startBroker({ host: '127.0.0.1', port, ...options.embedded });
    },
    close: async () => {
      await current?.close();
      current = undefined;
    },
  };
}

/** Heap after a full GC (needs --expose-gc, which the reliability project sets). */
export async function heapAfterGc(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (the reliability vitest project sets it)');
  for (let pass = 0; pass < 4; pass++) {
    gc();
    await delay(10);
  }
  return process.memoryUsage().heapUsed;
}

/** A logger that records what it is told, for asserting that bad input was reported. */
export function recordingLogger(): Logger & { lines: Array<{ level: string; message: string }> } {
  const lines: Array<{ level: string; message: string }> = [];
  const record =
    (level: string) =>
    (message: string): void => {
      lines.push({ level, message });
    };
  return {
    lines,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
}

/** Settle a promise into a result union, and remember when it settled. */
export interface Outcome<T> {
  ok: boolean;
  value?: T;
  error?: unknown;
  settledAt: number;
}

export function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value) => ({ ok: true, value, settledAt: Date.now() }),
    (error: unknown) => ({ ok: false, error, settledAt: Date.now() }),
  );
}

/** A server process (fixtures/server-process.ts) that the test can kill -9 or freeze. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly info: Record<string, string>;
  /** The lines the process printed after its ready line (the fleet server prints `ran <id>` per call). */
  readonly output: string[];
  /** Wait for the process to exit (after a kill). */
  exited: Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Spawn `fixtures/server-process.ts` serving `role` ('mcp' or 'a2a') on `url` with `keepalive` seconds; it
 * prints one JSON line with its ids when it is ready.
 */
export async function spawnServerProcess(
  role: 'mcp' | 'mcp-fleet' | 'a2a',
  options: { url: string; keepalive: number; name: string; args?: string[] },
): Promise<ServerProcess> {
  const script = fileURLToPath(new URL('./fixtures/server-process.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--conditions=@mqtt-agents/source',
      '--import',
      import.meta.resolve('tsx'),
      script,
      role,
      options.url,
      String(options.keepalive),
      options.name,
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  const output: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server process did not start: ${stderr}`)), 20_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as Record<string, string>);
      lines.on('line', (next) => output.push(next));
    });
    void exited.then(() => reject(new Error(`server process exited at start: ${stderr}`)));
  });
  return { child, info, output, exited, kill: (signal) => void child.kill(signal) };
}

/** A plain-text A2A part. */
export function textPart(value: string): Part {
  return { content: { $case: 'text', value }, mediaType: 'text/plain', filename: '', metadata: undefined };
}

/** A user message with one text part and a fresh message id (override any field with `fields`). */
export function userMessage(text: string, fields: Partial<Message> = {}): Message {
  return {
    messageId: globalThis.crypto.randomUUID(),
    contextId: '',
    taskId: '',
    role: Role.ROLE_USER,
    parts: [textPart(text)],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
    ...fields,
  };
}

/** Answers every request at once with the agent message `text`: nothing goes to the task store. */
export function answeringExecutor(text: string): AgentExecutor {
  return {
    async execute(context, bus) {
      bus.publish(
        AgentEvent.message(userMessage(text, { role: Role.ROLE_AGENT, contextId: context.contextId })),
      );
      bus.finished();
    },
    async cancelTask() {},
  };
}
