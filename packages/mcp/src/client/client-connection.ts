import {
  MqttAgentsError,
  mcpAnyServerCapabilityFilter,
  mcpClientPresenceTopic,
  mcpClientRpcFilter,
  parseMcpTopic,
} from '@mqtt-agents/core';
import type { Logger, MqttMessage } from '@mqtt-agents/core';
import { DISCONNECTED_NOTIFICATION } from '../inbound/inbound-messages.js';
import { InboundRouter } from '../inbound/inbound-router.js';
import type { McpMqttLink } from '../mcp-mqtt-link.js';
import type { HealthCheckOptions } from '../session/health-check.js';
import { InstanceTransport } from './instance-transport.js';

/** @internal Settings a client connection applies to every session transport it creates. */
export interface ClientSessionSettings {
  timeouts: ReadonlyMap<string, number>;
  healthCheck: HealthCheckOptions | undefined;
  filterResourceUpdates: boolean;
  maxInboundBytes: number;
}

/**
 * @internal One MQTT connection of a client host (one mcp-client-id) and the sessions it holds, at most one
 * per server-id. Routes the session topics to their transports.
 */
export class McpClientConnection {
  readonly link: McpMqttLink;
  readonly mcpClientId: string;
  /** True for a connection opened for a single session (closed with it). */
  readonly dedicated: boolean;
  private readonly sessions = new Map<string, InstanceTransport>();
  /** Server ids of sessions that ended lately: late messages for them are expected, not suspicious. */
  private readonly recentlyEnded = new Set<string>();
  /** Transports handed out but not started yet, so concurrent connects pick different instances. */
  private readonly reserved = new Map<string, InstanceTransport>();
  private readonly settings: ClientSessionSettings;
  private readonly inbound: InboundRouter;
  private readonly removers: Array<() => void> = [];
  private closing: Promise<void> | undefined;

  constructor(init: {
    link: McpMqttLink;
    dedicated: boolean;
    settings: ClientSessionSettings;
    report: (error: Error) => void;
  }) {
    this.link = init.link;
    this.mcpClientId = init.link.clientId;
    this.dedicated = init.dedicated;
    this.settings = init.settings;
    this.inbound = new InboundRouter({
      peerKind: 'server',
      maxInboundBytes: init.settings.maxInboundBytes,
      logger: init.link.logger,
      report: (error, session) => {
        init.report(error);
        session?.report(error);
      },
    });
    this.removers.push(
      this.link.route(mcpClientRpcFilter(this.mcpClientId), (message) => this.onSessionTopic(message)),
      this.link.route(mcpAnyServerCapabilityFilter(), (message) => this.onSessionTopic(message)),
      this.link.connection.on('connection-drop', () =>
        this.endAll(
          new MqttAgentsError('CONNECTION_CLOSED', 'mqtt connection lost: session closed', {
            details: { loss: 'connection' },
          }),
        ),
      ),
      this.link.connection.on('connection-close', () =>
        this.endAll(
          new MqttAgentsError('CONNECTION_CLOSED', 'mqtt connection closed: session closed', {
            details: { loss: 'connection-closed' },
          }),
        ),
      ),
    );
  }

  get logger(): Logger {
    return this.link.logger;
  }

  /** True when a session with the instance exists or a transport for one was handed out and not ended. */
  hasSessionWith(serverId: string): boolean {
    return this.sessions.has(serverId) || this.reserved.has(serverId);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** A transport for a session with one server instance (no I/O until the SDK starts it). */
  createTransport(
    server: { serverId: string; serverName: string },
    afterEnd?: () => Promise<void>,
  ): InstanceTransport {
    const transport = new InstanceTransport({
      link: this.link,
      mcpClientId: this.mcpClientId,
      serverId: server.serverId,
      serverName: server.serverName,
      timeouts: this.settings.timeouts,
      healthCheck: this.settings.healthCheck,
      filterResourceUpdates: this.settings.filterResourceUpdates,
      register: (transport) => {
        if (this.closing) throw new MqttAgentsError('CLOSED', 'the mcp client host is closed');
        const reservedBy = this.reserved.get(transport.serverId);
        if (this.sessions.has(transport.serverId) || (reservedBy !== undefined && reservedBy !== transport)) {
          throw new MqttAgentsError(
            'DUPLICATE_SESSION',
            `a session with server '${transport.serverId}' already exists on mqtt client '${this.mcpClientId}': close it first, or connect with { dedicatedConnection: true }`,
            { details: { serverId: transport.serverId, mcpClientId: this.mcpClientId } },
          );
        }
        if (reservedBy === transport) this.reserved.delete(transport.serverId);
        this.sessions.set(transport.serverId, transport);
      },
      unregister: (transport) => {
        if (this.reserved.get(transport.serverId) === transport) this.reserved.delete(transport.serverId);
        if (this.sessions.get(transport.serverId) !== transport) return;
        this.sessions.delete(transport.serverId);
        this.recentlyEnded.add(transport.serverId);
        if (this.recentlyEnded.size > 256)
          this.recentlyEnded.delete(this.recentlyEnded.values().next().value as string);
      },
      ...(afterEnd ? { afterEnd } : {}),
    });
    if (!this.hasSessionWith(server.serverId)) this.reserved.set(server.serverId, transport);
    return transport;
  }

  /** The server instance went offline (empty presence): its session closes, pending requests reject. */
  serverOffline(serverId: string): void {
    const transport = this.sessions.get(serverId);
    if (!transport) return;
    void transport.end({
      notifyPeer: false,
      reason: new MqttAgentsError(
        'CONNECTION_CLOSED',
        `server '${serverId}' (${transport.serverName}) went offline: session closed`,
        { details: { loss: 'offline' } },
      ),
    });
  }

  /**
   * Close every session locally, announce `notifications/disconnected` on the client presence topic (the
   * spec's last word before a client disconnects) and close the MQTT connection. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const remove of this.removers.splice(0)) remove();
    const connection = this.link.connection;
    await Promise.all(
      // The presence announcement below ends every session on the servers' side at once.
      [...this.sessions.values()].map((transport) => transport.end({ notifyPeer: false })),
    );
    if (connection.connected) {
      try {
        await this.link.publish(
          mcpClientPresenceTopic(this.mcpClientId),
          JSON.stringify(DISCONNECTED_NOTIFICATION),
        );
      } catch (error) {
        this.logger.debug('could not announce the disconnect', error);
      }
    }
    await connection.close();
  }

  private endAll(reason: MqttAgentsError): void {
    for (const transport of [...this.sessions.values()]) void transport.end({ notifyPeer: false, reason });
  }

  /** Session topics: the shared inbound stages, then the session's RPC or capability lane. */
  private onSessionTopic(message: MqttMessage): void {
    const topic = parseMcpTopic(message.topic);
    if (!topic) return;
    if (topic.kind !== 'rpc' && topic.kind !== 'server-capability') return;
    if (topic.kind === 'rpc' && topic.mcpClientId !== this.mcpClientId) return;
    const found = this.sessions.get(topic.serverId);
    // Replies and server requests are never retained: a retained one is a replay for every subscriber.
    if (topic.kind === 'rpc' && this.inbound.droppedRetained(message, found)) return;
    const transport = found?.serverName === topic.serverName ? found : undefined;
    if (!transport) {
      if (topic.kind === 'rpc') {
        this.inbound.withoutSession(message, {
          peerId: topic.serverId,
          peerLabel: `server '${topic.serverId}' (${topic.serverName})`,
          session: undefined,
          recentlyEnded: this.recentlyEnded.has(topic.serverId),
        });
      }
      return;
    }
    if (this.inbound.spoofed(message, topic.serverId, transport)) return;
    for (const rpc of this.inbound.decode(message, `server '${topic.serverId}'`, transport)) {
      if (topic.kind === 'rpc') transport.receiveRpc(rpc);
      else transport.receiveCapability(rpc);
    }
  }
}
