/**
 * What every benchmark serves, whatever the transport: the same MCP server (an `echo` tool whose result is
 * the 1 KiB text it was given) and the same A2A executor (a task that completes with a 1 KiB artifact).
 */
import { Role, TaskState } from '@a2a-js/sdk';
import type { Message, Part } from '@a2a-js/sdk';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** The 1 KiB text sent to the echo tool and the A2A agent, and returned by them. */
export const PAYLOAD_TEXT = 'a'.repeat(1024);

export function createEchoMcpServer(): McpServer {
  const server = new McpServer({ name: 'bench-echo', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echo the text back', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

/** The failover benchmark's server: `where` answers with the instance's server-id. */
export function createWhereMcpServer(serverId: string): McpServer {
  const server = new McpServer({ name: 'bench-failover', version: '1.0.0' });
  server.registerTool('where', { description: 'Name the instance that answers' }, async () => ({
    content: [{ type: 'text', text: serverId }],
  }));
  return server;
}

export function textPart(text: string): Part {
  return {
    content: { $case: 'text', value: text },
    mediaType: 'text/plain',
    filename: '',
    metadata: undefined,
  };
}

export function userMessage(text: string): Message {
  return {
    messageId: globalThis.crypto.randomUUID(),
    contextId: '',
    taskId: '',
    role: Role.ROLE_USER,
    parts: [textPart(text)],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

function textOf(message: Message | undefined): string {
  return (message?.parts ?? [])
    .map((part) => (part.content?.$case === 'text' ? part.content.value : ''))
    .join('');
}

/** Task submitted, an artifact echoing the user's text, completed: the usual lifecycle of a short task. */
export class EchoExecutor implements AgentExecutor {
  executions = 0;

  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    this.executions++;
    const { taskId, contextId } = context;
    bus.publish(
      AgentEvent.task({
        id: taskId,
        contextId,
        status: {
          state: TaskState.TASK_STATE_SUBMITTED,
          message: undefined,
          timestamp: new Date().toISOString(),
        },
        artifacts: [],
        history: [context.userMessage],
        metadata: undefined,
      }),
    );
    bus.publish(
      AgentEvent.artifactUpdate({
        taskId,
        contextId,
        artifact: {
          artifactId: 'echo',
          name: 'echo',
          description: '',
          parts: [textPart(textOf(context.userMessage))],
          metadata: undefined,
          extensions: [],
        },
        append: false,
        lastChunk: true,
        metadata: undefined,
      }),
    );
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: {
          state: TaskState.TASK_STATE_COMPLETED,
          message: undefined,
          timestamp: new Date().toISOString(),
        },
        metadata: undefined,
      }),
    );
    bus.finished();
  }

  async cancelTask(): Promise<void> {}
}
