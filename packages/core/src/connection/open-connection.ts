// `openConnection`: turn the `mqtt:` option of a component into the connection it runs on, with the
// component's own client id and will when it opens one itself.
import type { IClientOptions, MqttClient } from 'mqtt';
import { MqttAgentsError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { UserProperties } from '../mqtt-properties.js';
import { connectMqtt } from './connect-mqtt.js';
import { isClientConnectionOptions, isExistingConnectionOptions } from './connection-options.js';
import type { MqttConnectionOptions, MqttUrlConnectionOptions } from './connection-options.js';
import type { ConnectMqttUrlOptions, MqttConnection, MqttWill } from './types.js';

/** What the component sets on a connection it opens from a URL, and what an adopted connection must have. */
export interface OpenConnectionSetup {
  /** The component's client id; generated when omitted. */
  clientId?: string | undefined;
  will?: MqttWill | undefined;
  /** Clean Start; default true. */
  clean?: boolean;
  /** Default 0. */
  sessionExpiryInterval?: number;
  /** User properties on CONNECT. */
  userProperties?: UserProperties;
  /**
   * Check an adopted `{ connection }`: it must use `clientId` and carry `will` (topic, retain flag and
   * payload), else `openConnection` throws `CONNECTION_MISMATCH`. Default false: the connection is shared
   * as it is.
   */
  verifyIdentity?: boolean;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
}

/** What `openConnection` returns: the connection and whether the component owns it. */
export interface OpenedConnection {
  /** The connection the component runs on. */
  readonly connection: MqttConnection;
  /** True when this component opened the connection (or the wrapper of your client) and must close it. */
  readonly owned: boolean;
  /** The broker URL, as far as it is known. */
  readonly brokerUrl: string | undefined;
}

/** The broker URL an MQTT.js client connects to, when its options tell. */
export function brokerUrlOf(client: MqttClient): string | undefined {
  const options = client.options as IClientOptions & { href?: string };
  if (typeof options.href === 'string' && options.href !== '') return options.href;
  const host = options.hostname ?? options.host;
  if (!options.protocol || !host) return undefined;
  return `${options.protocol}://${host}${options.port ? `:${options.port}` : ''}`;
}

function payloadText(payload: unknown): string | undefined {
  if (payload === undefined || payload === null) return '';
  if (typeof payload === 'string') return payload;
  if (payload instanceof Uint8Array) return new TextDecoder().decode(payload);
  return undefined;
}

/**
 * Throw `CONNECTION_MISMATCH` unless `connection` was opened with `expected.clientId` and `expected.will`
 * (a connection carries one client id and one will, so a component that needs its own cannot borrow another's).
 */
export function assertConnectionIdentity(
  connection: MqttConnection,
  expected: { clientId?: string | undefined; will?: MqttWill | undefined },
): void {
  const clientId = connection.connack.clientId || connection.client.options.clientId || '';
  const problems: string[] = [];
  if (expected.clientId !== undefined && clientId !== expected.clientId) {
    problems.push(`its client id is '${clientId}', not '${expected.clientId}'`);
  }
  if (expected.will) {
    const will = connection.client.options.will as
      { topic?: string; payload?: unknown; retain?: boolean } | undefined;
    if (will?.topic !== expected.will.topic) {
      problems.push(`its will is on '${will?.topic ?? '(none)'}', not '${expected.will.topic}'`);
    } else if ((will.retain ?? false) !== (expected.will.retain ?? false)) {
      problems.push(`its will is ${will.retain ? '' : 'not '}retained`);
    } else if (payloadText(will.payload) !== payloadText(expected.will.payload)) {
      problems.push('its will carries a different payload');
    }
  }
  if (problems.length === 0) return;
  throw new MqttAgentsError(
    'CONNECTION_MISMATCH',
    `the connection was not opened for this component: ${problems.join('; ')}; pass { url } or a client built for it`,
    { details: { clientId, expectedClientId: expected.clientId, willTopic: expected.will?.topic } },
  );
}

function urlConnectOptions(
  options: MqttUrlConnectionOptions,
  setup: OpenConnectionSetup,
): ConnectMqttUrlOptions {
  const connect: ConnectMqttUrlOptions = { url: options.url };
  if (setup.clientId !== undefined) connect.clientId = setup.clientId;
  if (setup.clean !== undefined) connect.clean = setup.clean;
  if (setup.sessionExpiryInterval !== undefined) connect.sessionExpiryInterval = setup.sessionExpiryInterval;
  if (setup.will) connect.will = setup.will;
  if (setup.userProperties) connect.userProperties = setup.userProperties;
  if (options.username !== undefined) connect.username = options.username;
  if (options.password !== undefined) connect.password = options.password;
  if (options.keepalive !== undefined) connect.keepalive = options.keepalive;
  if (options.reconnectPeriodMs !== undefined) connect.reconnectPeriodMs = options.reconnectPeriodMs;
  if (options.connectTimeoutMs !== undefined) connect.connectTimeoutMs = options.connectTimeoutMs;
  if (options.mqttOptions !== undefined) connect.mqttOptions = options.mqttOptions;
  if (setup.logger) connect.logger = setup.logger;
  if (setup.signal) connect.signal = setup.signal;
  return connect;
}

/**
 * Open (or adopt) the connection a component runs on: from a URL with the component's client id and will
 * (owned), by wrapping your MQTT.js client (the wrapper is owned, the client stays yours unless
 * `closeClient`), or by borrowing your core connection (not owned; checked with `verifyIdentity`).
 */
export async function openConnection(
  options: MqttConnectionOptions,
  setup: OpenConnectionSetup = {},
): Promise<OpenedConnection> {
  if (isExistingConnectionOptions(options)) {
    const connection = options.connection;
    if (setup.verifyIdentity) assertConnectionIdentity(connection, setup);
    return { connection, owned: false, brokerUrl: brokerUrlOf(connection.client) };
  }
  if (isClientConnectionOptions(options)) {
    const connection = await connectMqtt({
      client: options.client,
      closeClient: options.closeClient ?? false,
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
      ...(setup.logger ? { logger: setup.logger } : {}),
      ...(setup.signal ? { signal: setup.signal } : {}),
    });
    return { connection, owned: true, brokerUrl: brokerUrlOf(options.client) };
  }
  const connection = await connectMqtt(urlConnectOptions(options, setup));
  return { connection, owned: true, brokerUrl: options.url };
}
