// Stage: send. SendMessage / SendStreamingMessage follow the profile's task id rules (requester-generated
// UUIDv4 task ids, matching context ids), are matched in the duplicate window, and a repeat is answered
// from the state the first request produced instead of running again.
import { Task } from '@a2a-js/sdk';
import { TaskNotFoundError } from '@a2a-js/sdk/errors';
import { JsonRpcTransportHandler } from '@a2a-js/sdk/server';
import type { ServerCallContext } from '@a2a-js/sdk/server';
import {
  A2AUserProperty,
  JsonRpcErrorCode,
  getUserProperty,
  jsonRpcError,
  jsonRpcErrorResponse,
  printable,
} from '@mqtt-agents/core';
import type { Logger } from '@mqtt-agents/core';
import { bindingErrorObject } from '../binding-errors.js';
import type { RequesterTaskIdStore } from '../requester-task-ids.js';
import { isStreamFinalState, isTerminalState } from '../stream-states.js';
import { ProtocolFailure } from './context.js';
import { UUID_V4, isPlainObject } from './rules.js';
import type { RequestContext } from './context.js';
import { sendKey } from './dedup.js';
import type { SendDedup, SendRecord } from './dedup.js';
import type { RpcRequest } from './dispatch.js';
import { statusItem } from './forward.js';
import type { Forwarder } from './forward.js';
import type { ReplyWriter } from './reply-writer.js';

export interface SendStageOptions {
  readonly taskIds: RequesterTaskIdStore;
  readonly dedup: SendDedup;
  readonly forwarder: Forwarder;
  readonly writer: ReplyWriter;
  readonly logger: Logger;
  /** Asked before a new task starts; false refuses it with `responder_unavailable`. */
  readonly taskAdmission: { admitsNewTask(): boolean } | undefined;
}

function fail(message: string): never {
  throw new ProtocolFailure(jsonRpcError(JsonRpcErrorCode.InvalidParams, message));
}

export class SendStage {
  readonly #options: SendStageOptions;

  constructor(options: SendStageOptions) {
    this.#options = options;
  }

  async send(context: RequestContext, rpc: RpcRequest, call: ServerCallContext): Promise<void> {
    const { dedup, taskIds, logger } = this.#options;
    const a2aMessage = rpc.params.message;
    if (!isPlainObject(a2aMessage)) fail('params.message must be an object');
    const { messageId, taskId, contextId } = a2aMessage;
    if (typeof messageId !== 'string' || messageId === '') fail('message.messageId is required');
    if (typeof taskId !== 'string' || !UUID_V4.test(taskId)) {
      const shown = typeof taskId === 'string' ? `'${taskId.slice(0, 80)}'` : 'missing';
      fail(`message.taskId ${shown} is not a UUIDv4: over MQTT the requester generates the task id`);
    }
    if (contextId !== undefined && typeof contextId !== 'string') fail('message.contextId must be a string');
    const headerContext = getUserProperty(context.message.properties, A2AUserProperty.ContextId);
    if (headerContext !== undefined && contextId && headerContext !== contextId) {
      throw new ProtocolFailure(
        bindingErrorObject(
          'transport_protocol_error',
          `user property a2a-context-id '${headerContext}' does not match message.contextId '${contextId}'`,
        ),
      );
    }

    const streaming = rpc.method === 'SendStreamingMessage';
    const key = sendKey(taskId, messageId);
    const prepared = context.send?.key === key ? context.send : undefined;
    const repeat = async (known: SendRecord): Promise<void> => {
      if (known.requester !== context.requester) {
        logger.info(
          `refused a repeat of message ${printable(messageId, 80)} of task ${taskId} from another requester`,
        );
        fail(`message ${printable(messageId, 80)} of task ${taskId} was sent by another requester`);
      }
      logger.debug(`request for task ${taskId} repeats message ${messageId}: answering from existing state`);
      await this.#answerDuplicate(context, known, rpc, call, streaming, taskId);
    };
    if (prepared?.retry) {
      await repeat(prepared.record);
      return;
    }
    let record = prepared?.record;
    if (!record) {
      // Not matched before admission (a protected request): matched here.
      const matched = dedup.match(key, context.requester);
      if (matched.kind === 'refused') throw new ProtocolFailure(matched.error);
      if (matched.kind === 'retry') {
        await repeat(matched.send.record);
        return;
      }
      record = matched.send.record;
    }
    try {
      const stored = await taskIds.load(taskId, call);
      if (stored?.history.some((entry) => entry.messageId === messageId)) {
        record.started = true;
        record.outcome = { kind: 'task', taskId };
        dedup.finish(key, record);
        await this.#answerDuplicate(context, record, rpc, call, streaming, taskId);
        return;
      }
      if (!stored) {
        if (this.#options.taskAdmission && !this.#options.taskAdmission.admitsNewTask()) {
          throw new ProtocolFailure(
            bindingErrorObject(
              'responder_unavailable',
              'agent holds too many unfinished tasks, try again later',
            ),
          );
        }
        const newContextId =
          typeof contextId === 'string' && contextId !== '' ? contextId : globalThis.crypto.randomUUID();
        taskIds.reserve(call, taskId, newContextId);
      }
      record.started = true;
      await this.#options.forwarder.forward(context, rpc, call, record);
    } catch (error) {
      record.outcome ??= {
        kind: 'error',
        error:
          error instanceof ProtocolFailure ? error.error : JsonRpcTransportHandler.mapToJSONRPCError(error),
      };
      throw error;
    } finally {
      dedup.finish(key, record);
    }
  }

  /** Answer a repeated (taskId, messageId) from the state the first request produced. */
  async #answerDuplicate(
    context: RequestContext,
    record: SendRecord,
    rpc: RpcRequest,
    call: ServerCallContext,
    streaming: boolean,
    taskId: string,
  ): Promise<void> {
    const { writer, taskIds, forwarder } = this.#options;
    await (streaming ? record.firstAnswer : record.done);
    const outcome = record.outcome ?? { kind: 'task', taskId };
    if (outcome.kind === 'error') {
      await writer.reply(context, jsonRpcErrorResponse(rpc.id, outcome.error));
      return;
    }
    if (outcome.kind === 'message') {
      await writer.reply(context, { jsonrpc: '2.0', id: rpc.id, result: outcome.result });
      return;
    }
    const task = await taskIds.load(outcome.taskId, call);
    if (!task) throw new TaskNotFoundError(`Task not found: ${outcome.taskId}`);
    if (!streaming || isTerminalState(task.status?.state)) {
      await writer.reply(context, { jsonrpc: '2.0', id: rpc.id, result: { task: Task.toJSON(task) } });
      return;
    }
    if (isStreamFinalState(task.status?.state)) {
      // Interrupted: the snapshot, then its status as the update that ends this correlation's stream.
      await writer.reply(context, { jsonrpc: '2.0', id: rpc.id, result: { task: Task.toJSON(task) } });
      await writer.reply(context, statusItem(rpc.id, task));
      return;
    }
    // The task is still running: follow it like SubscribeToTask would.
    const subscribe = {
      jsonrpc: '2.0' as const,
      id: rpc.id,
      method: 'SubscribeToTask',
      params: { id: outcome.taskId },
    };
    await forwarder.forward(context, subscribe, call, undefined);
  }
}
