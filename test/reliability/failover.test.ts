// Failover and rolling upgrades with real processes: instances of one MCP server in their own processes,
// killed with SIGKILL (the kernel closes the socket, the broker publishes the will) or stopped with SIGTERM
// (they drain). Outcomes are asserted, never durations: every call completes or fails with the typed
// retriable error, none runs twice, none hangs, and every session ends up live on a surviving instance.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { createMcpMqttClientHost, sessionLostDetails } from '@mqtt-agents/mcp';
import type { McpClientHost, McpMqttClientTransport } from '@mqtt-agents/mcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServerProcess, unique } from './helpers.js';
import type { ServerProcess } from './helpers.js';

const KEEPALIVE_S = 2;
const CLIENTS = 10;
const CALLS_PER_CLIENT = 100;
/** A call that takes longer than this hangs, as far as these tests are concerned. */
const CALL_TIMEOUT_MS = 20_000;
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

function fleet(name: string, args: string[] = []): Promise<ServerProcess> {
  return spawnServerProcess('mcp-fleet', { url: broker.url, keepalive: KEEPALIVE_S, name, args });
}

function textOf(result: unknown): string {
  return String((result as { content?: Array<{ text?: string }> }).content?.[0]?.text);
}

/** How many times each call id ran, over every instance (killed ones included). */
async function runs(processes: ServerProcess[]): Promise<Map<string, number>> {
  await new Promise((resolve) => setImmediate(resolve));
  const counts = new Map<string, number>();
  for (const process of processes) {
    for (const line of process.output) {
      if (line.startsWith('ran ')) counts.set(line.slice(4), (counts.get(line.slice(4)) ?? 0) + 1);
    }
  }
  return counts;
}

interface Session {
  host: McpClientHost;
  client: Client;
  transport: McpMqttClientTransport;
}

async function sessions(name: string, count: number): Promise<Session[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const host = await createMcpMqttClientHost({
        mqtt: { url: broker.url },
        serverNameFilters: [name],
      });
      const client = new Client({ name: `load-${index}`, version: '1.0.0' });
      const transport = await host.connect(client, name, { select: 'round-robin' });
      return { host, client, transport };
    }),
  );
}

async function closeSessions(list: Session[]): Promise<void> {
  await Promise.all(list.map(({ client, host }) => client.close().finally(() => host.close())));
}

type Outcome = { id: string; ok: true } | { id: string; ok: false; error: unknown };

describe('failover between instance processes', { timeout: 180_000 }, () => {
  it('kill -9 of the busiest of 3 instances under 1,000 calls from 10 clients: every call completes or fails retriably, none twice, every session lives on', async () => {
    const name = `reliability/${unique('fleet')}`;
    const processes = await Promise.all([fleet(name), fleet(name), fleet(name)]);
    try {
      const list = await sessions(name, CLIENTS);
      let done = 0;
      let killed: ServerProcess | undefined;
      const killAt = Math.floor((CLIENTS * CALLS_PER_CLIENT) / 3);
      const killBusiest = (): void => {
        const load = new Map<string, number>();
        for (const { transport } of list)
          load.set(transport.serverId, (load.get(transport.serverId) ?? 0) + 1);
        const busiest = [...load].sort((a, b) => b[1] - a[1])[0]![0];
        killed = processes.find((process) => process.info.serverId === busiest)!;
        killed.kill('SIGKILL');
      };
      const outcomes = await Promise.all(
        list.map(async ({ client }, clientIndex) => {
          const mine: Outcome[] = [];
          for (let call = 0; call < CALLS_PER_CLIENT; call++) {
            const id = `${clientIndex}-${call}`;
            try {
              const result = await client.callTool({ name: 'work', arguments: { id } }, undefined, {
                timeout: CALL_TIMEOUT_MS,
              });
              expect(textOf(result)).toMatch(new RegExp(`:${id}$`));
              mine.push({ id, ok: true });
            } catch (error) {
              mine.push({ id, ok: false, error });
            }
            if (++done === killAt) killBusiest();
          }
          return mine;
        }),
      );
      expect(killed).toBeDefined();
      await killed!.exited;
      const all = outcomes.flat();
      expect(all).toHaveLength(CLIENTS * CALLS_PER_CLIENT);
      const failed = all.filter((outcome) => !outcome.ok);
      // Each client has one call in flight at a time: at most one lost per session on the killed instance.
      expect(failed.length).toBeLessThanOrEqual(CLIENTS);
      for (const outcome of failed) {
        expect(sessionLostDetails((outcome as { error: unknown }).error)).toMatchObject({
          retriable: true,
          method: 'tools/call',
          serverId: killed!.info.serverId,
        });
      }
      const counts = await runs(processes);
      for (const outcome of all) {
        expect(counts.get(outcome.id) ?? 0).toBeLessThanOrEqual(1);
        if (outcome.ok) expect(counts.get(outcome.id)).toBe(1);
      }
      for (const { client, transport } of list) {
        expect(transport.serverId).not.toBe(killed!.info.serverId);
        expect(textOf(await client.callTool({ name: 'where', arguments: {} }))).toBe(transport.serverId);
      }
      expect(list.filter(({ transport }) => transport.failovers > 0).length).toBeGreaterThan(0);
      await closeSessions(list);
    } finally {
      for (const process of processes) process.kill('SIGKILL');
    }
  });

  it('rolling restart of 3 instances (each drains on SIGTERM) under 10 clients: 0 failed calls', async () => {
    const name = `reliability/${unique('rolling')}`;
    const original = await Promise.all([fleet(name), fleet(name), fleet(name)]);
    const started: ServerProcess[] = [...original];
    try {
      const list = await sessions(name, CLIENTS);
      let stop = false;
      const failures: unknown[] = [];
      let calls = 0;
      const load = Promise.all(
        list.map(async ({ client }, clientIndex) => {
          for (let call = 0; !stop; call++) {
            try {
              await client.callTool(
                { name: 'work', arguments: { id: `${clientIndex}-${call}` } },
                undefined,
                {
                  timeout: CALL_TIMEOUT_MS,
                },
              );
              calls += 1;
            } catch (error) {
              failures.push(error);
            }
          }
        }),
      );
      const watcher = list[0]!.host;
      for (const old of original) {
        const replacement = await fleet(name);
        started.push(replacement);
        await watcher.waitForServer(name);
        await expect
          .poll(() => watcher.instancesOf(name).some((i) => i.serverId === replacement.info.serverId))
          .toBe(true);
        const before = calls;
        old.kill('SIGTERM');
        await old.exited;
        expect(old.output.some((line) => line.startsWith('drained '))).toBe(true);
        const drained = JSON.parse(old.output.find((line) => line.startsWith('drained '))!.slice(8)) as {
          sessionsClosedAtDeadline: number;
        };
        expect(drained.sessionsClosedAtDeadline).toBe(0);
        // Calls went on while the instance drained.
        await expect.poll(() => calls).toBeGreaterThan(before);
      }
      stop = true;
      await load;
      expect(failures).toEqual([]);
      const survivors = new Set(started.slice(3).map((process) => process.info.serverId));
      for (const { transport } of list) expect(survivors.has(transport.serverId)).toBe(true);
      await closeSessions(list);
    } finally {
      for (const process of started) process.kill('SIGKILL');
    }
  });

  it('mcp connect: the stdio host keeps its server across kill -9 of the instance, and hears list_changed', async () => {
    const name = `reliability/${unique('stdio')}`;
    const first = await fleet(name);
    const second = await fleet(name, ['extra-tool']);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [
        '--conditions=@mqtt-agents/source',
        '--import',
        'tsx',
        join(repoRoot, 'packages/cli/src/run.ts'),
        'mcp',
        'connect',
        name,
        '--url',
        broker.url,
        '--server-id',
        first.info.serverId!,
      ],
      cwd: repoRoot,
      env: { ...(process.env as Record<string, string>), MQTT_URL: '', DEBUG: '' },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'stdio-host', version: '1.0.0' });
    let listChanged = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void (listChanged += 1));
    let closed = false;
    client.onclose = () => (closed = true);
    try {
      await client.connect(transport);
      expect((await client.listTools()).tools.map((tool) => tool.name)).not.toContain('calibrate');
      expect(textOf(await client.callTool({ name: 'where', arguments: {} }))).toBe(first.info.serverId);
      first.kill('SIGKILL');
      const outcomes: Outcome[] = [];
      for (let call = 0; call < 50; call++) {
        const id = `stdio-${call}`;
        try {
          await client.callTool({ name: 'work', arguments: { id } }, undefined, { timeout: CALL_TIMEOUT_MS });
          outcomes.push({ id, ok: true });
        } catch (error) {
          outcomes.push({ id, ok: false, error });
        }
      }
      for (const outcome of outcomes) {
        if (!outcome.ok) expect(sessionLostDetails(outcome.error)).toMatchObject({ retriable: true });
      }
      expect(outcomes.at(-1)).toMatchObject({ ok: true });
      expect(textOf(await client.callTool({ name: 'where', arguments: {} }))).toBe(second.info.serverId);
      await expect.poll(() => listChanged).toBeGreaterThan(0);
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('calibrate');
      expect(closed).toBe(false);
      const counts = await runs([first, second]);
      for (const outcome of outcomes) expect(counts.get(outcome.id) ?? 0).toBeLessThanOrEqual(1);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nmcp connect stderr:\n${stderr}`, { cause: error });
    } finally {
      await client.close();
      first.kill('SIGKILL');
      second.kill('SIGKILL');
    }
  });
});
