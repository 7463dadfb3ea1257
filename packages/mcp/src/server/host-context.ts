import type { Logger } from '@mqtt-agents/core';
import type { InboundRouter } from '../inbound/inbound-router.js';
import type { McpMqttLink } from '../mcp-mqtt-link.js';
import type { ServeMcpOverMqttOptions } from './options.js';
import type { SessionRegistry } from './session-registry.js';

/** @internal The narrow view of a server host that its inbound stages and the session opener take. */
export interface ServerHostContext {
  readonly serverId: string;
  readonly serverName: string;
  readonly link: McpMqttLink;
  readonly logger: Logger;
  readonly options: ServeMcpOverMqttOptions;
  readonly inbound: InboundRouter;
  readonly registry: SessionRegistry;
  readonly trustBrokerIdentity: boolean;
  /** True once the host began to close: nothing new is opened or routed. */
  isClosed(): boolean;
  /** True once the host began to drain: new sessions are refused, open ones go on. */
  isDraining(): boolean;
}
