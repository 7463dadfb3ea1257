// Stage: dispatch checks. A decoded request is checked against what this agent serves (method, params,
// tenant, bearer token, protocol version) and gets the SDK call context the executor will see.
import { Extensions } from '@a2a-js/sdk';
import { ServerCallContext, UnauthenticatedUser, validateVersion } from '@a2a-js/sdk/server';
import type { User } from '@a2a-js/sdk/server';
import type { AgentCard } from '@a2a-js/sdk';
import { A2AUserProperty, JsonRpcErrorCode, getUserProperty, jsonRpcError } from '@mqtt-agents/core';
import type { JsonRpcRequest, Logger } from '@mqtt-agents/core';
import { A2A_PROTOCOL_VERSION, MQTT_PROTOCOL_BINDING } from '../agent-card.js';
import type { BinaryArtifactOptions } from '../binary-artifacts.js';
import { BrokerIdentityUser } from '../caller-identity.js';
import type { BearerVerifier } from '../oauth.js';
import { A2A_METHODS, HANDOVER_STATE_KEY, MQTT_REQUEST_STATE_KEY } from './api.js';
import type { HandoverControl, MqttRequestInfo } from './api.js';
import { ProtocolFailure, withContext } from './context.js';
import { SEND_METHODS, STREAM_METHODS, isPlainObject } from './rules.js';
import type { RequestContext } from './context.js';

/** A request as the SDK's JSON-RPC handler takes it: params an object, without `tenant`. */
export type RpcRequest = JsonRpcRequest & { params: Record<string, unknown> };

/** A request this agent serves: its context now knows the task and the artifact mode. */
export interface Checked {
  readonly context: RequestContext;
  readonly request: JsonRpcRequest;
  readonly params: Record<string, unknown>;
}

/** What dispatch hands the send and forward stages. */
export interface Dispatched {
  readonly rpc: RpcRequest;
  readonly call: ServerCallContext;
}

export interface DispatchOptions {
  /** `{org}/{unit}`: the one tenant served. */
  readonly tenant: string;
  readonly card: () => AgentCard;
  readonly logger: Logger;
  readonly auth: BearerVerifier | undefined;
  readonly binary: BinaryArtifactOptions | undefined;
  readonly handover: HandoverControl;
}

/** The task a request is about, when it names one. */
export function referencedTaskId(method: string, params: Record<string, unknown>): string | undefined {
  let value: unknown;
  if (SEND_METHODS.has(method)) {
    const message = params.message;
    value = isPlainObject(message) ? message.taskId : undefined;
  } else if (method === 'GetTask' || method === 'CancelTask' || method === 'SubscribeToTask') {
    value = params.id;
  } else {
    value = params.taskId;
  }
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function normaliseVersion(version: string): string {
  const match = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(version.trim());
  return match ? `${match[1]}.${match[2]}` : version.trim();
}

/** Check that this agent serves `request` (method, params, tenant); throws `ProtocolFailure` to refuse. */
export function checkRequest(
  options: DispatchOptions,
  context: RequestContext,
  request: JsonRpcRequest,
): Checked {
  const { message } = context;
  const { method } = request;
  if (!A2A_METHODS.includes(method)) {
    throw new ProtocolFailure(jsonRpcError(JsonRpcErrorCode.MethodNotFound, `method not found: ${method}`));
  }
  const params = request.params ?? {};
  if (!isPlainObject(params)) {
    throw new ProtocolFailure(jsonRpcError(JsonRpcErrorCode.InvalidParams, 'params must be an object'));
  }
  const tenant = params.tenant;
  if (tenant !== undefined && tenant !== '' && tenant !== options.tenant) {
    throw new ProtocolFailure(
      jsonRpcError(
        JsonRpcErrorCode.InvalidParams,
        `tenant '${String(tenant)}' is not served here (expected '${options.tenant}')`,
      ),
    );
  }
  const requestedMode = getUserProperty(message.properties, A2AUserProperty.ArtifactMode);
  const next = withContext(context, {
    taskId: referencedTaskId(method, params),
    // Binary only where it is asked for, supported, and the replies are a stream; JSON otherwise.
    ...(requestedMode === undefined
      ? {}
      : {
          artifactMode:
            requestedMode === 'binary' && options.binary !== undefined && STREAM_METHODS.has(method)
              ? ('binary' as const)
              : ('json' as const),
        }),
  });
  return { context: next, request, params };
}

/**
 * Authorise a checked request (bearer token, protocol version) and build the SDK call context the
 * executor sees; throws `ProtocolFailure` (or the SDK's errors) to refuse.
 */
export async function prepareCall(options: DispatchOptions, checked: Checked): Promise<Dispatched> {
  const { context, request, params } = checked;
  const { message } = context;
  const { method } = request;
  let user: User | undefined;
  if (options.auth && !options.auth.isPublic(method)) {
    const header = getUserProperty(message.properties, A2AUserProperty.Authorization);
    const check = await options.auth.check(header, method, options.card());
    if (!check.ok) {
      options.logger.info(`refused ${method} on '${message.topic}': ${check.error.message}`);
      throw new ProtocolFailure(check.error);
    }
    user = check.user;
  }
  const userProperties = message.properties.userProperties ?? {};
  const requestedVersion = normaliseVersion(
    getUserProperty(message.properties, A2AUserProperty.Version) ?? A2A_PROTOCOL_VERSION,
  );
  validateVersion(requestedVersion, options.card(), MQTT_PROTOCOL_BINDING);

  // The tenant goes into the call context up front (the task store scopes by it); the SDK's JSON-RPC
  // handler would try to set it a second time from params, so params carry none.
  const { tenant: _tenant, ...paramsWithoutTenant } = params;
  const rpc = { ...request, params: paramsWithoutTenant } as RpcRequest;
  const extensions = getUserProperty(message.properties, A2AUserProperty.Extensions);
  // The verified caller: a validated token, else the broker's stamp (when trusted), else nobody.
  const caller: User =
    user ?? (context.sender ? new BrokerIdentityUser(context.sender) : new UnauthenticatedUser());
  const info: MqttRequestInfo = {
    topic: message.topic,
    pooled: context.reply.pooled,
    responseTopic: context.reply.topic,
    correlationData: context.reply.correlationData ?? new Uint8Array(0),
    userProperties,
    user: caller,
    ...(context.sender ? { sender: context.sender } : {}),
  };
  const call = new ServerCallContext({
    tenant: options.tenant,
    user: caller,
    requestedVersion,
    ...(extensions === undefined
      ? {}
      : { requestedExtensions: Extensions.parseServiceParameter(extensions) }),
    state: new Map<string, unknown>([
      [MQTT_REQUEST_STATE_KEY, info],
      [HANDOVER_STATE_KEY, options.handover],
    ]),
  });
  return { rpc, call };
}
