// `mqtt-agents watch` on a terminal, in this process (stdout flagged as a terminal): the view, then every
// change appended; a lost broker connection and the reconnect, through a TCP proxy the test cuts.
import { createServer, connect as connectTcp } from 'node:net';
import type { Server, Socket } from 'node:net';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import { serveMcpOverMqtt } from '@mqtt-agents/mcp';
import { describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { unique } from './cli-process.js';
import { buildToolServer } from './fixtures.js';

/** A TCP proxy to the broker whose connections the test can cut (`cut()`); new ones go through again. */
async function tcpProxy(target: URL): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connectTcp(Number(target.port), target.hostname);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolve once `read()` matches `pattern` (the command writes as things happen). */
async function waitForOutput(read: () => string, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('mqtt-agents watch on a terminal', () => {
  it(
    'appends each change under the view, and says when the connection is lost and back',
    { timeout: 60_000 },
    async () => {
      await using broker = await startTestBroker();
      const proxy = await tcpProxy(new URL(broker.url));
      const prefix = unique('tty');
      const controller = new AbortController();
      let out = '';
      let err = '';
      const running = main(['watch', '--url', proxy.url, '--filter', `${prefix}/#`, '--org', unique('org')], {
        stdout: (text) => void (out += text),
        stderr: (text) => void (err += text),
        signal: controller.signal,
        env: {},
        isTTY: true,
      });
      try {
        await waitForOutput(() => out, /Changes:\n/);
        expect(out).toContain('MCP servers (0)');

        // A server that comes and goes at once: both lines stay on the screen.
        const flash = await serveMcpOverMqtt({
          mqtt: { url: broker.url },
          serverName: `${prefix}/flash`,
          serverId: `${prefix}-flash`,
          description: 'here and gone',
          createServer: () => buildToolServer('flash'),
        });
        await flash.close();
        await waitForOutput(() => out, new RegExp(`- mcp  ${prefix}/flash`));
        expect(out).toMatch(new RegExp(`\\+ mcp  ${prefix}/flash  \\(instance ${prefix}-flash online\\)`));
        // Nothing clears the screen.
        expect(out).not.toContain('\x1b[2J');

        proxy.cut();
        await waitForOutput(() => out, /reconnected to mqtt:\/\//);
        expect(out).toMatch(new RegExp(`! connection to ${proxy.url} lost.*; reconnecting\\n`));
      } finally {
        controller.abort();
        expect(await running).toBe(0);
        await proxy.close();
      }
      // The cut is a warning (the MQTT client's own error); nothing failed.
      expect(err).not.toMatch(/: error: /);
    },
  );
});
