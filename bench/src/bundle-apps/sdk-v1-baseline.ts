// Browser app for the bundle-size check (bench/src/bundle-size.ts), never run: the MCP SDK 1.x `Client` and
// MQTT.js alone, the baseline that `sdk-v1-client.ts` adds our packages to.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import mqtt from 'mqtt';

export const connection = mqtt.connect('wss://broker.example/mqtt', { protocolVersion: 5 });
export const client = new Client({ name: 'browser-app', version: '1.0.0' });
