import { A2AError, ERROR_INFO_TYPE } from '@a2a-js/sdk/errors';

/**
 * The three error conditions the MQTT binding adds to A2A, with the `a2a_error` marker the profile
 * requires. Their numeric codes collide with core A2A codes (-32003 PushNotificationNotSupported,
 * -32004 UnsupportedOperation, -32005 ContentTypeNotSupported), so the marker, never the code, tells
 * them apart (spec decision 9).
 */
export const BINDING_ERRORS = {
  request_expired: { code: -32003, reason: 'REQUEST_EXPIRED', retryable: true },
  responder_unavailable: { code: -32004, reason: 'RESPONDER_UNAVAILABLE', retryable: true },
  transport_protocol_error: { code: -32005, reason: 'TRANSPORT_PROTOCOL_ERROR', retryable: false },
} as const;

/** The `a2a_error` marker values of the MQTT binding. */
export type BindingErrorKind = keyof typeof BINDING_ERRORS;

/** ErrorInfo domain of binding errors. */
export const BINDING_ERROR_DOMAIN = 'a2a-over-mqtt';

/** A JSON-RPC error object as it travels in a reply. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** ErrorInfo metadata key that says the request may have run although the answer is an error. */
export const MAY_HAVE_RUN_METADATA = 'mayHaveRun';

/**
 * The JSON-RPC error object for a binding error: `data` is an array holding one ErrorInfo-style object
 * that also carries `a2a_error`, so readers of either convention (A2A error details, or the profile's
 * `error.data.a2a_error`) find what they look for. `mayHaveRun` adds ErrorInfo metadata
 * `{ mayHaveRun: 'true' }`: without it, a binding error means the request did not run.
 */
export function bindingErrorObject(
  kind: BindingErrorKind,
  message: string,
  options: { mayHaveRun?: boolean } = {},
): JsonRpcErrorObject {
  const { code, reason } = BINDING_ERRORS[kind];
  return {
    code,
    message,
    data: [
      {
        '@type': ERROR_INFO_TYPE,
        reason,
        domain: BINDING_ERROR_DOMAIN,
        a2a_error: kind,
        ...(options.mayHaveRun ? { metadata: { [MAY_HAVE_RUN_METADATA]: 'true' } } : {}),
      },
    ],
  };
}

/** True when a binding error's ErrorInfo says the request may have run. */
function saysMayHaveRun(data: unknown): boolean {
  const candidates = Array.isArray(data) ? data : [data];
  return candidates.some((entry) => {
    const metadata = (entry as { metadata?: unknown } | null)?.metadata;
    return (
      typeof metadata === 'object' &&
      metadata !== null &&
      (metadata as Record<string, unknown>)[MAY_HAVE_RUN_METADATA] === 'true'
    );
  });
}

function isBindingErrorKind(value: unknown): value is BindingErrorKind {
  return typeof value === 'string' && Object.hasOwn(BINDING_ERRORS, value);
}

/**
 * The binding error a JSON-RPC error object carries, read from its `a2a_error` marker in either shape
 * (`data: [{ a2a_error }]` or `data: { a2a_error }`). `undefined` for every other error, whatever its code.
 */
export function readBindingErrorKind(error: unknown): BindingErrorKind | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const data = (error as { data?: unknown }).data;
  const candidates = Array.isArray(data) ? data : [data];
  for (const entry of candidates) {
    if (typeof entry !== 'object' || entry === null) continue;
    const marker = (entry as { a2a_error?: unknown }).a2a_error;
    if (isBindingErrorKind(marker)) return marker;
  }
  return undefined;
}

/**
 * A binding error received from a responder (request expired, responder unavailable, transport protocol
 * error). It is an `A2AError` of the official SDK, so `instanceof A2AError` catches it with the others.
 */
export class MqttBindingError extends A2AError {
  /** The `a2a_error` marker. */
  readonly kind: BindingErrorKind;
  /** The JSON-RPC `error.code` as received. */
  readonly code: number;
  /** True for `request_expired` and `responder_unavailable`, which a requester may retry. */
  readonly retryable: boolean;
  /** The JSON-RPC `error.data` as received. */
  readonly data: unknown;
  /** ErrorInfo reason: `REQUEST_EXPIRED`, `RESPONDER_UNAVAILABLE` or `TRANSPORT_PROTOCOL_ERROR`. */
  override readonly reason: string;
  /**
   * True when the request may have run anyway: the agent said so, or an earlier attempt of the same
   * request went unanswered. False means it did not run.
   */
  readonly mayHaveRun: boolean;

  constructor(kind: BindingErrorKind, error: JsonRpcErrorObject, options: { mayHaveRun?: boolean } = {}) {
    super({ message: error.message });
    this.name = 'MqttBindingError';
    this.kind = kind;
    this.code = error.code;
    this.retryable = BINDING_ERRORS[kind].retryable;
    this.data = error.data;
    this.reason = BINDING_ERRORS[kind].reason;
    this.mayHaveRun = options.mayHaveRun === true || saysMayHaveRun(error.data);
  }
}
