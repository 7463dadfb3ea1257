import { abortError, connectMqtt } from '@mqtt-agents/core';
import type { Logger, MqttConnection, MqttWill } from '@mqtt-agents/core';
import type { IClientOptions, MqttClient } from 'mqtt';

/**
 * How a component reaches the broker: a URL (the component opens and owns an MQTT 5 connection with the
 * profile's client id), an MQTT.js client you created (`protocolVersion: 5`; you own it), or a connection
 * from `@mqtt-agents/core`'s `connectMqtt` that several components share (you own it).
 */
export type MqttConnectionOptions =
  | {
      url: string;
      username?: string;
      password?: string | Uint8Array;
      /** Keep alive in seconds; the broker declares the client dead (and publishes the will) after 1.5x. Default 60. */
      keepalive?: number;
      /** Time to wait for CONNACK, in ms. Default 10 000. */
      connectTimeoutMs?: number;
      /** Any other MQTT.js option (TLS, WebSocket); the profile's client id, will and MQTT 5 always win. */
      mqttOptions?: IClientOptions;
    }
  | { client: MqttClient }
  | { connection: MqttConnection };

export interface OpenedConnection {
  readonly connection: MqttConnection;
  /** True when this component opened the connection and must close it. */
  readonly owned: boolean;
  /** The broker URL, as far as it is known. */
  readonly brokerUrl: string | undefined;
}

function urlOfClient(client: MqttClient): string | undefined {
  const options = client.options as IClientOptions & { href?: string };
  if (typeof options.href === 'string' && options.href !== '') return options.href;
  const host = options.hostname ?? options.host;
  if (!options.protocol || !host) return undefined;
  return `${options.protocol}://${host}${options.port ? `:${options.port}` : ''}`;
}

/** Open (or adopt) the connection a component runs on. */
export async function openConnection(
  options: MqttConnectionOptions,
  setup: { clientId: string | undefined; will?: MqttWill; logger: Logger; signal?: AbortSignal },
): Promise<OpenedConnection> {
  if ('connection' in options) {
    return {
      connection: options.connection,
      owned: false,
      brokerUrl: urlOfClient(options.connection.client),
    };
  }
  if ('client' in options) {
    const connection = await connectMqtt({
      client: options.client,
      closeClient: false,
      logger: setup.logger,
      ...(setup.signal ? { signal: setup.signal } : {}),
    });
    return { connection, owned: true, brokerUrl: urlOfClient(options.client) };
  }
  const connection = await connectMqtt({
    url: options.url,
    ...(setup.clientId === undefined ? {} : { clientId: setup.clientId }),
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.keepalive === undefined ? {} : { keepalive: options.keepalive }),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
    ...(options.mqttOptions === undefined ? {} : { mqttOptions: options.mqttOptions }),
    ...(setup.will ? { will: setup.will } : {}),
    logger: setup.logger,
    ...(setup.signal ? { signal: setup.signal } : {}),
  });
  return { connection, owned: true, brokerUrl: options.url };
}

/** Wait `ms`, or reject with `ABORTED` when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal, 'retry backoff'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal, 'retry backoff'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
