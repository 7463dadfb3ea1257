import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A Mosquitto process started for one test file, on a free loopback port. */
export interface MosquittoProcess {
  readonly url: string;
  readonly port: number;
  /** Everything Mosquitto wrote to stdout and stderr so far, for failure messages. */
  output(): string;
  /** Stop the Mosquitto process and remove its temporary files. Idempotent. */
  close(): Promise<void>;
}

/** Which Mosquitto binary `startMosquitto` runs, on which port, with which extra configuration. */
export interface StartMosquittoOptions {
  /** Path of the binary; defaults to `MOSQUITTO_BIN` or `mosquitto` on PATH. */
  binary?: string;
  /** Extra lines for mosquitto.conf. */
  config?: string[];
  /** Port to listen on; a free one is picked by default. */
  port?: number;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`mosquitto exited with code ${child.exitCode}: ${output()}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on port ${port}: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Start a private Mosquitto 2.x with a minimal configuration (anonymous, loopback, no persistence,
 * `set_tcp_nodelay true`). Used by the test lane that runs every broker-backed suite against Mosquitto.
 */
export async function startMosquitto(options: StartMosquittoOptions = {}): Promise<MosquittoProcess> {
  const binary = options.binary ?? process.env.MOSQUITTO_BIN ?? 'mosquitto';
  const directory = await mkdtemp(join(tmpdir(), 'mqtt-agents-mosquitto-'));
  const configFile = join(directory, 'mosquitto.conf');
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await freePort());
    const config = [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'set_tcp_nodelay true',
      'max_queued_messages 100000',
      'log_dest stdout',
      'log_type error',
      'log_type warning',
      // Started as root, Mosquitto switches to the `mosquitto` user before it reads certificates and plugin
      // files, which then cannot be read from a private directory such as a fresh checkout under mktemp.
      // A test broker stays the user that started it.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      ...(options.config ?? []),
    ];
    await writeFile(configFile, `${config.join('\n')}\n`);
    const child = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await waitForPort(port, child, () => output);
    } catch (error) {
      child.kill('SIGKILL');
      await exited;
      // Another process may have taken the free port between probing and binding: try again.
      if (attempt < 3 && options.port === undefined) continue;
      await rm(directory, { recursive: true, force: true });
      throw error;
    }
    let closed: Promise<void> | undefined;
    return {
      url: `mqtt://127.0.0.1:${port}`,
      port,
      output: () => output,
      close: () =>
        (closed ??= (async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
          await exited;
          clearTimeout(timer);
          await rm(directory, { recursive: true, force: true });
        })()),
    };
  }
}
