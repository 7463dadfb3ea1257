// Type-level checks (tsc runs them; vitest only runs the file): the transport classes are the SDK 1.x
// `Transport` and both 2.x packages' `Transport`, the hosts accept either major's Client, McpServer and
// low-level Server, and the per-major entry points hand out that major's own `Transport`.
import type { Client as ClientV2, Transport as ClientTransportV2 } from '@modelcontextprotocol/client';
import type {
  McpServer as McpServerV2,
  Server as ServerV2,
  Transport as ServerTransportV2,
} from '@modelcontextprotocol/server';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport as TransportV1 } from '@modelcontextprotocol/sdk/shared/transport.js';
import { expectTypeOf, it } from 'vitest';
import type {
  McpClientLike,
  McpMqttClientTransport,
  McpMqttServerSessionTransport,
  McpServerLike,
  MqttClientTransport,
  MqttServerSessionTransport,
} from '../src/index.js';
import type { clientTransport as clientTransportV1 } from '../src/sdk-v1.js';
import type { clientTransport as clientTransportV2 } from '../src/sdk-v2/client.js';

it('transports satisfy the 1.x and 2.x Transport contracts', () => {
  expectTypeOf<McpMqttClientTransport>().toExtend<TransportV1>();
  expectTypeOf<McpMqttServerSessionTransport>().toExtend<TransportV1>();
  expectTypeOf<McpMqttClientTransport>().toExtend<ClientTransportV2>();
  expectTypeOf<McpMqttServerSessionTransport>().toExtend<ServerTransportV2>();
});

it('the deprecated names are the same classes', () => {
  expectTypeOf<MqttClientTransport>().toEqualTypeOf<McpMqttClientTransport>();
  expectTypeOf<MqttServerSessionTransport>().toEqualTypeOf<McpMqttServerSessionTransport>();
});

it('hosts accept the SDK Client, McpServer and low-level Server', () => {
  expectTypeOf<Client>().toExtend<McpClientLike>();
  expectTypeOf<McpServer>().toExtend<McpServerLike>();
  expectTypeOf<Server>().toExtend<McpServerLike>();
  expectTypeOf<ClientV2>().toExtend<McpClientLike>();
  expectTypeOf<McpServerV2>().toExtend<McpServerLike>();
  expectTypeOf<ServerV2>().toExtend<McpServerLike>();
});

it("each major's entry point hands out that major's own Transport", () => {
  expectTypeOf<ReturnType<typeof clientTransportV1>>().toEqualTypeOf<TransportV1>();
  expectTypeOf<ReturnType<typeof clientTransportV2>>().toEqualTypeOf<ClientTransportV2>();
  expectTypeOf<Parameters<ClientV2['connect']>[0]>().toEqualTypeOf<ClientTransportV2>();
});
