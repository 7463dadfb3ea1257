// The connection wrapper the rest of the SDK builds on: publish with PUBACK reason codes, subscribe with
// SUBACK checks, unsubscribe, one message router per client, connection events and an idempotent close.
import type { IClientPublishOptions, IClientSubscribeOptions, ISubscriptionMap, MqttClient } from 'mqtt';
import { MqttAgentsError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ClientBridge } from './client-bridge.js';
import { ConnectionEvents } from './connection-events.js';
import { MessageRouter } from './message-router.js';
import { PendingCalls } from './pending-calls.js';
import { NO_MATCHING_SUBSCRIBERS, describeReasonCode, grantedOf, reasonCodeOf } from './reason-codes.js';
import { SocketTuning } from './socket-tuning.js';
import type {
  ConnackInfo,
  MqttConnection,
  MqttConnectionEvents,
  MqttMessageHandler,
  MqttPublishOptions,
  MqttSubscribeOptions,
  MqttUnsubscribeOptions,
  PublishResult,
  SubscriptionGrant,
} from './types.js';
import { toWire } from './wire.js';

function listOf(filters: string | readonly string[]): string[] {
  return typeof filters === 'string' ? [filters] : [...filters];
}

function quoted(filters: readonly string[]): string {
  return filters.map((filter) => `'${filter}'`).join(', ');
}

/** The one `MqttConnection` implementation. */
export class Connection implements MqttConnection {
  readonly client: MqttClient;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #ownsClient: boolean;
  readonly #logger: Logger;
  readonly #events: ConnectionEvents;
  readonly #router: MessageRouter;
  readonly #pending = new PendingCalls();
  readonly #bridge: ClientBridge;

  constructor(client: MqttClient, ownsClient: boolean, requestedClientId: string, logger: Logger) {
    this.client = client;
    this.#ownsClient = ownsClient;
    this.#logger = logger;
    this.#events = new ConnectionEvents(logger);
    this.#router = new MessageRouter(logger);
    this.#bridge = new ClientBridge(client, requestedClientId, logger, new SocketTuning(client, logger), {
      isClosed: () => this.#closed,
      onOpen: (connack) => this.#events.emit('connection-open', connack),
      onDrop: (info) => this.#events.emit('connection-drop', info),
      onEnd: () => void this.close(),
      onMessage: (topic, payload, packet) => this.#router.dispatch(topic, payload, packet),
    });
  }

  get connack(): ConnackInfo {
    return this.#bridge.connack;
  }

  get connected(): boolean {
    return !this.#closed && this.client.connected;
  }

  get closed(): boolean {
    return this.#closed;
  }

  on<E extends keyof MqttConnectionEvents>(event: E, listener: MqttConnectionEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  addMessageHandler(filter: string, handler: MqttMessageHandler): () => void {
    return this.#router.add(filter, handler);
  }

  #track<T>(
    what: string,
    code: 'PUBLISH_FAILED' | 'SUBSCRIBE_FAILED',
    signal: AbortSignal | undefined,
    start: (resolve: (value: T) => void, reject: (error: MqttAgentsError) => void) => void,
  ): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new MqttAgentsError('CLOSED', `cannot ${what}: the connection is closed`));
    }
    return this.#pending.track(what, code, signal, start);
  }

  #closedError(what: string, cause: unknown): MqttAgentsError {
    return new MqttAgentsError('CONNECTION_CLOSED', `${what} failed: the connection closed`, { cause });
  }

  publish(
    topic: string,
    payload: Uint8Array | string,
    options: MqttPublishOptions = {},
    signal?: AbortSignal,
  ): Promise<PublishResult> {
    const qos = options.qos ?? 1;
    const what = `publish to '${topic}'`;
    return this.#track<PublishResult>(what, 'PUBLISH_FAILED', options.signal ?? signal, (resolve, reject) => {
      const publishOptions: IClientPublishOptions = { qos, retain: options.retain ?? false };
      if (options.properties) {
        const properties = { ...options.properties };
        if (properties.correlationData) properties.correlationData = toWire(properties.correlationData);
        // mqtt-packet writes an empty user-property set as a broken packet that never completes: drop it.
        if (properties.userProperties && Object.keys(properties.userProperties).length === 0) {
          delete properties.userProperties;
        }
        publishOptions.properties = properties as IClientPublishOptions['properties'];
      }
      this.client.publish(topic, toWire(payload) as string, publishOptions, (error, packet) => {
        if (error) {
          const reasonCode = reasonCodeOf(error);
          const suffix = reasonCode === undefined ? error.message : describeReasonCode(reasonCode);
          reject(
            this.#closed
              ? this.#closedError(what, error)
              : new MqttAgentsError('PUBLISH_FAILED', `${what} failed: ${suffix}`, {
                  cause: error,
                  details: { topic, reasonCode },
                }),
          );
          return;
        }
        if (qos === 0) {
          resolve({ reasonCode: undefined, noMatchingSubscribers: false });
          return;
        }
        const reasonCode = this.#bridge.takeAckReason(packet?.messageId);
        if (reasonCode === NO_MATCHING_SUBSCRIBERS) this.#logger.debug(`${what}: no matching subscribers`);
        resolve({ reasonCode, noMatchingSubscribers: reasonCode === NO_MATCHING_SUBSCRIBERS });
      });
    });
  }

  subscribe(
    filters: string | readonly string[],
    options: MqttSubscribeOptions = {},
    signal?: AbortSignal,
  ): Promise<SubscriptionGrant[]> {
    const list = listOf(filters);
    const what = `subscribe to ${quoted(list)}`;
    if (list.length === 0) return Promise.resolve([]);
    return this.#track<SubscriptionGrant[]>(
      what,
      'SUBSCRIBE_FAILED',
      options.signal ?? signal,
      (resolve, reject) => {
        const qos = options.qos ?? 1;
        const perFilter: IClientSubscribeOptions = {
          qos,
          nl: options.noLocal ?? false,
          rap: options.retainAsPublished ?? false,
          rh: options.retainHandling ?? 0,
        };
        // `resubscribe: true` makes MQTT.js send SUBSCRIBE even for a filter it believes is already
        // subscribed (after a reconnect with a fresh session it may not be), so SUBACK is always awaited.
        const map = { resubscribe: true } as ISubscriptionMap;
        for (const filter of list) map[filter] = { ...perFilter };
        const properties: NonNullable<IClientSubscribeOptions['properties']> = {};
        if (options.subscriptionIdentifier !== undefined) {
          properties.subscriptionIdentifier = options.subscriptionIdentifier;
        }
        if (options.userProperties) properties.userProperties = options.userProperties;
        const packetOptions: IClientSubscribeOptions = {
          ...perFilter,
          ...(Object.keys(properties).length > 0 ? { properties } : {}),
        };
        this.client.subscribe(map, packetOptions, (error, _granted, packet) => {
          const codes = grantedOf(packet) ?? grantedOf((error as { packet?: unknown } | null)?.packet);
          if (error && !codes) {
            reject(
              this.#closed
                ? this.#closedError(what, error)
                : new MqttAgentsError('SUBSCRIBE_FAILED', `${what} failed: ${error.message}`, {
                    cause: error,
                    details: { filters: list },
                  }),
            );
            return;
          }
          const grants = list.map((filter, index) => ({ filter, reasonCode: codes?.[index] ?? qos }));
          const refused = grants.find((grant) => grant.reasonCode >= 0x80);
          if (refused) {
            reject(
              new MqttAgentsError(
                'SUBSCRIBE_FAILED',
                `subscribe to '${refused.filter}' refused: ${describeReasonCode(refused.reasonCode)}`,
                {
                  cause: error ?? undefined,
                  details: { filter: refused.filter, reasonCode: refused.reasonCode, grants },
                },
              ),
            );
            return;
          }
          resolve(grants);
        });
      },
    );
  }

  unsubscribe(
    filters: string | readonly string[],
    options?: MqttUnsubscribeOptions | AbortSignal,
  ): Promise<void> {
    const list = listOf(filters);
    const what = `unsubscribe from ${quoted(list)}`;
    if (list.length === 0) return Promise.resolve();
    const signal = isAbortSignal(options) ? options : options?.signal;
    return this.#track<void>(what, 'SUBSCRIBE_FAILED', signal, (resolve, reject) => {
      this.client.unsubscribe(list, {}, (error, packet) => {
        if (error) {
          reject(
            new MqttAgentsError(this.#closed ? 'CONNECTION_CLOSED' : 'SUBSCRIBE_FAILED', `${what} failed`, {
              cause: error,
              details: { filters: list },
            }),
          );
          return;
        }
        const codes = grantedOf(packet) ?? [];
        codes.forEach((code, index) => {
          if (code >= 0x80)
            this.#logger.warn(`unsubscribe from '${list[index]}': ${describeReasonCode(code)}`);
        });
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return (this.#closing ??= this.#finish());
  }

  async #finish(): Promise<void> {
    this.#closed = true;
    this.#bridge.markDown();
    this.#pending.rejectAll(new MqttAgentsError('CONNECTION_CLOSED', 'the connection closed'));
    this.#events.emit('connection-close');
    this.#events.clear();
    this.#router.clear();
    if (this.#ownsClient) await this.#endClient();
    this.#bridge.detach(this.#ownsClient);
  }

  async #endClient(): Promise<void> {
    const client = this.client;
    if (client.disconnected) return;
    // A graceful end (DISCONNECT, so no will) waits for in-flight QoS 1/2 packets to be acknowledged,
    // which never happens on a dead link: force it when we are offline or something is still in flight.
    const force = !client.connected || Object.keys(client.outgoing).length > 0;
    await new Promise<void>((resolve) => client.end(force, {}, () => resolve()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The deprecated positional form: `unsubscribe(filters, signal)`. */
function isAbortSignal(value: unknown): value is AbortSignal {
  if (typeof AbortSignal !== 'undefined' && value instanceof AbortSignal) return true;
  const candidate = value as { aborted?: unknown; addEventListener?: unknown } | undefined;
  return typeof candidate?.aborted === 'boolean' && typeof candidate.addEventListener === 'function';
}
