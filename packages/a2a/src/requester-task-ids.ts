import { TaskState } from '@a2a-js/sdk';
import type { ListTasksRequest, ListTasksResponse, Task } from '@a2a-js/sdk';
import { RequestContext } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, ServerCallContext, TaskStore } from '@a2a-js/sdk/server';

/**
 * Lets the SDK's `DefaultRequestHandler` accept a requester-generated `Task.id` (the profile's rule; core
 * A2A lets only servers create ids and answers an unknown `taskId` with TaskNotFound).
 *
 * The binding announces a new task for one call context with `reserve()`. While that call runs, loading the
 * reserved id yields a placeholder, so the handler goes down its "existing task" path with the requester's
 * id. The placeholder's first save (the handler appending the user message) stays in memory; only what the
 * executor publishes reaches the real store. A request answered with a bare Message therefore leaves no
 * task behind, exactly as if the server had generated the id.
 */
export class RequesterTaskIdStore implements TaskStore {
  private readonly inner: TaskStore;
  private readonly reservations = new WeakMap<ServerCallContext, Reservation>();

  constructor(inner: TaskStore) {
    this.inner = inner;
  }

  /** Announce that `taskId` is new and created by the call running under `context`. */
  reserve(context: ServerCallContext, taskId: string, contextId: string): void {
    this.reservations.set(context, { taskId, contextId, staged: undefined });
  }

  /** True when `taskId` is the new task reserved for `context`. */
  isReserved(context: ServerCallContext, taskId: string): boolean {
    return this.reservations.get(context)?.taskId === taskId;
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    const stored = await this.inner.load(taskId, context);
    if (stored) return stored;
    const reservation = this.reservations.get(context);
    if (reservation?.taskId !== taskId) return undefined;
    return reservation.staged ? structuredClone(reservation.staged) : placeholder(reservation);
  }

  async save(task: Task, context: ServerCallContext): Promise<void> {
    const reservation = this.reservations.get(context);
    if (reservation?.taskId === task.id && reservation.staged === undefined) {
      reservation.staged = structuredClone(task);
      return;
    }
    await this.inner.save(task, context);
  }

  list(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    return this.inner.list(params, context);
  }
}

interface Reservation {
  taskId: string;
  contextId: string;
  staged: Task | undefined;
}

function placeholder(reservation: Reservation): Task {
  return {
    id: reservation.taskId,
    contextId: reservation.contextId,
    status: {
      state: TaskState.TASK_STATE_SUBMITTED,
      message: undefined,
      timestamp: new Date().toISOString(),
    },
    artifacts: [],
    history: [],
    metadata: undefined,
  };
}

/**
 * Wrap the user's executor so a new task with a requester-generated id looks new to it:
 * `requestContext.task` is `undefined` there, as the SDK would pass for a task it created itself.
 */
export function executorForRequesterTaskIds(
  executor: AgentExecutor,
  store: RequesterTaskIdStore,
): AgentExecutor {
  return {
    execute(requestContext: RequestContext, eventBus: ExecutionEventBus): Promise<void> {
      if (!store.isReserved(requestContext.context, requestContext.taskId)) {
        return executor.execute(requestContext, eventBus);
      }
      const fresh = new RequestContext(
        requestContext.request,
        requestContext.taskId,
        requestContext.contextId,
        requestContext.context,
        undefined,
        requestContext.referenceTasks,
      );
      return executor.execute(fresh, eventBus);
    },
    cancelTask(taskId: string, eventBus: ExecutionEventBus): Promise<void> {
      return executor.cancelTask(taskId, eventBus);
    },
  };
}
