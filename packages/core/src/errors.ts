const BRAND = Symbol.for('mqtt-agents.error');

/**
 * Every local error code the SDK raises. Wire errors (JSON-RPC error objects) are not errors of this kind:
 * they travel as data and are never thrown as `MqttAgentsError`.
 */
export type MqttAgentsErrorCode =
  | 'INVALID_IDENTIFIER'
  | 'INVALID_TOPIC'
  | 'INVALID_TOPIC_FILTER'
  | 'INVALID_PAYLOAD'
  | 'INVALID_URL'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_CONNECTED'
  | 'CONNECTION_CLOSED'
  | 'CONNECT_FAILED'
  | 'AGENT_OFFLINE'
  | 'SUBSCRIBE_FAILED'
  | 'PUBLISH_FAILED'
  | 'REQUEST_TIMEOUT'
  | 'ABORTED'
  | 'CLOSED'
  | 'ALREADY_STARTED'
  | 'DUPLICATE_SESSION'
  | 'PROTOCOL_ERROR'
  | 'UNSUPPORTED'
  | 'CONNECTION_MISMATCH';

/** What an `MqttAgentsError` carries besides its code and message. */
export interface MqttAgentsErrorOptions {
  /** The underlying error or abort reason, exposed as the standard `Error.cause`. */
  cause?: unknown;
  /** Structured facts about the failure (topic, identifier, limit, ...), for logs and programmatic checks. */
  details?: Record<string, unknown>;
}

/** The one base class of every error the SDK throws. Check with `MqttAgentsError.isInstance(error)`. */
export class MqttAgentsError extends Error {
  readonly code: MqttAgentsErrorCode;
  readonly details: Record<string, unknown> | undefined;
  private readonly [BRAND] = true;

  constructor(code: MqttAgentsErrorCode, message: string, options: MqttAgentsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MqttAgentsError';
    this.code = code;
    this.details = options.details;
  }

  /** True for errors of this SDK, also across bundled copies of the package. */
  static isInstance(value: unknown): value is MqttAgentsError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** True when `value` is an SDK error with the given code. */
  static hasCode(value: unknown, code: MqttAgentsErrorCode): value is MqttAgentsError {
    return MqttAgentsError.isInstance(value) && value.code === code;
  }
}

/** Turn an abort reason into the error a blocking call rejects with. */
export function abortError(signal: AbortSignal, what: string): MqttAgentsError {
  const reason: unknown = signal.reason;
  if (MqttAgentsError.isInstance(reason)) return reason;
  return new MqttAgentsError('ABORTED', `${what} was aborted`, { cause: reason });
}
