import { StreamResponse, TaskState } from '@a2a-js/sdk';
import { describe, expect, it } from 'vitest';
import { StreamFolder, isSendMessageFinalResponse, isStreamFinalResponse } from './stream-states.js';

const item = (json: Record<string, unknown>): StreamResponse => StreamResponse.fromJSON(json);
const task = (state: string) => item({ task: { id: 't', contextId: 'c', status: { state } } });
const status = (state: string) => item({ statusUpdate: { taskId: 't', contextId: 'c', status: { state } } });
const artifact = (artifactId: string, text: string, append = false) =>
  item({
    artifactUpdate: { taskId: 't', contextId: 'c', append, artifact: { artifactId, parts: [{ text }] } },
  });

describe('stream end', () => {
  it('ends a stream on a message, a final status update, or a terminal task snapshot', () => {
    expect(isStreamFinalResponse(item({ message: { messageId: 'm', role: 'ROLE_AGENT', parts: [] } }))).toBe(
      true,
    );
    for (const state of ['COMPLETED', 'FAILED', 'CANCELED', 'REJECTED', 'INPUT_REQUIRED', 'AUTH_REQUIRED']) {
      expect(isStreamFinalResponse(status(`TASK_STATE_${state}`))).toBe(true);
    }
    expect(isStreamFinalResponse(status('TASK_STATE_WORKING'))).toBe(false);
    expect(isStreamFinalResponse(task('TASK_STATE_COMPLETED'))).toBe(true);
    // An interrupted snapshot opens the stream that continues the task.
    expect(isStreamFinalResponse(task('TASK_STATE_INPUT_REQUIRED'))).toBe(false);
    expect(
      isStreamFinalResponse(
        item({ artifactUpdate: { taskId: 't', contextId: 'c', artifact: { artifactId: 'a' } } }),
      ),
    ).toBe(false);
  });

  it('ends a non-streaming SendMessage on an interrupted task too', () => {
    expect(isSendMessageFinalResponse(task('TASK_STATE_INPUT_REQUIRED'))).toBe(true);
    expect(isSendMessageFinalResponse(task('TASK_STATE_AUTH_REQUIRED'))).toBe(true);
    expect(isSendMessageFinalResponse(task('TASK_STATE_WORKING'))).toBe(false);
  });
});

describe('StreamFolder', () => {
  it('folds status and artifact updates (replace and append) into the task', () => {
    const folder = new StreamFolder();
    folder.add(task('TASK_STATE_SUBMITTED'));
    folder.add(artifact('a', '1'));
    folder.add(artifact('a', '2', true));
    folder.add(artifact('b', 'x'));
    folder.add(status('TASK_STATE_COMPLETED'));
    const result = folder.result();
    expect(result && 'status' in result && result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const artifacts = result && 'artifacts' in result ? result.artifacts : [];
    expect(artifacts.map((artifact) => artifact.parts.length)).toEqual([2, 1]);
  });

  it('builds a task from updates alone, and prefers a message', () => {
    const folder = new StreamFolder();
    folder.add(status('TASK_STATE_WORKING'));
    expect(folder.result()).toMatchObject({ id: 't', contextId: 'c' });
    folder.add(item({ message: { messageId: 'm', role: 'ROLE_AGENT', parts: [] } }));
    expect(folder.result()).toMatchObject({ messageId: 'm' });
  });

  it('never modifies the items it folds, and copies a snapshot only when an update follows', () => {
    const folder = new StreamFolder();
    const snapshot = task('TASK_STATE_SUBMITTED');
    const before = structuredClone(snapshot);
    folder.add(snapshot);
    expect(folder.result()).toBe(snapshot.payload?.$case === 'task' ? snapshot.payload.value : undefined);
    folder.add(artifact('a', '1'));
    folder.add(status('TASK_STATE_COMPLETED'));
    expect(snapshot).toEqual(before);
    const result = folder.result();
    expect(result && 'status' in result && result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(result && 'artifacts' in result ? result.artifacts : []).toHaveLength(1);
  });
});
