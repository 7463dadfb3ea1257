import { McpComponentType } from '@mqtt-agents/core';
import type { MqttConnection } from '@mqtt-agents/core';
import { describe, expect, it } from 'vitest';
import { openBindingConnection, serverWill } from './binding-connect-options.js';

describe('openBindingConnection', () => {
  it('refuses a borrowed { connection } with UNSUPPORTED: a host needs its own client id and will', async () => {
    const connection = { closed: false } as unknown as MqttConnection;
    await expect(
      openBindingConnection(
        { connection },
        {
          clientId: 'server-1',
          componentType: McpComponentType.Server,
          componentMeta: undefined,
          will: serverWill({ serverId: 'server-1', serverName: 'acme/weather', qos: 1 }),
        },
        { logger: { debug() {}, info() {}, warn() {}, error() {} } },
      ),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('mcpServerMqttOptions()'),
    });
  });
});
