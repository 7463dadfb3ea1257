// What a request carries on the wire and what an error reply turns into, for the requester.
import type { SendMessageRequest } from '@a2a-js/sdk';
import { fromJsonRpcErrorResponse } from '@a2a-js/sdk/errors';
import { MqttAgentsError, a2aRequestTopic } from '@mqtt-agents/core';
import type { AgentAddress } from '../agent-address.js';
import { MqttAuthError, readAuthErrorKind } from '../auth-errors.js';
import { MqttBindingError, readBindingErrorKind } from '../binding-errors.js';
import type { JsonRpcErrorObject } from '../binding-errors.js';

export function uuid(): string {
  return globalThis.crypto.randomUUID();
}

/** The request topic of one agent. */
export function topicOf(agent: AgentAddress): string {
  return a2aRequestTopic({ orgId: agent.org, unitId: agent.unit, agentId: agent.agentId });
}

/** Service parameters travel as `a2a-` user properties (`A2A-Version` -> `a2a-version`, `Authorization` -> `a2a-authorization`). */
export function serviceParametersToUserProperties(
  parameters: Record<string, string> | undefined,
): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters ?? {})) {
    const lower = name.toLowerCase();
    properties[lower.startsWith('a2a-') ? lower : `a2a-${lower}`] = value;
  }
  return properties;
}

/** Turn a JSON-RPC error from a responder into the error the caller sees: binding errors by their marker. */
export function toA2AError(error: JsonRpcErrorObject, id: unknown): Error {
  const kind = readBindingErrorKind(error);
  if (kind) return new MqttBindingError(kind, error);
  const authKind = readAuthErrorKind(error);
  if (authKind) return new MqttAuthError(authKind, error);
  return fromJsonRpcErrorResponse({
    jsonrpc: '2.0',
    id: typeof id === 'string' || typeof id === 'number' ? id : null,
    error: error as Parameters<typeof fromJsonRpcErrorResponse>[0]['error'],
  });
}

/**
 * The profile's id rules for a request: a new task gets a UUIDv4 `taskId` generated here (and a fresh
 * `contextId`, starting a conversation, when none is given); `messageId` is filled when empty.
 */
export function withRequesterIds(params: SendMessageRequest): SendMessageRequest {
  const message = params.message;
  if (!message) throw new MqttAgentsError('INVALID_PAYLOAD', 'SendMessage needs a message');
  const next = { ...message };
  if (!next.messageId) next.messageId = uuid();
  if (!next.taskId) {
    next.taskId = uuid();
    if (!next.contextId) next.contextId = uuid();
  }
  return { ...params, message: next };
}
