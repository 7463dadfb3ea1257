import { TaskState } from '@a2a-js/sdk';
import type { Message, StreamResponse, Task } from '@a2a-js/sdk';

/** Terminal task states: nothing more will ever happen to the task. */
export const TERMINAL_STATES: readonly TaskState[] = [
  TaskState.TASK_STATE_COMPLETED,
  TaskState.TASK_STATE_FAILED,
  TaskState.TASK_STATE_CANCELED,
  TaskState.TASK_STATE_REJECTED,
];

/** Interrupted states: final for the current correlation, not for the task (spec decision 3). */
export const INTERRUPTED_STATES: readonly TaskState[] = [
  TaskState.TASK_STATE_INPUT_REQUIRED,
  TaskState.TASK_STATE_AUTH_REQUIRED,
];

/** States that end a reply stream for its correlation. */
export const STREAM_FINAL_STATES: readonly TaskState[] = [...TERMINAL_STATES, ...INTERRUPTED_STATES];

/** True when a task in `state` ends the reply stream of its correlation. */
export function isStreamFinalState(state: TaskState | undefined): boolean {
  return state !== undefined && STREAM_FINAL_STATES.includes(state);
}

/** True for terminal states: COMPLETED, FAILED, CANCELED, REJECTED. */
export function isTerminalState(state: TaskState | undefined): boolean {
  return state !== undefined && TERMINAL_STATES.includes(state);
}

/**
 * True when this item ends a reply stream (SendStreamingMessage, SubscribeToTask) for its correlation: a
 * Message, a status update in a terminal or interrupted state, or a Task snapshot in a terminal state.
 * A Task snapshot in an interrupted state does not end a stream: it opens the stream that continues an
 * input-required task, and more events follow.
 */
export function isStreamFinalResponse(response: StreamResponse): boolean {
  const payload = response.payload;
  switch (payload?.$case) {
    case 'message':
      return true;
    case 'task':
      return isTerminalState(payload.value.status?.state);
    case 'statusUpdate':
      return isStreamFinalState(payload.value.status?.state);
    default:
      return false;
  }
}

/**
 * True when this reply ends a non-streaming SendMessage exchange: a Message, or a Task or status update in
 * a terminal or interrupted state (a blocking SendMessage returns the task once it reaches one of those).
 */
export function isSendMessageFinalResponse(response: StreamResponse): boolean {
  const payload = response.payload;
  if (payload?.$case === 'task' || payload?.$case === 'statusUpdate') {
    return isStreamFinalState(payload.value.status?.state);
  }
  return payload?.$case === undefined || payload.$case === 'message';
}

/**
 * Folds the items of a reply stream into the result a non-streaming `SendMessage` would have returned:
 * the last Message, or the Task with every status and artifact update applied. The items added are never
 * modified; the result may share objects with them (a Task snapshot is copied only when an update follows).
 */
export class StreamFolder {
  private task: Task | undefined;
  /** The task is the folder's own (built or copied here), not a snapshot from an added item. */
  private ownsTask = false;
  private message: Message | undefined;

  /** Apply one stream item: a Message or Task replaces what was kept, an update is merged into the task. */
  add(response: StreamResponse): void {
    const payload = response.payload;
    switch (payload?.$case) {
      case 'message':
        this.message = payload.value;
        break;
      case 'task':
        this.task = payload.value;
        this.ownsTask = false;
        break;
      case 'statusUpdate': {
        const update = payload.value;
        const task = this.ensureTask(update.taskId, update.contextId);
        task.status = update.status;
        const statusMessage = update.status?.message;
        if (statusMessage && !task.history.some((entry) => entry.messageId === statusMessage.messageId)) {
          task.history.push(statusMessage);
        }
        break;
      }
      case 'artifactUpdate': {
        const update = payload.value;
        const artifact = update.artifact;
        if (!artifact) break;
        const task = this.ensureTask(update.taskId, update.contextId);
        const index = task.artifacts.findIndex((entry) => entry.artifactId === artifact.artifactId);
        const existing = index === -1 ? undefined : task.artifacts[index];
        if (existing === undefined) task.artifacts.push(structuredClone(artifact));
        else if (update.append) existing.parts.push(...structuredClone(artifact.parts));
        else task.artifacts[index] = structuredClone(artifact);
        break;
      }
      default:
        break;
    }
  }

  /** The folded result, or `undefined` when nothing usable arrived. */
  result(): Task | Message | undefined {
    return this.message ?? this.task;
  }

  /** The task to apply an update to, owned by the folder (copy on first write). */
  private ensureTask(taskId: string, contextId: string): Task {
    if (this.task === undefined) {
      this.task = {
        id: taskId,
        contextId,
        status: undefined,
        artifacts: [],
        history: [],
        metadata: undefined,
      };
    } else if (!this.ownsTask) {
      this.task = structuredClone(this.task);
    }
    this.ownsTask = true;
    return this.task;
  }
}
