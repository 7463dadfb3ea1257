// Small builders for A2A objects (the SDK's types are plain data), so the agents read like what they do.
import { Role, TaskState } from '@a2a-js/sdk';
import type { Message, Part, Task, TaskArtifactUpdateEvent, TaskStatusUpdateEvent } from '@a2a-js/sdk';
import type { RequestContext } from '@a2a-js/sdk/server';

export function text(value: string): Part {
  return { content: { $case: 'text', value }, mediaType: 'text/plain', filename: '', metadata: undefined };
}

export function textOf(parts: readonly Part[] | undefined): string {
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

export function userMessage(value: string): Message {
  return message(Role.ROLE_USER, value);
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
  name: string,
  value: string,
  append = false,
): TaskArtifactUpdateEvent {
  return {
    taskId: context.taskId,
    contextId: context.contextId,
    artifact: {
      artifactId: name,
      name,
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

/** The text of a task's artifacts, by name. */
export function artifactText(task: Task, name: string): string {
  return textOf(task.artifacts.find((entry) => entry.name === name)?.parts);
}
