// Log and terminal injection (issue 12, defect 12): every value from the wire that reaches a log line or a
// terminal is escaped. An attacker picks a client id, topic, agent name or server description holding a
// newline (to forge a log line) and ESC (to move the cursor or recolour the terminal of whoever watches).
import { serveA2AOverMqtt } from '@mqtt-agents/a2a';
import { startBroker } from '@mqtt-agents/broker';
import type { Broker, BrokerLogger } from '@mqtt-agents/broker';
import { serveMcpOverMqtt } from '@mqtt-agents/mcp';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, closeAllClients } from '../../packages/broker/test/helpers.js';
import { cli, cliInProcess } from '../../packages/cli/test/cli-process.js';
import { embeddedLane, unique } from './helpers.js';

/** A forged log line after a newline, and terminal escapes (clear screen, red). */
const FORGED = '2099-01-01T00:00:00.000Z connect    admin (MQTT 5, tcp)';
function hostile(prefix: string): string {
  return `${prefix}\x1b[2J\x1b[31m\n${FORGED}\r\u202e`;
}

// C0 and C1 controls (newline, ESC, CR, ...) and bidi overrides: none may reach a log line or a terminal raw.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

function recordingLogger(): BrokerLogger & { lines: string[] } {
  const lines: string[] = [];
  const record = (message: string): void => void lines.push(message);
  return { lines, debug: record, info: record, warn: record, error: record };
}

describe.skipIf(!embeddedLane)('log injection (defect 12)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await closeAllClients();
    // Servers and agents first, then their broker.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  it('the CLI broker prints a client id holding a newline and ESC as one escaped line', async () => {
    await using broker = cli(['broker', '--port', '0']);
    const [, url] = await broker.waitFor(/listening on (mqtt:\/\/\S+)/);
    const clientId = hostile(unique('evil'));
    const { client } = await RawClient.connect(url as string, { clientId });
    await broker.waitFor(/connect {4}evil-/);
    await client.disconnect(0);
    await broker.waitFor(/disconnect evil-/);
    const output = broker.stdout() + broker.stderr();
    expect(output).not.toMatch(UNSAFE);
    const lines = output.split('\n');
    expect(lines.filter((line) => line.includes('evil-'))).toHaveLength(2);
    expect(lines.some((line) => line.startsWith('2099-01-01'))).toBe(false);
    expect(output).toContain('\\u000a2099-01-01');
    expect(output).toContain('\\u202e');
    expect(output).toContain('\\u001b[2J');
  });

  it('every broker log line escapes the client ids, topics and filters it names', async () => {
    const logger = recordingLogger();
    const broker: Broker = await startBroker({ logger, maximumQueuedMessages: 0 });
    cleanups.push(() => broker.close());
    const name = unique('evil');
    const clientId = hostile(name);
    const topic = `log/${unique('t')}/\x1b[31mred\u009b2J`;
    // An offline session with no room: the message for it is dropped, and the broker warns.
    const { client: subscriber } = await RawClient.connect(broker.url, {
      clientId,
      properties: { sessionExpiryInterval: 60 },
    });
    await subscriber.subscribe({ topic, qos: 1 });
    await subscriber.disconnect(0);
    const { client: publisher } = await RawClient.connect(broker.url, { clientId: hostile(unique('pub')) });
    await publisher.publish({ topic, payload: 'x', qos: 1 });
    // A protocol error whose reason quotes the filter (an invalid one, with a newline in it).
    publisher.send({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'a/#/\nforged', qos: 0 }] });
    await publisher.waitClosed();
    // The warning about the dropped message names the session.
    expect(logger.lines.some((line) => line.includes(name) && line.includes('log/'))).toBe(true);
    expect(logger.lines.some((line) => line.includes('invalid topic filter'))).toBe(true);
    for (const line of logger.lines) expect(line).not.toMatch(UNSAFE);
  });

  it('ls and watch print server names, descriptions and agent names escaped', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.close());
    const prefix = unique('inject');
    const mcp = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName: `${prefix}/plant/press`,
      description: hostile('press tools'),
      createServer: () => new McpServer({ name: 'press', version: '1.0.0' }),
    });
    cleanups.push(() => mcp.close());
    const executor: AgentExecutor = {
      async execute(_context, bus) {
        bus.finished();
      },
      async cancelTask() {},
    };
    const agent = await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org: prefix,
      unit: 'plant',
      agentId: 'echo',
      card: { name: hostile('Echo'), description: 'says it back', skills: [{ id: 'echo', name: 'Echo' }] },
      executor,
    });
    cleanups.push(() => agent.close());
    const ls = await cliInProcess(['ls', '--url', broker.url, '--filter', `${prefix}/#`, '--org', prefix]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain(`${prefix}/plant/press`);
    expect(ls.stdout).toContain('\\u001b[2J');
    expect(ls.stdout).not.toMatch(UNSAFE);
    expect(ls.stdout.split('\n').some((line) => line.startsWith('2099'))).toBe(false);

    await using watch = cli(['watch', '--url', broker.url, '--filter', `${prefix}/#`, '--org', prefix]);
    await watch.waitFor(/watching .*: 1 MCP server, 1 A2A agent /);
    const output = watch.stdout();
    expect(output).toContain(`${prefix}/plant/press`);
    expect(output).not.toMatch(UNSAFE);
    expect(output.split('\n').some((line) => line.startsWith('2099'))).toBe(false);
  });
});
