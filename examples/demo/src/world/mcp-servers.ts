// The demo's two MCP servers, written against the official MCP SDK. Nothing here knows about MQTT:
// serveMcpOverMqtt (in main.ts) puts them on the broker.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

export const PRESS = 'factory/line-7/press';
export const CAMERA = 'factory/line-7/camera';

/** One physical press per server instance; every client session of that instance sees the same one. */
export interface Press {
  readonly instance: string;
  strokes: number;
  /** The operator at the press, who confirms each die change. */
  readonly operator: Operator;
}

/**
 * The person at a press. A die change takes as long as the operator needs to clamp the new die: the tool
 * call stays in flight until `confirm()`. With `confirmAtOnce` (the world on your broker) nobody waits.
 */
export class Operator {
  private readonly waiting: Array<() => void> = [];
  private readonly askedListeners: Array<() => void> = [];

  private readonly confirmAtOnce: boolean;

  constructor(options: { confirmAtOnce?: boolean } = {}) {
    this.confirmAtOnce = options.confirmAtOnce ?? false;
  }

  /** Resolves once a die change waits for this operator (at once when one already does). */
  asked(): Promise<void> {
    if (this.waiting.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.askedListeners.push(resolve));
  }

  /** Confirm the oldest die change waiting. */
  confirm(): void {
    this.waiting.shift()?.();
  }

  /** What the change-die tool waits on. */
  confirmation(): Promise<void> {
    if (this.confirmAtOnce) return Promise.resolve();
    const confirmed = new Promise<void>((resolve) => this.waiting.push(resolve));
    for (const listener of this.askedListeners.splice(0)) listener();
    return confirmed;
  }
}

export function buildPressServer(press: Press): McpServer {
  const server = new McpServer({ name: 'press-controller', version: '1.0.0' });
  server.registerTool(
    'status',
    { description: 'Which press answers, and how many strokes it made' },
    async () => ({
      content: [{ type: 'text', text: `press ${press.instance}: ${press.strokes} strokes` }],
    }),
  );
  server.registerTool(
    'stroke',
    {
      description: 'Run the press for some strokes',
      inputSchema: { count: z.number().int().min(1).max(100) },
    },
    async ({ count }) => {
      press.strokes += count;
      return { content: [{ type: 'text', text: `press ${press.instance}: ${count} strokes done` }] };
    },
  );
  server.registerTool(
    'change-die',
    {
      description: 'Mount another die; answers once the operator at the press has clamped it',
      inputSchema: { die: z.string() },
    },
    async ({ die }) => {
      await press.operator.confirmation();
      return { content: [{ type: 'text', text: `press ${press.instance}: die ${die} mounted` }] };
    },
  );
  return server;
}

/** What the camera sees on each part: deterministic, so the demo prints the same every time. */
const FINDINGS: Record<string, string> = {
  'P-101': 'ok, surface clean',
  'P-102': 'scratch 4 mm on the left flange',
  'P-103': 'ok, within tolerance',
};

export function buildCameraServer(): McpServer {
  const server = new McpServer({ name: 'inspection-camera', version: '1.0.0' });
  server.registerTool(
    'inspect',
    { description: 'Photograph a part and classify it', inputSchema: { part: z.string() } },
    async ({ part }) => ({
      content: [{ type: 'text', text: `${part}: ${FINDINGS[part] ?? 'ok'}` }],
    }),
  );
  return server;
}
