/**
 * The embedded broker alone in its own process, driven by bench/src/broker.ts over IPC, so that its CPU and
 * memory are measured apart from the benchmark clients (as Mosquitto's are).
 *
 * Messages in: `{ type: 'memory' }` (answered with `{ type: 'memory', rss, heapUsed, clients }` after a full
 * GC), `{ type: 'close' }`. Message out at start: `{ type: 'ready', port }`.
 */
import { startBroker } from '@mqtt-agents/broker';

const broker = await startBroker({ host: '127.0.0.1', port: 0 });

function send(message: Record<string, unknown>): void {
  process.send?.(message);
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Several passes: weak references and finalizers release more on the later ones.
  for (let pass = 0; pass < 3; pass++) gc?.();
}

async function shutdown(): Promise<void> {
  await broker.close();
  process.exit(0);
}

process.on('message', (message: { type?: string }) => {
  if (message.type === 'memory') {
    collectGarbage();
    const usage = process.memoryUsage();
    send({ type: 'memory', rss: usage.rss, heapUsed: usage.heapUsed, clients: broker.clientCount });
  } else if (message.type === 'close') {
    void shutdown();
  }
});
process.on('disconnect', () => void shutdown());

send({ type: 'ready', port: broker.port });
