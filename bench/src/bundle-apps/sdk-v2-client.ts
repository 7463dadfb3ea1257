// Browser app for the bundle-size check (bench/src/bundle-size.ts), never run: an MCP client over MQTT with
// the MCP SDK 2.x `Client` (`@modelcontextprotocol/client`).
import { Client } from '@modelcontextprotocol/client';
import { createMcpMqttClientHost, mcpClientMqttOptions } from '@mqtt-agents/mcp';
import { connectClient } from '@mqtt-agents/mcp/sdk-v2/client';
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
await connectClient(host, client, 'factory/line-7/press');
