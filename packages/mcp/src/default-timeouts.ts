/**
 * The per-method request timeouts that the MCP over MQTT specification recommends, in milliseconds.
 * Both transports apply them to the requests they carry (configurable with `requestTimeouts`); a method
 * that is not listed keeps the SDK's own timeout (60 s unless the caller passes `timeout`).
 */
export const MCP_MQTT_DEFAULT_TIMEOUTS: Readonly<Record<string, number>> = Object.freeze({
  initialize: 30_000,
  ping: 10_000,
  'roots/list': 30_000,
  'resources/list': 30_000,
  'tools/list': 30_000,
  'prompts/list': 30_000,
  'prompts/get': 30_000,
  'sampling/createMessage': 60_000,
  'resources/read': 30_000,
  'resources/templates/list': 30_000,
  'resources/subscribe': 30_000,
  'tools/call': 60_000,
  'completion/complete': 60_000,
  'logging/setLevel': 30_000,
});

/**
 * How a transport times out the requests it carries: a map of method to milliseconds, merged over
 * {@link MCP_MQTT_DEFAULT_TIMEOUTS}, or `false` to leave every timeout to the SDK.
 */
export type RequestTimeoutsOption = Readonly<Record<string, number>> | false;

/** Resolve the user's option into one lookup table (empty when timeouts are disabled). */
export function resolveRequestTimeouts(
  option: RequestTimeoutsOption | undefined,
): ReadonlyMap<string, number> {
  if (option === false) return new Map();
  const table = new Map(Object.entries(MCP_MQTT_DEFAULT_TIMEOUTS));
  for (const [method, milliseconds] of Object.entries(option ?? {})) {
    if (Number.isFinite(milliseconds) && milliseconds > 0) table.set(method, milliseconds);
    else table.delete(method);
  }
  return table;
}
