// Browser app for the bundle-size check (bench/src/bundle-size.ts), never run: an MCP client over MQTT with
// the MCP SDK 1.x `Client`, as the client guide writes it (docs/mcp-client.md).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createMcpMqttClientHost, mcpClientMqttOptions } from '@mqtt-agents/mcp';
import mqtt from 'mqtt';

export const connection = mqtt.connect(
  'wss://broker.example/mqtt',
  mcpClientMqttOptions({ mcpClientId: 'browser-app' }),
);
export const client = new Client({ name: 'browser-app', version: '1.0.0' });
export const host = await createMcpMqttClientHost({
  mqtt: { client: connection },
  serverNameFilters: ['factory/#'],
});
await host.connect(client, 'factory/line-7/press');
