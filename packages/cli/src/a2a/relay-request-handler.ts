import type {
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
  Message,
  SendMessageRequest,
  StreamResponse,
  SubscribeToTaskRequest,
  Task,
  TaskPushNotificationConfig,
} from '@a2a-js/sdk';
import type { RequestOptions, Transport } from '@a2a-js/sdk/client';
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import type { A2ARequestHandler, ServerCallContext } from '@a2a-js/sdk/server';

/**
 * What the SDK's own request handler refuses with -32602 before an agent sees it: the requester fills in a
 * missing `messageId` (its id rules), so without this check a bridge would turn invalid params into a task.
 */
function assertSendParams(params: SendMessageRequest): void {
  if (!params.message?.messageId) throw new RequestMalformedError('message.messageId is required.');
}

/**
 * An `A2ARequestHandler` for the SDK's HTTP handlers that answers every call by relaying it to an agent on
 * MQTT through the MQTT client transport. Errors from the agent come back as the SDK's A2A errors, so the
 * HTTP client sees the agent's own JSON-RPC error codes.
 */
export class MqttRelayRequestHandler implements A2ARequestHandler {
  readonly #card: () => AgentCard;
  readonly #transport: () => Promise<Transport>;

  /**
   * @param card the card HTTP clients see (with the HTTP interface), read on every call
   * @param transport the MQTT transport to the agent, created on first use
   */
  constructor(card: () => AgentCard, transport: () => Promise<Transport>) {
    this.#card = card;
    this.#transport = transport;
  }

  async getAgentCard(): Promise<AgentCard> {
    return this.#card();
  }

  async getAuthenticatedExtendedAgentCard(
    params: GetExtendedAgentCardRequest,
    context: ServerCallContext,
  ): Promise<AgentCard> {
    const extended = await (await this.#transport()).getExtendedAgentCard(params, options(context));
    return { ...extended, supportedInterfaces: this.#card().supportedInterfaces };
  }

  async sendMessage(params: SendMessageRequest, context: ServerCallContext): Promise<Message | Task> {
    assertSendParams(params);
    return (await this.#transport()).sendMessage(params, options(context));
  }

  async *sendMessageStream(
    params: SendMessageRequest,
    context: ServerCallContext,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    assertSendParams(params);
    yield* (await this.#transport()).sendMessageStream(params, options(context));
  }

  async getTask(params: GetTaskRequest, context: ServerCallContext): Promise<Task> {
    return (await this.#transport()).getTask(params, options(context));
  }

  async cancelTask(params: CancelTaskRequest, context: ServerCallContext): Promise<Task> {
    return (await this.#transport()).cancelTask(params, options(context));
  }

  async listTasks(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    return (await this.#transport()).listTasks(params, options(context));
  }

  async *resubscribe(
    params: SubscribeToTaskRequest,
    context: ServerCallContext,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    yield* (await this.#transport()).resubscribeTask(params, options(context));
  }

  async createTaskPushNotificationConfig(
    params: TaskPushNotificationConfig,
    context: ServerCallContext,
  ): Promise<TaskPushNotificationConfig> {
    return (await this.#transport()).createTaskPushNotificationConfig(params, options(context));
  }

  async getTaskPushNotificationConfig(
    params: GetTaskPushNotificationConfigRequest,
    context: ServerCallContext,
  ): Promise<TaskPushNotificationConfig> {
    return (await this.#transport()).getTaskPushNotificationConfig(params, options(context));
  }

  async listTaskPushNotificationConfigs(
    params: ListTaskPushNotificationConfigsRequest,
    context: ServerCallContext,
  ): Promise<ListTaskPushNotificationConfigsResponse> {
    return (await this.#transport()).listTaskPushNotificationConfig(params, options(context));
  }

  async deleteTaskPushNotificationConfig(
    params: DeleteTaskPushNotificationConfigRequest,
    context: ServerCallContext,
  ): Promise<void> {
    await (await this.#transport()).deleteTaskPushNotificationConfig(params, options(context));
  }
}

/** The HTTP request's A2A extensions travel on as the `a2a-extensions` service parameter. */
function options(context: ServerCallContext): RequestOptions {
  const extensions = context.requestedExtensions;
  if (!extensions || extensions.length === 0) return {};
  return { serviceParameters: { 'A2A-Extensions': extensions.join(',') } };
}
