/** The broker's options after defaults and validation. */
import { BROKER_LIMIT_DEFAULTS } from './limits.js';
import type { BrokerOptions, QoS } from './types.js';

/** Limits after defaults and validation. */
export interface BrokerSettings {
  readonly maximumPacketSize: number;
  readonly packetReadTimeout: number;
  readonly receiveMaximum: number;
  readonly topicAliasMaximum: number;
  readonly maximumSessionExpiryInterval: number;
  readonly maximumSessions: number;
  readonly serverKeepAlive: number | undefined;
  readonly maximumQos: QoS;
  readonly maximumQueuedMessages: number;
  readonly maximumQueuedBytes: number;
  readonly maximumTotalQueuedBytes: number;
  readonly maximumRetainedMessages: number;
  readonly maximumRetainedBytes: number;
  readonly connectTimeout: number;
}

function integerOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `invalid broker option ${name}: ${value} (expected an integer from ${min} to ${max})`,
    );
  }
  return value;
}

export function normalizeSettings(options: BrokerOptions): BrokerSettings {
  const serverKeepAlive =
    options.serverKeepAlive === undefined
      ? undefined
      : integerOption('serverKeepAlive', options.serverKeepAlive, 0, 0, 65535);
  const defaults = BROKER_LIMIT_DEFAULTS;
  const limit = (name: keyof typeof BROKER_LIMIT_DEFAULTS, min: number, max: number): number =>
    integerOption(name, options[name], defaults[name], min, max);
  return {
    maximumPacketSize: limit('maximumPacketSize', 16, 268_435_460),
    packetReadTimeout: limit('packetReadTimeout', 1, 2 ** 31 - 1),
    receiveMaximum: integerOption('receiveMaximum', options.receiveMaximum, 65535, 1, 65535),
    topicAliasMaximum: integerOption('topicAliasMaximum', options.topicAliasMaximum, 10, 0, 65535),
    maximumSessionExpiryInterval: limit('maximumSessionExpiryInterval', 0, 0xffffffff),
    maximumSessions: limit('maximumSessions', 1, 2 ** 31),
    serverKeepAlive,
    maximumQos: integerOption('maximumQos', options.maximumQos, 2, 0, 2) as QoS,
    maximumQueuedMessages: limit('maximumQueuedMessages', 0, 2 ** 31),
    maximumQueuedBytes: limit('maximumQueuedBytes', 1024, Number.MAX_SAFE_INTEGER),
    maximumTotalQueuedBytes: limit('maximumTotalQueuedBytes', 1024, Number.MAX_SAFE_INTEGER),
    maximumRetainedMessages: limit('maximumRetainedMessages', 0, 2 ** 31),
    maximumRetainedBytes: limit('maximumRetainedBytes', 0, Number.MAX_SAFE_INTEGER),
    connectTimeout: limit('connectTimeout', 1, 2 ** 31 - 1),
  };
}
