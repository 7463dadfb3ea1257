// Starts the demo's agent world on a broker: the MCP servers, then the A2A agents. main.ts narrates it on
// the embedded broker; serve-world.ts runs it against any broker, for the mqtt-agents CLI to explore.
import { ClientFactory } from '@a2a-js/sdk/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { discoverAgents, mqttTransportFactory, serveA2AOverMqtt } from '@mqtt-agents/a2a';
import { createMcpMqttClientHost, serveMcpOverMqtt } from '@mqtt-agents/mcp';
import type { McpServerHost } from '@mqtt-agents/mcp';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InspectorExecutor, PlannerExecutor, ReporterExecutor } from './a2a-agents.js';
import { CAMERA, Operator, PRESS, buildCameraServer, buildPressServer } from './mcp-servers.js';
import type { Press } from './mcp-servers.js';

export const ORG = 'com.acme';
export const UNIT = 'plant-1';

/** Something running that closes once, in reverse order of what it started. */
export interface Running extends AsyncDisposable {
  close(): Promise<void>;
}

function running(closers: Array<() => Promise<unknown>>): Running {
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      for (const closer of closers.reverse()) await closer();
    })());
  return { close, [Symbol.asyncDispose]: close };
}

function toolText(result: unknown): string {
  const content = (result as { content?: Array<{ text?: string }> }).content ?? [];
  return content.map((part) => part.text ?? '').join(' ');
}

export interface McpWorld extends Running {
  /** The two instances of the press server, and the camera. */
  readonly pressA: McpServerHost;
  readonly pressB: McpServerHost;
  readonly camera: McpServerHost;
  /** The physical press behind each press instance, by server-id. */
  readonly presses: ReadonlyMap<string, Press>;
  /** Start one more instance of the press server (a replacement), closed with the world. */
  startPress(serverId: string): Promise<McpServerHost>;
}

export interface McpWorldOptions {
  /**
   * Confirm every die change at once (nobody stands at the presses). Default false: `change-die` waits for
   * `presses.get(id).operator.confirm()`.
   */
  confirmAtOnce?: boolean;
}

/** factory/line-7/press as two instances (press-a, press-b), factory/line-7/camera as one. */
export async function startMcpServers(
  mqtt: { url: string; reconnectPeriodMs?: number },
  options: McpWorldOptions = {},
): Promise<McpWorld> {
  const closers: Array<() => Promise<unknown>> = [];
  const serve = async (serverName: string, serverId: string, description: string, build: () => McpServer) => {
    const host = await serveMcpOverMqtt({ mqtt, serverName, serverId, description, createServer: build });
    closers.push(() => host.close());
    return host;
  };
  // One physical press per instance: every client session of that instance sees the same one.
  const presses = new Map<string, Press>();
  const startPress = (serverId: string): Promise<McpServerHost> => {
    const press: Press = {
      instance: serverId,
      strokes: 0,
      operator: new Operator({ confirmAtOnce: options.confirmAtOnce ?? false }),
    };
    presses.set(serverId, press);
    return serve(PRESS, serverId, 'Hydraulic press of line 7', () => buildPressServer(press));
  };
  const pressA = await startPress('press-a');
  const pressB = await startPress('press-b');
  const camera = await serve(CAMERA, 'camera-1', 'Inspection camera of line 7', buildCameraServer);
  return { pressA, pressB, camera, presses, startPress, ...running(closers) };
}

/**
 * kill -9, in this process: the instance's socket dies without DISCONNECT, so the broker publishes its will
 * (the empty retained presence). Start the world with `reconnectPeriodMs: 0`, or the instance comes back.
 */
export function crash(host: McpServerHost): void {
  (host.connection.client as unknown as { stream: { destroy(): void } }).stream.destroy();
}

/**
 * com.acme/plant-1/{inspector,reporter,planner}. The inspector reaches the camera over MCP; the planner
 * reaches the other two over A2A, on its own connection.
 */
export async function startAgents(mqtt: { url: string }): Promise<Running> {
  const closers: Array<() => Promise<unknown>> = [];
  // The inspector is an MCP client too: it reaches the camera through its own client host.
  const inspectorTools = await createMcpMqttClientHost({
    mqtt,
    clientId: 'inspector-tools',
    serverNameFilters: [CAMERA],
  });
  closers.push(() => inspectorTools.close());
  const cameraClient = new Client({ name: 'inspector', version: '1.0.0' });
  await inspectorTools.connect(cameraClient, CAMERA);
  closers.push(() => cameraClient.close());

  const inspector = await serveA2AOverMqtt({
    mqtt,
    org: ORG,
    unit: UNIT,
    agentId: 'inspector',
    card: {
      name: 'Inspector',
      description: 'Inspects one part with the line camera',
      skills: [{ id: 'inspect', name: 'Inspect a part' }],
    },
    executor: new InspectorExecutor(async (part) =>
      toolText(await cameraClient.callTool({ name: 'inspect', arguments: { part } })),
    ),
  });
  closers.push(() => inspector.close());
  const reporter = await serveA2AOverMqtt({
    mqtt,
    org: ORG,
    unit: UNIT,
    agentId: 'reporter',
    card: {
      name: 'Reporter',
      description: 'Writes inspection reports, streamed line by line',
      capabilities: { streaming: true, pushNotifications: false, extensions: [] },
      skills: [{ id: 'report', name: 'Write a report' }],
    },
    executor: new ReporterExecutor(),
  });
  closers.push(() => reporter.close());
  const plannerExecutor = new PlannerExecutor();
  const planner = await serveA2AOverMqtt({
    mqtt,
    org: ORG,
    unit: UNIT,
    agentId: 'planner',
    card: {
      name: 'Planner',
      description: 'Plans quality checks and delegates them',
      skills: [{ id: 'plan', name: 'Plan a quality check', examples: ['inspect P-101, P-102 and P-103'] }],
    },
    executor: plannerExecutor,
  });
  closers.push(() => planner.close());

  // The planner reaches its colleagues over its own connection (client id com.acme/plant-1/planner).
  const plannerMqtt = { connection: planner.connection };
  const colleagues = await discoverAgents({ mqtt: plannerMqtt, org: ORG, unit: UNIT });
  closers.push(() => colleagues.close());
  const transports = mqttTransportFactory({ mqtt: plannerMqtt, org: ORG, unit: UNIT, agentId: 'planner' });
  closers.push(() => transports.close());
  const clients = new ClientFactory({ transports: [transports] });
  plannerExecutor.colleagues = {
    inspector: await clients.createFromAgentCard(
      (await colleagues.waitFor('inspector', { online: true })).card,
    ),
    reporter: await clients.createFromAgentCard(
      (await colleagues.waitFor('reporter', { online: true })).card,
    ),
  };
  return running(closers);
}
