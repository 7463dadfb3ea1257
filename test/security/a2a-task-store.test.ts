// Defect 11 (issue 12): the default task store of `serveA2AOverMqtt` grew forever (20,000 tasks took an agent
// from 95 to 308 MiB and it stayed there). The default is now a bounded store (TTL, count and bytes; terminal
// tasks evicted first). Measured in a child process after a full GC: 5,000 tasks of 4 KiB each with a cap of
// 100 tasks leave the heap within a ceiling far below what keeping them costs (44 MiB).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { unique } from './helpers.js';

const TASKS = 5_000;
/**
 * 16 MiB. Measured: 8.5 MiB with the bounded store (the duplicate window's 5,000 entries, about 3 MiB, the
 * delivery map and 100 tasks), 43.7 MiB when every task is kept (the SDK's InMemoryTaskStore).
 */
const MAX_HEAP_GROWTH = 16 * 1024 * 1024;

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

interface Child {
  process: ChildProcess;
  lines: Interface;
  request(line: string): Promise<Record<string, unknown>>;
}

async function spawnAgent(
  org: string,
  options: Record<string, unknown>,
): Promise<Child & { requestTopic: string }> {
  const script = fileURLToPath(new URL('./a2a-agent-child.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--conditions=@mqtt-agents/source',
      '--import',
      import.meta.resolve('tsx'),
      script,
      broker.url,
      org,
      JSON.stringify(options),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const queue: Array<(value: Record<string, unknown>) => void> = [];
  const first = new Promise<Record<string, unknown>>((resolve, reject) => {
    queue.push(resolve);
    child.once('exit', () => reject(new Error(`agent process exited: ${stderr}`)));
  });
  lines.on('line', (line) => queue.shift()?.(JSON.parse(line) as Record<string, unknown>));
  const ready = await first;
  return {
    process: child,
    lines,
    requestTopic: ready.requestTopic as string,
    request(line: string) {
      return new Promise((resolve) => {
        queue.push(resolve);
        child.stdin!.write(`${line}\n`);
      });
    },
  };
}

it(
  `keeps the agent's heap bounded over ${TASKS.toLocaleString('en-US')} tasks with the default task store (small cap)`,
  { timeout: 60_000 },
  async () => {
    const org = unique('org');
    const agent = await spawnAgent(org, {
      taskLimits: { maxTasks: 100 },
      limits: { maxQueuedRequests: 2 * TASKS },
    });
    const client = mqtt.connect(broker.url, {
      protocolVersion: 5,
      clientId: unique('load'),
      reconnectPeriod: 0,
    });
    try {
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      const replyTopic = `$a2a/v1/reply/${org}/u/load/${unique('s')}`;
      let replies = 0;
      let wake: (() => void) | undefined;
      let target = 0;
      client.on('message', () => {
        replies++;
        if (replies >= target) wake?.();
      });
      await client.subscribeAsync(replyTopic, { qos: 1 });
      const run = async (count: number) => {
        target = replies + count;
        const done = new Promise<void>((resolve) => (wake = resolve));
        for (let index = 0; index < count; index++) {
          const body = {
            jsonrpc: '2.0',
            id: index,
            method: 'SendMessage',
            params: {
              message: {
                messageId: globalThis.crypto.randomUUID(),
                taskId: globalThis.crypto.randomUUID(),
                role: 'ROLE_USER',
                parts: [{ text: `task ${index}` }],
              },
            },
          };
          client.publish(agent.requestTopic, JSON.stringify(body), {
            qos: 1,
            properties: { responseTopic: replyTopic, correlationData: Buffer.from(`c-${replies}-${index}`) },
          });
        }
        await done;
      };
      // Warm up: JIT, pools, and the store filled to its cap.
      await run(500);
      const before = (await agent.request('stats')) as { heapUsed: number; executions: number };
      await run(TASKS);
      const after = (await agent.request('stats')) as { heapUsed: number; executions: number };
      expect(after.executions - before.executions).toBe(TASKS);
      const growth = after.heapUsed - before.heapUsed;
      console.info(`agent heap growth over ${TASKS} tasks: ${(growth / 1024 / 1024).toFixed(1)} MiB`);
      expect(growth).toBeLessThan(MAX_HEAP_GROWTH);
    } finally {
      await client.endAsync(true);
      agent.process.stdin!.write('close\n');
      await new Promise<void>((resolve) => {
        if (agent.process.exitCode !== null) resolve();
        else agent.process.once('exit', () => resolve());
      });
    }
  },
);
