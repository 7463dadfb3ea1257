// Spec rules about several instances (server-ids) of one server name: discovery, instance selection
// (random, round-robin, a user function) and spreading sessions across instances.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '../src/index.js';
import type { McpServerChange, McpServerHost } from '../src/index.js';
import { buildTestServer, unique } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

async function instances(serverName: string, count: number): Promise<McpServerHost[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      serveMcpOverMqtt({
        mqtt: { url: broker.url },
        serverName,
        serverId: `${unique('instance')}-${index}`,
        description: `instance ${index}`,
        createServer: () => buildTestServer(),
      }),
    ),
  );
}

async function closeAll(hosts: Array<{ close(): Promise<void> }>): Promise<void> {
  await Promise.all(hosts.map((host) => host.close()));
}

describe('discovery', () => {
  it('discover() yields online and offline changes with description and rbac; the server is online while any instance is', async () => {
    const serverName = `fleet/${unique('press')}`;
    const rbac = { roles: [{ name: 'operator', allowed_methods: ['tools/call'], allowed_tools: ['echo'] }] };
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['fleet/#'],
    });
    const controller = new AbortController();
    const changes: McpServerChange[] = [];
    let notify: () => void = () => {};
    const iteration = (async () => {
      for await (const change of clients.discover({ signal: controller.signal })) {
        changes.push(change);
        notify();
      }
    })();
    const waitForChanges = (count: number) =>
      new Promise<void>((resolve) => {
        notify = () => changes.length >= count && resolve();
        notify();
      });
    const first = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName,
      description: 'first',
      rbac,
      createServer: () => buildTestServer(),
    });
    const second = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName,
      description: 'second',
      createServer: () => buildTestServer(),
    });
    await waitForChanges(2);
    expect(changes.map((change) => [change.type, change.server.description])).toEqual([
      ['online', 'first'],
      ['online', 'second'],
    ]);
    expect(changes[0]!.server.rbac).toEqual(rbac);
    expect(
      clients
        .instancesOf(serverName)
        .map((instance) => instance.serverId)
        .sort(),
    ).toEqual([first.serverId, second.serverId].sort());
    await first.close();
    await waitForChanges(3);
    expect(changes[2]).toMatchObject({ type: 'offline', server: { serverId: first.serverId, serverName } });
    expect(
      clients
        .servers()
        .get(serverName)
        ?.map((instance) => instance.serverId),
    ).toEqual([second.serverId]);
    // A late iterator starts with what is online now.
    const late = clients.discover();
    expect((await late.next()).value).toMatchObject({
      type: 'online',
      server: { serverId: second.serverId },
    });
    await late.return?.();
    await second.close();
    await waitForChanges(4);
    expect(clients.servers().has(serverName)).toBe(false);
    controller.abort();
    await iteration;
  });

  it('discover() iterators end when the host closes', async () => {
    const clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['nothing-here/#'],
    });
    const iterator = clients.discover();
    const next = iterator.next();
    await clients.close();
    expect(await next).toEqual({ value: undefined, done: true });
  });

  it('updatePresence publishes a new description that clients see as an online change', async () => {
    const serverName = `fleet/${unique('press')}`;
    await using server = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName,
      description: 'v1',
      createServer: () => buildTestServer(),
    });
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['fleet/#'],
    });
    const iterator = clients.discover();
    for (;;) {
      const { value } = await iterator.next();
      if (value?.server.serverName === serverName) break;
    }
    await server.updatePresence({ description: 'v2' });
    for (;;) {
      const { value } = await iterator.next();
      if (value?.server.serverName === serverName) {
        expect(value).toMatchObject({ type: 'online', server: { description: 'v2' } });
        break;
      }
    }
    await iterator.return?.();
  });
});

describe('instance selection', () => {
  it('random selection picks one of the online instances', async () => {
    const serverName = `fleet/${unique('press')}`;
    const hosts = await instances(serverName, 3);
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['fleet/#'],
    });
    await clients.waitForServer(serverName);
    await expect.poll(() => clients.instancesOf(serverName).length).toBe(3);
    const client = new Client({ name: 'pick', version: '1.0.0' });
    const transport = await clients.connect(client, serverName, { select: 'random' });
    expect(hosts.map((host) => host.serverId)).toContain(transport.serverId);
    await client.close();
    await closeAll(hosts);
  });

  it('round-robin selection rotates over the instances', async () => {
    const serverName = `fleet/${unique('press')}`;
    const hosts = await instances(serverName, 3);
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['fleet/#'],
    });
    await expect.poll(() => clients.instancesOf(serverName).length).toBe(3);
    const chosen: string[] = [];
    const sessions: Client[] = [];
    for (let index = 0; index < 6; index++) {
      const client = new Client({ name: 'rr', version: '1.0.0' });
      const transport = await clients.connect(client, serverName, {
        select: 'round-robin',
        dedicatedConnection: true,
      });
      chosen.push(transport.serverId);
      sessions.push(client);
    }
    const sorted = hosts.map((host) => host.serverId).sort();
    expect(chosen).toEqual([...sorted, ...sorted]);
    await Promise.all(sessions.map((client) => client.close()));
    await closeAll(hosts);
  });

  it('a user function chooses the instance', async () => {
    const serverName = `fleet/${unique('press')}`;
    const hosts = await instances(serverName, 3);
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['fleet/#'],
    });
    await expect.poll(() => clients.instancesOf(serverName).length).toBe(3);
    const wanted = hosts[1]!;
    const seen: string[][] = [];
    const client = new Client({ name: 'fn', version: '1.0.0' });
    const transport = await clients.connect(client, serverName, {
      select: (candidates, context) => {
        seen.push(candidates.map((candidate) => candidate.serverId));
        expect(context.serverName).toBe(serverName);
        return candidates.find((candidate) => candidate.description === 'instance 1');
      },
    });
    expect(transport.serverId).toBe(wanted.serverId);
    expect(seen[0]?.sort()).toEqual(hosts.map((host) => host.serverId).sort());
    expect(wanted.sessions.has(clients.mcpClientId)).toBe(true);
    await client.close();
    await closeAll(hosts);
  });

  it('concurrent connects on one client host pick different instances', async () => {
    const serverName = `fleet/${unique('press')}`;
    const hosts = await instances(serverName, 3);
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['fleet/#'],
    });
    await expect.poll(() => clients.instancesOf(serverName).length).toBe(3);
    const sessions = await Promise.all(
      [1, 2, 3].map(async () => {
        const client = new Client({ name: 'concurrent', version: '1.0.0' });
        return { client, transport: await clients.connect(client, serverName, { select: 'random' }) };
      }),
    );
    expect(new Set(sessions.map((session) => session.transport.serverId)).size).toBe(3);
    // Every instance has a session on the host's connection: the fourth gets a connection on demand.
    const fourth = new Client({ name: 'fourth', version: '1.0.0' });
    const transport = await clients.connect(fourth, serverName);
    expect(transport.mcpClientId).not.toBe(clients.mcpClientId);
    await fourth.close();
    await Promise.all(sessions.map((session) => session.client.close()));
    await closeAll(hosts);
  });

  it('connect waits for an instance to come online', async () => {
    const serverName = `fleet/${unique('late')}`;
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['fleet/#'],
    });
    const client = new Client({ name: 'late', version: '1.0.0' });
    const connecting = clients.connect(client, serverName);
    await using server = await serveMcpOverMqtt({
      mqtt: { url: broker.url },
      serverName,
      description: 'late',
      createServer: () => buildTestServer(),
    });
    const transport = await connecting;
    expect(transport.serverId).toBe(server.serverId);
    await client.close();
  });

  it('connect gives up when no instance comes online, or when its signal aborts', async () => {
    await using clients = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['fleet/#'],
    });
    await expect(
      clients.connect(new Client({ name: 'x', version: '1' }), 'fleet/never', { waitTimeoutMs: 50 }),
    ).rejects.toMatchObject({ code: 'REQUEST_TIMEOUT' });
    const controller = new AbortController();
    const pending = clients.connect(new Client({ name: 'x', version: '1' }), 'fleet/never', {
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('load spread', () => {
  it('sessions from many clients spread across 3 instances, each instance serving its own', async () => {
    const serverName = `fleet/${unique('press')}`;
    const hosts = await instances(serverName, 3);
    const clientHosts = await Promise.all(
      Array.from({ length: 9 }, () =>
        createMcpMqttClientHost({ mqtt: { url: broker.url }, serverNameFilters: ['fleet/#'] }),
      ),
    );
    await Promise.all(clientHosts.map((clientHost) => clientHost.waitForServer(serverName)));
    for (const clientHost of clientHosts)
      await expect.poll(() => clientHost.instancesOf(serverName).length).toBe(3);
    // Each client host picks by its own round-robin position, offset so the nine land evenly.
    const clients = await Promise.all(
      clientHosts.map(async (clientHost, index) => {
        const client = new Client({ name: `spread-${index}`, version: '1.0.0' });
        const sorted = clientHost
          .instancesOf(serverName)
          .map((instance) => instance.serverId)
          .sort();
        const transport = await clientHost.connect(client, serverName, { select: () => sorted[index % 3] });
        const result = await client.callTool({ name: 'whoami', arguments: {} });
        expect(result.content).toEqual([{ type: 'text', text: clientHost.mcpClientId }]);
        return { client, serverId: transport.serverId };
      }),
    );
    for (const host of hosts) {
      expect(host.sessions.size).toBe(3);
      expect(clients.filter((entry) => entry.serverId === host.serverId)).toHaveLength(3);
    }
    // Random selection also uses every instance over many sessions.
    const randomHosts = new Set<string>();
    const extra = await createMcpMqttClientHost({
      mqtt: { url: broker.url },
      serverNameFilters: ['fleet/#'],
    });
    await expect.poll(() => extra.instancesOf(serverName).length).toBe(3);
    const extraClients: Client[] = [];
    for (let index = 0; index < 24 && randomHosts.size < 3; index++) {
      const client = new Client({ name: 'random', version: '1.0.0' });
      randomHosts.add(
        (await extra.connect(client, serverName, { select: 'random', dedicatedConnection: true })).serverId,
      );
      extraClients.push(client);
    }
    expect(randomHosts.size).toBe(3);
    await Promise.all([
      ...clients.map((entry) => entry.client.close()),
      ...extraClients.map((client) => client.close()),
    ]);
    await closeAll([...clientHosts, extra, ...hosts]);
  });
});
