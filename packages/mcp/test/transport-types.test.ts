// Type-level checks: the transport classes satisfy the SDK 1.x `Transport` and the shape of the 2.x split
// packages' `Transport` (start, send with options, close, callbacks, optional session id and protocol
// version hooks), and the hosts accept what the SDK's Client and McpServer are.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport as TransportV1 } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { expectTypeOf, it } from 'vitest';
import type {
  McpClientLike,
  McpMqttClientTransport,
  McpMqttServerSessionTransport,
  McpServerLike,
  MqttClientTransport,
  MqttServerSessionTransport,
} from '../src/index.js';

/** The 2.x `Transport` (packages/core/src/shared/transport.ts), restated structurally. */
interface TransportV2 {
  start(): Promise<void>;
  send(
    message: JSONRPCMessage,
    options?: {
      relatedRequestId?: RequestId;
      resumptionToken?: string;
      onresumptiontoken?: (token: string) => void;
    },
  ): Promise<void>;
  close(): Promise<void>;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: never) => void) | undefined;
  sessionId?: string;
  setProtocolVersion?: ((version: string) => void) | undefined;
  setSupportedProtocolVersions?: ((versions: string[]) => void) | undefined;
}

it('transports satisfy the 1.x and 2.x Transport contracts', () => {
  expectTypeOf<McpMqttClientTransport>().toExtend<TransportV1>();
  expectTypeOf<McpMqttServerSessionTransport>().toExtend<TransportV1>();
  expectTypeOf<McpMqttClientTransport>().toExtend<TransportV2>();
  expectTypeOf<McpMqttServerSessionTransport>().toExtend<TransportV2>();
});

it('the deprecated names are the same classes', () => {
  expectTypeOf<MqttClientTransport>().toEqualTypeOf<McpMqttClientTransport>();
  expectTypeOf<MqttServerSessionTransport>().toEqualTypeOf<McpMqttServerSessionTransport>();
});

it('hosts accept the SDK Client, McpServer and low-level Server', () => {
  expectTypeOf<Client>().toExtend<McpClientLike>();
  expectTypeOf<McpServer>().toExtend<McpServerLike>();
  expectTypeOf<Server>().toExtend<McpServerLike>();
});
