// The profile's rules on methods and ids that several responder stages apply.

export const SEND_METHODS: ReadonlySet<string> = new Set(['SendMessage', 'SendStreamingMessage']);
/** The methods whose replies are streams, where binary artifact chunks can travel. */
export const STREAM_METHODS: ReadonlySet<string> = new Set(['SendStreamingMessage', 'SubscribeToTask']);
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
