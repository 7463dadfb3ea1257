// An MCP server for a press on a factory line, served over MQTT. Run it on its own against any MQTT 5 broker:
//   MQTT_URL=mqtt://localhost:1883 npm run server
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { serveMcpOverMqtt } from '@mqtt-agents/mcp';
import type { McpServerHost } from '@mqtt-agents/mcp';
import { z } from 'zod';

export const PRESS_SERVER_NAME = 'factory/line-7/press';
export const TELEMETRY_URI = 'press://line-7/telemetry';

/** The state of the (simulated) press, shared by every client session of one server instance. */
export interface PressState {
  running: boolean;
  strokes: number;
  lastStopReason: string | undefined;
}

/** One SDK server object per client session; they share the press state and the host. */
export function buildPressServer(state: PressState, onChange: () => void): McpServer {
  const server = new McpServer(
    { name: 'press-controller', version: '1.0.0' },
    {
      capabilities: { resources: { subscribe: true }, logging: {} },
      instructions: 'Controls the hydraulic press of line 7. Stop it before maintenance.',
    },
  );
  server.registerTool(
    'status',
    {
      description: 'Current state of the press',
      outputSchema: { running: z.boolean(), strokes: z.number(), lastStopReason: z.string().optional() },
    },
    async () => {
      const structured = {
        running: state.running,
        strokes: state.strokes,
        ...(state.lastStopReason ? { lastStopReason: state.lastStopReason } : {}),
      };
      return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
    },
  );
  server.registerTool(
    'stop',
    {
      description: 'Stop the press',
      inputSchema: { reason: z.string().describe('why the press is stopped') },
    },
    async ({ reason }) => {
      state.running = false;
      state.lastStopReason = reason;
      onChange();
      return { content: [{ type: 'text', text: `press stopped: ${reason}` }] };
    },
  );
  server.registerTool('start', { description: 'Start the press' }, async () => {
    state.running = true;
    onChange();
    return { content: [{ type: 'text', text: 'press running' }] };
  });
  server.registerResource(
    'telemetry',
    TELEMETRY_URI,
    { description: 'Live telemetry of the press', mimeType: 'application/json' },
    async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(state) }],
    }),
  );
  // McpServer leaves resource subscriptions to us: accept them (updates go out on the capability topic,
  // and each client's transport passes them on only for the URIs that client subscribed to).
  server.server.setRequestHandler(SubscribeRequestSchema, async () => ({}));
  server.server.setRequestHandler(UnsubscribeRequestSchema, async () => ({}));
  server.registerPrompt(
    'diagnose',
    { description: 'Ask for a diagnosis of a fault', argsSchema: { symptom: z.string() } },
    ({ symptom }) => ({
      messages: [
        {
          role: 'user',
          content: { type: 'text', text: `The press shows: ${symptom}. What should we check?` },
        },
      ],
    }),
  );
  return server;
}

/** Serve the press over MQTT: one MQTT connection, one SDK server per client session. */
export async function servePress(options: {
  url: string;
  serverId?: string;
  signal?: AbortSignal;
}): Promise<McpServerHost> {
  const state: PressState = { running: true, strokes: 1200, lastStopReason: undefined };
  const hostReady: { host?: McpServerHost } = {};
  // Resource subscribers are told about changes on the instance's capability topic.
  const onChange = (): void => void hostReady.host?.notifyResourceUpdated(TELEMETRY_URI);
  const host = await serveMcpOverMqtt({
    mqtt: { url: options.url },
    serverName: PRESS_SERVER_NAME,
    ...(options.serverId ? { serverId: options.serverId } : {}),
    description: 'Hydraulic press of line 7: status, start, stop, live telemetry',
    meta: { site: 'plant 1', line: 7 },
    rbac: {
      roles: [
        {
          name: 'operator',
          allowed_methods: ['tools/call', 'tools/list', 'resources/read'],
          allowed_tools: 'all',
        },
        { name: 'viewer', allowed_methods: ['tools/list', 'resources/read'], allowed_tools: ['status'] },
      ],
    },
    createServer: () => buildPressServer(state, onChange),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  hostReady.host = host;
  return host;
}

// Run on its own: serve until Ctrl-C.
if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.MQTT_URL ?? 'mqtt://localhost:1883';
  const host = await servePress({ url });
  process.stdout.write(`serving ${host.serverName} as ${host.serverId} on ${url}; Ctrl-C to stop\n`);
  process.once('SIGINT', () => void host.close().then(() => process.exit(0)));
}
