import type { MqttUserProperties } from '@mqtt-agents/core';

/** MQTT user properties of the A2A binding that this package reads or writes. */
export const A2A_PROPERTY = {
  status: 'a2a-status',
  statusSource: 'a2a-status-source',
  contextId: 'a2a-context-id',
  version: 'a2a-version',
  extensions: 'a2a-extensions',
  authorization: 'a2a-authorization',
  responderAgentId: 'a2a-responder-agent-id',
} as const;

/** Every value of a user property (MQTT lets a key repeat). */
export function userPropertyValues(properties: MqttUserProperties | undefined, key: string): string[] {
  const value = properties?.[key];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The last value of a user property, or `undefined`. */
export function userProperty(properties: MqttUserProperties | undefined, key: string): string | undefined {
  const values = userPropertyValues(properties, key);
  return values[values.length - 1];
}
