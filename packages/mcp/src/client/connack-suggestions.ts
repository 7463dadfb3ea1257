import { McpComponentType, decodeJson, isValidIdentifier } from '@mqtt-agents/core';
import type { Logger, MqttConnection, MqttConnectionOptions, MqttQoS } from '@mqtt-agents/core';
import { clientWill, openBindingConnection } from '../binding-connect-options.js';
import type { McpClientRole } from './options.js';

// Opening a client connection and reading what the broker suggests in CONNACK.

export async function openClientConnection(
  mqtt: MqttConnectionOptions,
  options: {
    mcpClientId: string;
    componentMeta: Record<string, unknown> | undefined;
    qos: MqttQoS;
    logger: Logger;
    signal: AbortSignal | undefined;
  },
): Promise<MqttConnection> {
  return openBindingConnection(
    mqtt,
    {
      clientId: options.mcpClientId,
      componentType: McpComponentType.Client,
      componentMeta: options.componentMeta,
      will: clientWill({ mcpClientId: options.mcpClientId, qos: options.qos }),
    },
    { logger: options.logger, signal: options.signal },
  );
}

export function parseJsonProperty(value: string | undefined, what: string, logger: Logger): unknown {
  if (value === undefined) return undefined;
  const decoded = decodeJson(value, { maxBytes: 256 * 1024 });
  if (!decoded.ok) {
    logger.warn(`ignored broker ${what}: ${decoded.error.message}`);
    return undefined;
  }
  return decoded.value;
}

export function readSuggestedFilters(value: unknown, logger: Logger): string[] | undefined {
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((item) => isValidIdentifier('server-name-filter', item))
  ) {
    logger.warn('ignored broker-suggested server name filters: not a non-empty array of valid filters');
    return undefined;
  }
  return value as string[];
}

export function readRoles(value: unknown, logger: Logger): McpClientRole[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    logger.warn('ignored broker MCP-RBAC: not a json array');
    return [];
  }
  const roles: McpClientRole[] = [];
  for (const entry of value) {
    const record = entry as { server_name?: unknown; role_name?: unknown } | null;
    if (typeof record?.server_name === 'string' && typeof record.role_name === 'string') {
      roles.push({ serverName: record.server_name, roleName: record.role_name });
    } else {
      logger.warn('ignored a malformed MCP-RBAC entry');
    }
  }
  return roles;
}
