// Stage: forward. A dispatched request goes to the SDK's JSON-RPC handler, and what comes back goes to the
// reply writer: one reply, or a stream that ends (for this correlation) on its first final item.
import { StreamResponse } from '@a2a-js/sdk';
import type { Task as TaskObject } from '@a2a-js/sdk';
import { JsonRpcTransportHandler } from '@a2a-js/sdk/server';
import type { ServerCallContext } from '@a2a-js/sdk/server';
import { jsonRpcErrorResponse } from '@mqtt-agents/core';
import type { JsonRpcId, Logger } from '@mqtt-agents/core';
import type { JsonRpcErrorObject } from '../binding-errors.js';
import { isStreamFinalResponse, isStreamFinalState } from '../stream-states.js';
import { isPlainObject } from './rules.js';
import type { RequestContext } from './context.js';
import type { SendRecord } from './dedup.js';
import type { RpcRequest } from './dispatch.js';
import type { ChunkSeqnos, ReplyWriter } from './reply-writer.js';

/** A stream item carrying a task's current status as a TaskStatusUpdateEvent. */
export function statusItem(id: JsonRpcId, task: TaskObject): unknown {
  const update = { taskId: task.id, contextId: task.contextId, status: task.status, metadata: undefined };
  return {
    jsonrpc: '2.0',
    id,
    result: StreamResponse.toJSON({ payload: { $case: 'statusUpdate', value: update } }),
  };
}

function isAsyncIterable(value: unknown): value is AsyncGenerator<unknown, void, undefined> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

export class Forwarder {
  constructor(
    private readonly transport: JsonRpcTransportHandler,
    private readonly writer: ReplyWriter,
    private readonly logger: Logger,
  ) {}

  /** Hand a request to the SDK and publish what comes back; `record` learns the answer of a send. */
  async forward(
    context: RequestContext,
    rpc: RpcRequest,
    call: ServerCallContext,
    record: SendRecord | undefined,
  ): Promise<void> {
    const answer = await this.transport.handle(rpc, call);
    if (!isAsyncIterable(answer)) {
      if (record) {
        const result = (answer as { result?: unknown }).result;
        if (answer.error !== undefined)
          record.outcome = { kind: 'error', error: answer.error as JsonRpcErrorObject };
        else if (isPlainObject(result) && 'message' in result) record.outcome = { kind: 'message', result };
        record.resolveDone();
      }
      await this.writer.reply(context, answer);
      return;
    }
    await this.#forwardStream(context, answer, rpc, record);
  }

  async #forwardStream(
    context: RequestContext,
    stream: AsyncGenerator<unknown, void, undefined>,
    rpc: RpcRequest,
    record: SendRecord | undefined,
  ): Promise<void> {
    // Only SendStreamingMessage keeps consuming after the final item: its consumer is what persists later
    // events (the SDK does not stop at AUTH_REQUIRED), while SubscribeToTask is a mere observer.
    const persistAfterFinal = rpc.method === 'SendStreamingMessage';
    const seqnos: ChunkSeqnos = new Map();
    let final = false;
    let items = 0;
    try {
      for (;;) {
        const next = await stream.next();
        if (next.done) break;
        if (final) continue;
        const item = next.value as { result?: unknown };
        items++;
        const response = StreamResponse.fromJSON(item.result ?? {});
        if (record && items === 1) {
          if (response.payload?.$case === 'message')
            record.outcome = { kind: 'message', result: item.result };
          record.resolveFirstAnswer();
        }
        final = isStreamFinalResponse(response);
        const sentAsChunks =
          context.artifactMode === 'binary' &&
          response.payload?.$case === 'artifactUpdate' &&
          (await this.writer.replyBinary(context, response.payload.value, seqnos));
        if (!sentAsChunks) await this.writer.reply(context, item);
        const snapshot = response.payload?.$case === 'task' ? response.payload.value : undefined;
        if (
          rpc.method === 'SubscribeToTask' &&
          items === 1 &&
          snapshot &&
          isStreamFinalState(snapshot.status?.state)
        ) {
          // An interrupted task does nothing until new input arrives: over HTTP the SDK would hold the
          // connection open; over MQTT its status ends this correlation's stream, as the profile wants.
          await this.writer.reply(context, statusItem(rpc.id as JsonRpcId, snapshot));
          final = true;
        }
        if (final) {
          record?.resolveDone();
          context.slot.release();
          if (!persistAfterFinal) {
            await stream.return(undefined);
            break;
          }
        }
      }
    } catch (error) {
      if (record && items === 0) {
        record.outcome = { kind: 'error', error: JsonRpcTransportHandler.mapToJSONRPCError(error) };
      }
      if (!final) {
        await this.writer.reply(
          context,
          jsonRpcErrorResponse(rpc.id as JsonRpcId, JsonRpcTransportHandler.mapToJSONRPCError(error)),
        );
      } else {
        this.logger.warn(`task stream for request ${String(rpc.id)} failed after its final item`, error);
      }
    }
  }
}
