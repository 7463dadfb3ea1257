// In-process MCP servers and A2A agents for the CLI tests: what the spawned command talks to.
import { Role, TaskState } from '@a2a-js/sdk';
import type { Message, Part, Task, TaskArtifactUpdateEvent, TaskStatusUpdateEvent } from '@a2a-js/sdk';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** An MCP server with `add` (plain), `whoami` (which instance answered) and `count` (progress notifications). */
export function buildToolServer(instance: string): McpServer {
  const server = new McpServer({ name: 'test-tools', version: '1.0.0' });
  server.registerTool(
    'add',
    { description: 'Add two numbers', inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
  );
  server.registerTool('whoami', { description: 'Which instance answers' }, async () => ({
    content: [{ type: 'text', text: instance }],
  }));
  server.registerTool(
    'count',
    { description: 'Count to n, reporting progress', inputSchema: { n: z.number() } },
    async ({ n }, extra) => {
      const token = extra._meta?.progressToken;
      for (let step = 1; step <= n; step++) {
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: step, total: n },
          });
        }
        // Work between steps. (Without it, the last progress and the result can reach a stdio or HTTP host
        // in one read, and the SDK client handles the result first and drops the progress.)
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return { content: [{ type: 'text', text: `counted to ${n}` }] };
    },
  );
  return server;
}

export function text(value: string): Part {
  return { content: { $case: 'text', value }, mediaType: 'text/plain', filename: '', metadata: undefined };
}

export function textOf(parts: readonly Part[] | undefined): string {
  return (parts ?? []).map((part) => (part.content?.$case === 'text' ? part.content.value : '')).join('');
}

export function userMessage(value: string, ids: { taskId?: string; contextId?: string } = {}): Message {
  return {
    messageId: globalThis.crypto.randomUUID(),
    contextId: ids.contextId ?? '',
    taskId: ids.taskId ?? '',
    role: Role.ROLE_USER,
    parts: [text(value)],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

function submitted(context: RequestContext): Task {
  return {
    id: context.taskId,
    contextId: context.contextId,
    status: {
      state: TaskState.TASK_STATE_SUBMITTED,
      message: undefined,
      timestamp: new Date().toISOString(),
    },
    artifacts: [],
    history: [context.userMessage],
    metadata: undefined,
  };
}

function status(context: RequestContext, state: TaskState, note?: string): TaskStatusUpdateEvent {
  return {
    taskId: context.taskId,
    contextId: context.contextId,
    status: {
      state,
      message: note === undefined ? undefined : { ...userMessage(note, context), role: Role.ROLE_AGENT },
      timestamp: new Date().toISOString(),
    },
    metadata: undefined,
  };
}

function artifact(
  context: RequestContext,
  id: string,
  value: string,
  append = false,
): TaskArtifactUpdateEvent {
  return {
    taskId: context.taskId,
    contextId: context.contextId,
    artifact: {
      artifactId: id,
      name: id,
      description: '',
      parts: [text(value)],
      metadata: undefined,
      extensions: [],
    },
    append,
    lastChunk: false,
    metadata: undefined,
  };
}

/** Answers with one completed task holding an `echo` artifact ("echo: <text>"). */
export class EchoExecutor implements AgentExecutor {
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    bus.publish(AgentEvent.task(submitted(context)));
    bus.publish(
      AgentEvent.artifactUpdate(artifact(context, 'echo', `echo: ${textOf(context.userMessage.parts)}`)),
    );
    bus.publish(AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_COMPLETED, 'done')));
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

/** Streams "step i of n" status updates and one appended artifact line per step. Text: the number n. */
export class StepsExecutor implements AgentExecutor {
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const steps = Math.max(1, Number.parseInt(textOf(context.userMessage.parts), 10) || 3);
    bus.publish(AgentEvent.task(submitted(context)));
    for (let step = 1; step <= steps; step++) {
      bus.publish(
        AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_WORKING, `step ${step} of ${steps}`)),
      );
      bus.publish(AgentEvent.artifactUpdate(artifact(context, 'log', `line ${step}\n`, step > 1)));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    bus.publish(AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_COMPLETED, 'all steps done')));
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

/** Fails every task. */
export class FailingExecutor implements AgentExecutor {
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    bus.publish(AgentEvent.task(submitted(context)));
    bus.publish(
      AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_FAILED, 'the printer is on fire')),
    );
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

/** Asks for a name first (input-required), then greets on the same task. */
export class GreeterExecutor implements AgentExecutor {
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const said = textOf(context.userMessage.parts).trim();
    bus.publish(AgentEvent.task(context.task ?? submitted(context)));
    if (!context.task) {
      bus.publish(
        AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_INPUT_REQUIRED, 'what is your name?')),
      );
    } else {
      bus.publish(AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_COMPLETED, `hello, ${said}`)));
    }
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

/** Works until its task is canceled (status "waiting"), then ends it canceled. */
export class PatientExecutor implements AgentExecutor {
  readonly #waiting = new Map<string, () => void>();
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    bus.publish(AgentEvent.task(submitted(context)));
    const canceled = new Promise<void>((resolve) => this.#waiting.set(context.taskId, resolve));
    bus.publish(AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_WORKING, 'waiting')));
    await canceled;
    bus.publish(AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_CANCELED, 'canceled')));
    bus.finished();
  }
  async cancelTask(taskId: string): Promise<void> {
    this.#waiting.get(taskId)?.();
    this.#waiting.delete(taskId);
  }
}
