// Leaks: request/response cycles by the hundred thousand, with the heap measured after a full GC before and
// after. Everything runs in this process (both hosts, and the embedded broker in that lane), so whatever one
// cycle leaves behind anywhere shows up. Growth must stay under a bound far below what one leaked object per
// cycle would cost.
import { ClientFactory } from '@a2a-js/sdk/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { mqttTransportFactory, serveA2AOverMqtt } from '@mqtt-agents/a2a';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '@mqtt-agents/mcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { answeringExecutor, delay, heapAfterGc, unique, userMessage } from './helpers.js';

const MCP_CYCLES = Number(process.env.RELIABILITY_LEAK_CYCLES ?? 100_000);
const A2A_CYCLES = Number(process.env.RELIABILITY_A2A_LEAK_CYCLES ?? 20_000);
const CONCURRENCY = 64;
/** The A2A agent's duplicate window in the leak test. */
const DUPLICATE_WINDOW_MS = 1_000;
/** 2 MiB: about 20 bytes per MCP cycle; a leaked request record (a few hundred bytes) would be ten times more. */
const MAX_GROWTH_BYTES = 2 * 1024 * 1024;

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

/** Run `count` calls, CONCURRENCY at a time; returns how many succeeded. */
async function cycles(count: number, call: (index: number) => Promise<void>): Promise<number> {
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        await call(next++);
        done++;
      }
    }),
  );
  return done;
}

it(
  `${MCP_CYCLES.toLocaleString('en-US')} MCP tools/call cycles leave the heap where it was`,
  { timeout: 300_000 },
  async () => {
    const serverName = `leaks/${unique('press')}`;
    await using server = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName,
      description: 'leak check',
      createServer: () => {
        const mcp = new McpServer({ name: 'leaks', version: '1.0.0' });
        mcp.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
          content: [{ type: 'text', text }],
        }));
        return mcp;
      },
    });
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['leaks/#'],
    });
    const client = new Client({ name: 'leaks', version: '1.0.0' });
    await clients.connect(client, serverName);
    const call = async (index: number): Promise<void> => {
      const result = await client.callTool({ name: 'echo', arguments: { text: `call ${index}` } });
      if ((result.content as Array<{ text?: string }>)[0]?.text !== `call ${index}`)
        throw new Error('wrong answer');
    };

    // Warm up: JIT, pools and caches reach their steady size first.
    await cycles(5_000, call);
    const before = await heapAfterGc();
    expect(await cycles(MCP_CYCLES, call)).toBe(MCP_CYCLES);
    const after = await heapAfterGc();
    console.info(`heap growth over ${MCP_CYCLES} MCP cycles: ${after - before} bytes`);
    expect(after - before).toBeLessThan(MAX_GROWTH_BYTES);
    expect(server.sessions.size).toBe(1);
    await client.close();
  },
);

/** Answers with a plain Message: nothing goes to the task store, so nothing may stay behind. */
const pong = answeringExecutor('pong');

it(
  `${A2A_CYCLES.toLocaleString('en-US')} A2A SendMessage cycles leave the heap where it was, once the dedup windows have passed`,
  { timeout: 300_000 },
  async () => {
    const org = unique('org');
    await using agent = await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'pong',
      card: { name: 'Pong' },
      executor: pong,
      // The agent remembers every request for its duplicate window (10 minutes by default, bounded per
      // requester): a 1 s window lets the test see everything it remembered go away again.
      limits: { duplicateWindowMs: DUPLICATE_WINDOW_MS },
    });
    await using transports = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'requester',
    });
    const client = await new ClientFactory({ transports: [transports] }).createFromAgentCard(agent.card);
    const call = async (): Promise<void> => {
      const answer = await client.sendMessage({
        tenant: '',
        message: userMessage('ping'),
        configuration: undefined,
        metadata: undefined,
      });
      if (!('parts' in answer)) throw new Error('expected a message');
    };
    // Wait out the window (time is what bounds it), then one request prunes what expired.
    const windowPassed = async (): Promise<void> => {
      await delay(DUPLICATE_WINDOW_MS + 100);
      await call();
    };
    await cycles(12_000, call);
    await windowPassed();
    const before = await heapAfterGc();
    expect(await cycles(A2A_CYCLES, call)).toBe(A2A_CYCLES);
    await windowPassed();
    const after = await heapAfterGc();
    console.info(`heap growth over ${A2A_CYCLES} A2A cycles: ${after - before} bytes`);
    expect(after - before).toBeLessThan(MAX_GROWTH_BYTES);
  },
);
