// The broker goes away and comes back on the same port: sessions close cleanly (pending requests reject,
// nothing hangs), presence is restored after the reconnect, and new sessions work.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { startBroker } from '@mqtt-agents/broker';
import { startMosquitto } from '@mqtt-agents/broker/vitest';
import { expect, it } from 'vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '../src/index.js';
import type { McpServerChange, McpServerSession } from '../src/index.js';
import { brokerKind, buildTestServer, failure, nextEvent, unique } from './helpers.js';

interface RestartableBroker {
  url: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function restartableBroker(): Promise<RestartableBroker> {
  if (brokerKind === 'mosquitto') {
    let current = await startMosquitto();
    const port = current.port;
    return {
      url: current.url,
      stop: () => current.close(),
      restart: async () => {
        current = await startMosquitto({ port });
      },
      close: () => current.close(),
    };
  }
  let current = await startBroker({ host: '127.0.0.1', port: 0 });
  const port = current.port;
  return {
    url: current.url,
    stop: () => current.close(),
    restart: async () => {
      current = await startBroker({ host: '127.0.0.1', port });
    },
    close: () => current.close(),
  };
}

function watch(host: { discover(): AsyncIterableIterator<McpServerChange> }) {
  const changes: McpServerChange[] = [];
  const listeners = new Set<(change: McpServerChange) => void>();
  const iterator = host.discover();
  void (async () => {
    for await (const change of iterator) {
      changes.push(change);
      for (const listener of [...listeners]) listener(change);
    }
  })();
  return {
    changes,
    next: (predicate: (change: McpServerChange) => boolean, what: string) =>
      nextEvent<McpServerChange>(
        (listener) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
        predicate,
        what,
        10_000,
      ),
  };
}

it.skipIf(brokerKind === 'external')(
  'after a broker restart: sessions close cleanly, presence is restored, new sessions work',
  { timeout: 30_000 },
  async () => {
    const broker = await restartableBroker();
    try {
      const serverName = `restart/${unique('press')}`;
      const server = await serveMcpOverMqtt({
        mqtt: { url: broker.url, reconnectPeriodMs: 100 },
        serverName,
        description: 'survives restarts',
        createServer: () => buildTestServer(),
      });
      const clients = await createMcpMqttClientHost({
        mqtt: { url: broker.url, reconnectPeriodMs: 100 },
        serverNameFilters: ['restart/#'],
        failover: false,
      });
      const discovery = watch(clients);
      await clients.waitForServer(serverName);

      const client = new Client({ name: 'restart', version: '1.0.0' });
      await clients.connect(client, serverName);
      let clientClosed = false;
      client.onclose = () => (clientClosed = true);
      const serverSessionClosed = nextEvent<McpServerSession>(
        (listener) => server.on('session-close', listener),
        () => true,
        'the server session to close',
        10_000,
      );
      const pending = failure(client.callTool({ name: 'hang', arguments: {} }));
      const offline = discovery.next(
        (change) => change.type === 'offline' && change.server.serverName === serverName,
        'offline',
      );

      await broker.stop();
      expect(await pending).toMatchObject({ code: ErrorCode.ConnectionClosed });
      expect(clientClosed).toBe(true);
      await serverSessionClosed;
      await offline;
      expect(clients.instancesOf(serverName)).toEqual([]);

      const online = discovery.next(
        (change) => change.type === 'online' && change.server.serverName === serverName,
        'online again',
      );
      await broker.restart();
      await online;
      expect(clients.instancesOf(serverName).map((instance) => instance.serverId)).toEqual([server.serverId]);

      const again = new Client({ name: 'restart', version: '1.0.0' });
      await clients.connect(again, serverName);
      expect((await again.callTool({ name: 'echo', arguments: { text: 'back' } })).content).toEqual([
        { type: 'text', text: 'back' },
      ]);
      await again.close();
      await clients.close();
      await server.close();
    } finally {
      await broker.close();
    }
  },
);

it.skipIf(brokerKind === 'external')(
  'closing the hosts while the broker is down does not hang',
  { timeout: 20_000 },
  async () => {
    const broker = await restartableBroker();
    const serverName = `restart/${unique('press')}`;
    const server = await serveMcpOverMqtt({
      mqtt: { url: broker.url, reconnectPeriodMs: 100 },
      serverName,
      description: 'down',
      createServer: () => buildTestServer(),
    });
    const clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url, reconnectPeriodMs: 100 },
      serverNameFilters: ['restart/#'],
    });
    const client = new Client({ name: 'restart', version: '1.0.0' });
    await clients.connect(client, serverName);
    await broker.stop();
    await Promise.all([client.close(), clients.close(), server.close()]);
    expect(clients.closed && server.closed).toBe(true);
    await broker.close();
  },
);
