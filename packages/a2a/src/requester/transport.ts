// The requester half of the binding: the `Transport` of `@a2a-js/sdk`'s client for one agent (or pool)
// over MQTT. Each A2A method becomes an `ExchangePlan` run by exchange.ts; the security codecs
// (../security) wrap every attempt the way a2a-js wraps a `Transport` in a decorator.
import {
  AgentCard,
  CancelTaskRequest,
  DeleteTaskPushNotificationConfigRequest,
  GetExtendedAgentCardRequest,
  GetTaskPushNotificationConfigRequest,
  GetTaskRequest,
  ListTaskPushNotificationConfigsRequest,
  ListTaskPushNotificationConfigsResponse,
  ListTasksRequest,
  ListTasksResponse,
  SendMessageRequest,
  SubscribeToTaskRequest,
  Task,
  TaskPushNotificationConfig,
} from '@a2a-js/sdk';
import type { SendMessageResult, StreamResponse } from '@a2a-js/sdk';
import type { RequestOptions, Transport } from '@a2a-js/sdk/client';
import { InvalidAgentResponseError } from '@a2a-js/sdk/errors';
import { A2A_PROTOCOL_VERSION } from '../agent-card.js';
import type { AgentAddress } from '../agent-address.js';
import { BearerRequestSealer } from '../security/bearer-codec.js';
import type { RequestSealer } from '../security/codec.js';
import { StreamFolder, isSendMessageFinalResponse, isStreamFinalResponse } from '../stream-states.js';
import type { PoolAddress } from '../task-routes.js';
import { Exchange } from './exchange.js';
import { streamResponseOf } from './reassemble.js';
import { ReplyReader } from './replies.js';
import { Router } from './route.js';
import type { ExchangePlan, RequesterSession } from './session.js';
import { withRequesterIds } from './wire.js';

/**
 * The `Transport` of `@a2a-js/sdk`'s client for one agent over MQTT: JSON-RPC requests published with QoS 1,
 * Response Topic and Correlation Data, answers read from the requester's reply topic, with the profile's
 * retry and timeout rules. Created by `MqttTransportFactory`.
 */
export class A2AMqttClientTransport implements Transport {
  readonly #router: Router;
  readonly #exchange: Exchange;
  readonly #protocolName: string;

  /** @internal Created by `MqttTransportFactory`. */
  constructor(
    session: RequesterSession,
    target: AgentAddress | PoolAddress,
    protocolName: string,
    card?: AgentCard,
  ) {
    this.#router = new Router(session, target);
    this.#protocolName = protocolName;
    const bearer = new BearerRequestSealer(session.auth, session.connection, card);
    const sealers: RequestSealer[] = session.ubsp ? [bearer, session.ubsp] : [bearer];
    this.#exchange = new Exchange({
      session,
      router: this.#router,
      reader: new ReplyReader(session.maxReplyBytes, () => this.#router.name),
      sealers,
      sendsTokens: bearer.sendsTokens,
      card,
      getTask: (id, options) => this.getTask({ tenant: '', id }, options),
    });
  }

  /** The agent (or pool) this transport talks to. */
  get target(): AgentAddress | PoolAddress {
    return this.#router.target;
  }

  /** Where requests go until a task's responder is known: the agent's or the pool's request topic. */
  get requestTopic(): string {
    return this.#router.requestTopic;
  }

  get protocolName(): string {
    return this.#protocolName;
  }

  get protocolVersion(): string {
    return A2A_PROTOCOL_VERSION;
  }

  /** GetExtendedAgentCard: the card the agent shows to an authenticated requester. */
  async getExtendedAgentCard(
    params: GetExtendedAgentCardRequest,
    options?: RequestOptions,
  ): Promise<AgentCard> {
    return AgentCard.fromJSON(
      await this.#unary('GetExtendedAgentCard', GetExtendedAgentCardRequest.toJSON(params), options),
    );
  }

  /**
   * SendMessage. A new task gets a requester-generated UUIDv4 `taskId` (and a `contextId` when none is set).
   * One reply is the answer; a responder that streams instead is followed to a final state and folded.
   */
  async sendMessage(params: SendMessageRequest, options?: RequestOptions): Promise<SendMessageResult> {
    const request = withRequesterIds(params);
    const message = request.message as NonNullable<SendMessageRequest['message']>;
    const returnImmediately = request.configuration?.returnImmediately === true;
    const folder = new StreamFolder();
    const plan: ExchangePlan = {
      isFinal: (result) => returnImmediately || isSendMessageFinalResponse(streamResponseOf(result)),
      recoverTaskId: message.taskId,
      taskId: message.taskId,
      contextId: message.contextId,
      onStall: 'return',
    };
    for await (const result of this.#exchange.run(
      'SendMessage',
      SendMessageRequest.toJSON(request),
      options,
      plan,
    )) {
      folder.add(streamResponseOf(result));
    }
    const folded = folder.result();
    if (!folded)
      throw new InvalidAgentResponseError('the agent answered SendMessage with neither a task nor a message');
    return folded;
  }

  /** SendStreamingMessage: every reply is one stream item; the stream ends on a terminal or interrupted state. */
  async *sendMessageStream(
    params: SendMessageRequest,
    options?: RequestOptions,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    const request = withRequesterIds(params);
    const message = request.message as NonNullable<SendMessageRequest['message']>;
    const plan: ExchangePlan = {
      isFinal: (result) => isStreamFinalResponse(streamResponseOf(result)),
      recoverTaskId: message.taskId,
      taskId: message.taskId,
      contextId: message.contextId,
      streaming: true,
      onStall: 'throw',
    };
    for await (const result of this.#exchange.run(
      'SendStreamingMessage',
      SendMessageRequest.toJSON(request),
      options,
      plan,
    )) {
      yield streamResponseOf(result);
    }
  }

  /** CreateTaskPushNotificationConfig, sent to the agent that serves the task. */
  async createTaskPushNotificationConfig(
    params: TaskPushNotificationConfig,
    options?: RequestOptions,
  ): Promise<TaskPushNotificationConfig> {
    return TaskPushNotificationConfig.fromJSON(
      await this.#unary(
        'CreateTaskPushNotificationConfig',
        TaskPushNotificationConfig.toJSON(params),
        options,
        params.taskId,
      ),
    );
  }

  /** GetTaskPushNotificationConfig, sent to the agent that serves the task. */
  async getTaskPushNotificationConfig(
    params: GetTaskPushNotificationConfigRequest,
    options?: RequestOptions,
  ): Promise<TaskPushNotificationConfig> {
    return TaskPushNotificationConfig.fromJSON(
      await this.#unary(
        'GetTaskPushNotificationConfig',
        GetTaskPushNotificationConfigRequest.toJSON(params),
        options,
        params.taskId,
      ),
    );
  }

  /** ListTaskPushNotificationConfigs: the push configurations of one task. */
  async listTaskPushNotificationConfig(
    params: ListTaskPushNotificationConfigsRequest,
    options?: RequestOptions,
  ): Promise<ListTaskPushNotificationConfigsResponse> {
    return ListTaskPushNotificationConfigsResponse.fromJSON(
      await this.#unary(
        'ListTaskPushNotificationConfigs',
        ListTaskPushNotificationConfigsRequest.toJSON(params),
        options,
        params.taskId,
      ),
    );
  }

  /** DeleteTaskPushNotificationConfig, sent to the agent that serves the task. */
  async deleteTaskPushNotificationConfig(
    params: DeleteTaskPushNotificationConfigRequest,
    options?: RequestOptions,
  ): Promise<void> {
    await this.#unary(
      'DeleteTaskPushNotificationConfig',
      DeleteTaskPushNotificationConfigRequest.toJSON(params),
      options,
      params.taskId,
    );
  }

  /** GetTask: the task's current state (and history, as asked), from the agent that serves it. */
  async getTask(params: GetTaskRequest, options?: RequestOptions): Promise<Task> {
    return Task.fromJSON(await this.#unary('GetTask', GetTaskRequest.toJSON(params), options, params.id));
  }

  /** CancelTask: ask the agent that serves the task to cancel it; resolves with the task as it then is. */
  async cancelTask(params: CancelTaskRequest, options?: RequestOptions): Promise<Task> {
    return Task.fromJSON(
      await this.#unary('CancelTask', CancelTaskRequest.toJSON(params), options, params.id),
    );
  }

  /** ListTasks: the agent's tasks matching the request's filters, a page at a time. */
  async listTasks(params: ListTasksRequest, options?: RequestOptions): Promise<ListTasksResponse> {
    return ListTasksResponse.fromJSON(
      await this.#unary('ListTasks', ListTasksRequest.toJSON(params), options),
    );
  }

  /** SubscribeToTask: the task's current state, then its updates until a terminal or interrupted state. */
  async *resubscribeTask(
    params: SubscribeToTaskRequest,
    options?: RequestOptions,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    const plan: ExchangePlan = {
      isFinal: (result) => isStreamFinalResponse(streamResponseOf(result)),
      recoverTaskId: params.id,
      taskId: params.id,
      streaming: true,
      onStall: 'throw',
    };
    for await (const result of this.#exchange.run(
      'SubscribeToTask',
      SubscribeToTaskRequest.toJSON(params),
      options,
      plan,
    )) {
      yield streamResponseOf(result);
    }
  }

  async #unary(
    method: string,
    params: unknown,
    options: RequestOptions | undefined,
    taskId?: string,
  ): Promise<unknown> {
    const plan: ExchangePlan = {
      isFinal: () => true,
      recoverTaskId: undefined,
      taskId: taskId === '' ? undefined : taskId,
      onStall: 'throw',
    };
    for await (const result of this.#exchange.run(method, params, options, plan)) return result;
    throw new InvalidAgentResponseError(`${this.#router.name} sent no answer to ${method}`);
  }
}
