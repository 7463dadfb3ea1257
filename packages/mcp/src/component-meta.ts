/** `MCP-META` sent on CONNECT when the user gives none: who we are, for brokers that suggest names. */
export const DEFAULT_COMPONENT_META: Readonly<Record<string, unknown>> = Object.freeze({
  implementation: '@mqtt-agents/mcp',
});
