// Small builders for A2A objects, so the agents read like what they do.
import { Role, TaskState } from '@a2a-js/sdk';
import type { Message, Part, Task, TaskArtifactUpdateEvent, TaskStatusUpdateEvent } from '@a2a-js/sdk';
import type { RequestContext } from '@a2a-js/sdk/server';

export function text(value: string): Part {
  return { content: { $case: 'text', value }, mediaType: 'text/plain', filename: '', metadata: undefined };
}

export function textOf(parts: Part[] | undefined): string {
  return (parts ?? []).map((part) => (part.content?.$case === 'text' ? part.content.value : '')).join('');
}

export function message(
  role: Role,
  value: string,
  ids: { taskId?: string; contextId?: string } = {},
): Message {
  return {
    messageId: globalThis.crypto.randomUUID(),
    contextId: ids.contextId ?? '',
    taskId: ids.taskId ?? '',
    role,
    parts: [text(value)],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

export function userMessage(value: string, ids: { taskId?: string; contextId?: string } = {}): Message {
  return message(Role.ROLE_USER, value, ids);
}

export function submitted(context: RequestContext): Task {
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

export function status(context: RequestContext, state: TaskState, note?: string): TaskStatusUpdateEvent {
  return {
    taskId: context.taskId,
    contextId: context.contextId,
    status: {
      state,
      message: note === undefined ? undefined : message(Role.ROLE_AGENT, note, context),
      timestamp: new Date().toISOString(),
    },
    metadata: undefined,
  };
}

export function artifact(
  context: RequestContext,
  artifactId: string,
  value: string,
  append = false,
): TaskArtifactUpdateEvent {
  return {
    taskId: context.taskId,
    contextId: context.contextId,
    artifact: {
      artifactId,
      name: artifactId,
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

/** The text of a task's artifacts, joined. */
export function artifactsText(task: Task): string {
  return task.artifacts.map((entry) => textOf(entry.parts)).join('\n');
}
