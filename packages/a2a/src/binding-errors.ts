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

/**
 * The JSON-RPC error object for a binding error: `data` is an array holding one ErrorInfo-style object
 * that also carries `a2a_error`, so readers of either convention (A2A error details, or the profile's
 * `error.data.a2a_error`) find what they look for.
 */
export function bindingErrorObject(kind: BindingErrorKind, message: string): JsonRpcErrorObject {
  const { code, reason } = BINDING_ERRORS[kind];
  return {
    code,
    message,
    data: [{ '@type': ERROR_INFO_TYPE, reason, domain: BINDING_ERROR_DOMAIN, a2a_error: kind }],
  };
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

  constructor(kind: BindingErrorKind, error: JsonRpcErrorObject) {
    super({ message: error.message });
    this.name = 'MqttBindingError';
    this.kind = kind;
    this.code = error.code;
    this.retryable = BINDING_ERRORS[kind].retryable;
    this.data = error.data;
    this.reason = BINDING_ERRORS[kind].reason;
  }
}
