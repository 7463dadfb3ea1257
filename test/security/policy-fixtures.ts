// Fixtures of the policy attacks (embedded broker with our plugins): raw MQTT 5 peers that publish exactly the
// bytes an attacker would, and report what the broker answered (PUBACK / SUBACK / CONNACK reason codes).
import mqtt from 'mqtt';
import type { IClientOptions, IClientPublishOptions, IPublishPacket, MqttClient } from 'mqtt';

/** How long a wait for something that must happen may take before the test fails. */
export const WAIT_TIMEOUT = 5_000;

export interface Received {
  readonly topic: string;
  readonly payload: Buffer;
  readonly text: string;
  readonly retain: boolean;
  readonly userProperties: Record<string, string | string[]>;
}

/** A raw MQTT 5 peer that records what it receives. */
export class Peer {
  readonly messages: Received[] = [];
  private readonly listeners = new Set<(message: Received) => void>();

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
      const message: Received = {
        topic,
        payload,
        text: payload.toString('utf8'),
        retain: packet.retain,
        userProperties: (packet.properties?.userProperties ?? {}) as Record<string, string | string[]>,
      };
      this.messages.push(message);
      for (const listener of [...this.listeners]) listener(message);
    });
  }

  static async connect(url: string, clientId: string, options: IClientOptions = {}): Promise<Peer> {
    const client = mqtt.connect(url, { protocolVersion: 5, clientId, reconnectPeriod: 0, ...options });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return new Peer(client);
  }

  get id(): string {
    return this.client.options.clientId ?? '';
  }

  /** `accepted`, or the reason code of a refusing PUBACK (QoS 1). */
  async publish(
    topic: string,
    payload: string | Buffer,
    options: IClientPublishOptions = {},
  ): Promise<'accepted' | number> {
    return this.client.publishAsync(topic, payload, { qos: 1, ...options }).then(
      () => 'accepted' as const,
      (error: { code?: number }) => error.code ?? -1,
    );
  }

  /** Publish as an MCP component does: MCP-COMPONENT-TYPE and (unless `claim: null`) MCP-MQTT-CLIENT-ID. */
  async publishMcp(
    topic: string,
    payload: string | Buffer | object,
    options: { claim?: string | null; retain?: boolean; userProperties?: Record<string, string> } = {},
  ): Promise<'accepted' | number> {
    const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    const claim = options.claim === undefined ? this.id : options.claim;
    return this.publish(topic, body, {
      retain: options.retain ?? false,
      properties: {
        userProperties: {
          'MCP-COMPONENT-TYPE': 'mcp-client',
          ...(claim === null ? {} : { 'MCP-MQTT-CLIENT-ID': claim }),
          ...options.userProperties,
        },
      },
    });
  }

  /** True when the broker granted the subscription, false when it refused it. */
  async canSubscribe(filter: string): Promise<boolean> {
    return this.client.subscribeAsync(filter, { qos: 1 }).then(
      (granted) => (granted[0]?.qos ?? 0x80) < 0x80,
      () => false,
    );
  }

  next(predicate: (message: Received) => boolean, what = 'a message'): Promise<Received> {
    const found = this.messages.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`timed out waiting for ${what}`));
      }, WAIT_TIMEOUT);
      const listener = (message: Received): void => {
        if (!predicate(message)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(message);
      };
      this.listeners.add(listener);
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/**
 * What the broker answers to a CONNECT with this client id: `connected`, the CONNACK reason code of a
 * refusal, or `closed` when it dropped the connection without one.
 */
export async function connectOutcome(
  url: string,
  clientId: string,
  options: IClientOptions = {},
): Promise<'connected' | 'closed' | number> {
  const client = mqtt.connect(url, { protocolVersion: 5, clientId, reconnectPeriod: 0, ...options });
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve('closed'), WAIT_TIMEOUT);
      client.once('connect', () => (clearTimeout(timer), resolve('connected')));
      client.once(
        'error',
        (error: Error & { code?: string | number }) => (
          clearTimeout(timer),
          resolve(typeof error.code === 'number' ? error.code : 'closed')
        ),
      );
      client.once('close', () => (clearTimeout(timer), resolve('closed')));
    });
  } finally {
    await client.endAsync(true);
  }
}

/** A JSON-RPC `tools/call`, as text. */
export function toolCall(id: number | string, name: string, args: Record<string, unknown> = {}): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
}

/** A valid `initialize` request. */
export function initializeRequest(id: number | string = 1): Record<string, unknown> {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'attacker', version: '1.0.0' },
    },
  };
}

/** The id of a JSON-RPC payload, when it has one. */
export function idOf(message: Received): unknown {
  try {
    return (JSON.parse(message.text) as { id?: unknown }).id;
  } catch {
    return undefined;
  }
}
