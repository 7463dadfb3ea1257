// `connectMqtt`: open an MQTT 5 client with the SDK's defaults (or adopt one) and wait for the first CONNACK.
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { MqttAgentsError, abortError } from '../errors.js';
import { createLogger, debugEnabled } from '../logger.js';
import { randomId } from '../random-id.js';
import { checkBrokerUrl } from './broker-url.js';
import { Connection } from './connection.js';
import { waitForFirstConnect } from './first-connect.js';
import type { ConnectMqttOptions, ConnectMqttUrlOptions, MqttConnection } from './types.js';
import { toWire } from './wire.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** MQTT.js's own debug logging, which costs a call with rest arguments per step even when it is off. */
function noMqttJsLog(): void {}

function buildClientOptions(
  options: ConnectMqttUrlOptions,
  clientId: string,
  timeoutMs: number,
): IClientOptions {
  const base = options.mqttOptions ?? {};
  const properties: NonNullable<IClientOptions['properties']> = { ...base.properties };
  if (options.sessionExpiryInterval !== undefined)
    properties.sessionExpiryInterval = options.sessionExpiryInterval;
  if (options.userProperties) properties.userProperties = options.userProperties;
  const clientOptions: IClientOptions = {
    ...base,
    protocolVersion: 5,
    clientId,
    clean: options.clean ?? base.clean ?? true,
    keepalive: options.keepalive ?? base.keepalive ?? 60,
    reconnectPeriod: options.reconnectPeriodMs ?? base.reconnectPeriod ?? 1000,
    connectTimeout: timeoutMs,
    manualConnect: true,
    properties,
  };
  if (base.log === undefined && !debugEnabled('mqttjs:client')) clientOptions.log = noMqttJsLog;
  if (options.username !== undefined) clientOptions.username = options.username;
  if (options.password !== undefined) clientOptions.password = toWire(options.password) as string;
  if (options.will) {
    const will = { ...options.will, payload: toWire(options.will.payload) };
    if (will.properties?.correlationData) {
      will.properties = { ...will.properties, correlationData: toWire(will.properties.correlationData) };
    }
    clientOptions.will = will as unknown as IClientOptions['will'];
  }
  return clientOptions;
}

async function firstConnect(
  connection: Connection,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  url: string | undefined,
): Promise<MqttConnection> {
  try {
    await waitForFirstConnect(connection.client, { timeoutMs, signal, url });
  } catch (error) {
    await connection.close();
    throw error;
  }
  return connection;
}

/**
 * Connect with MQTT 5 defaults (clean start, session expiry 0, keep alive 60 s), or adopt a client you pass in,
 * and wait for the first CONNACK. The first attempt fails with `CONNECT_FAILED` (CONNACK reason code in
 * `details.reasonCode`) instead of reconnecting forever; after it succeeds, MQTT.js reconnects on its own and
 * `connection.connack` follows every reconnect. TCP_NODELAY is set on every socket. A url whose scheme is not
 * one MQTT.js speaks (`http://`, a typo) fails at once with `INVALID_URL`.
 */
export async function connectMqtt(options: ConnectMqttOptions): Promise<MqttConnection> {
  const logger = createLogger('mqtt-agents:core', options.logger);
  if (options.signal?.aborted) throw abortError(options.signal, 'connect');
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;

  if ('client' in options && options.client) {
    const client = options.client;
    if (client.options.protocolVersion !== 5) {
      throw new MqttAgentsError('UNSUPPORTED', 'the mqtt client must use MQTT 5 (protocolVersion: 5)', {
        details: { protocolVersion: client.options.protocolVersion },
      });
    }
    const owns = options.closeClient === true;
    const connection = new Connection(client, owns, client.options.clientId ?? '', logger);
    return firstConnect(connection, timeoutMs, options.signal, undefined);
  }

  const urlOptions = options as ConnectMqttUrlOptions;
  if (typeof urlOptions.url !== 'string' || urlOptions.url === '') {
    throw new MqttAgentsError('CONNECT_FAILED', 'connect needs a broker url or an mqtt client');
  }
  checkBrokerUrl(urlOptions.url);
  const clientId = urlOptions.clientId ?? `mqtt-agents-${randomId(12)}`;
  let client: MqttClient;
  try {
    client = mqtt.connect(urlOptions.url, buildClientOptions(urlOptions, clientId, timeoutMs));
  } catch (error) {
    throw new MqttAgentsError(
      'CONNECT_FAILED',
      `connect to ${urlOptions.url} failed: ${(error as Error).message}`,
      {
        cause: error,
        details: { url: urlOptions.url },
      },
    );
  }
  const connection = new Connection(client, true, clientId, logger);
  client.connect();
  return firstConnect(connection, timeoutMs, options.signal, urlOptions.url);
}
