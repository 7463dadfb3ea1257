// The resource-limit flags of `mqtt-agents broker`: each sets one `startBroker` limit; without them the
// broker's own safe defaults apply (BROKER_LIMIT_DEFAULTS, printed in --help).
import { BROKER_LIMIT_DEFAULTS, type BrokerOptions } from '@mqtt-agents/broker';
import { parseDuration } from '../flags.js';
import { UsageError } from '../io.js';

/** The flag declarations (spread into the command's `parseFlags` options). */
export const brokerLimitFlags = {
  'max-packet-size': { type: 'string' },
  'read-timeout': { type: 'string' },
  'max-session-expiry': { type: 'string' },
  'max-sessions': { type: 'string' },
  'max-queued-messages': { type: 'string' },
  'max-queued-bytes': { type: 'string' },
  'max-total-queued-bytes': { type: 'string' },
  'max-retained': { type: 'string' },
  'max-retained-bytes': { type: 'string' },
} as const;

type LimitValues = { [K in keyof typeof brokerLimitFlags]?: string };

function bytes(value: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (value >= size && value % size === 0) return `${value / size} ${unit}`;
  }
  return `${value} bytes`;
}

function seconds(value: number): string {
  if (value % 86_400 === 0) return `${value / 86_400}d`;
  if (value % 3600 === 0) return `${value / 3600}h`;
  return `${value}s`;
}

const d = BROKER_LIMIT_DEFAULTS;

/** The lines of `--help` for these flags, with the defaults. */
export const brokerLimitsHelp = `Limits (sizes take KiB, MiB, GiB; defaults safe for a laptop or an edge box):
  --max-packet-size <size>         largest packet accepted, sent in CONNACK; a larger one is refused at
                                   its fixed header (default ${bytes(d.maximumPacketSize)})
  --read-timeout <duration>        time a begun packet has to arrive completely, whatever the keep alive
                                   (default ${d.packetReadTimeout / 1000}s)
  --max-session-expiry <duration>  cap on the session expiry clients ask for, in s, m, h or d
                                   (default ${seconds(d.maximumSessionExpiryInterval)})
  --max-sessions <n>               sessions held, connected and offline; more get CONNACK 0x97
                                   (default ${d.maximumSessions})
  --max-queued-messages <n>        QoS 1/2 messages queued per session (default ${d.maximumQueuedMessages})
  --max-queued-bytes <size>        bytes of messages one session holds; beyond, the newest are dropped
                                   with one warning (default ${bytes(d.maximumQueuedBytes)})
  --max-total-queued-bytes <size>  bytes of QoS 1/2 messages all sessions hold (default ${bytes(d.maximumTotalQueuedBytes)})
  --max-retained <n>               topics with a retained message; more get PUBACK 0x97 (default ${d.maximumRetainedMessages})
  --max-retained-bytes <size>      bytes of all retained messages (default ${bytes(d.maximumRetainedBytes)})
`;

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

function parseSize(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value);
  const unit = match ? UNITS[(match[2] as string).toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new UsageError(`invalid --${flag} '${value}': expected a size such as 65536, 512KiB or 4MiB`);
  }
  return Number(match[1]) * unit;
}

function parseCount(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`invalid --${flag} '${value}': expected a whole number`);
  return Number(value);
}

const SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

function parseSeconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)([smhd]?)$/.exec(value);
  if (!match)
    throw new UsageError(`invalid --${flag} '${value}': expected seconds, or a duration such as 12h or 7d`);
  return Number(match[1]) * (SECONDS[match[2] as string] as number);
}

/** The `startBroker` limits the flags ask for (absent flags leave the broker's defaults). */
export function brokerLimits(values: LimitValues): Partial<BrokerOptions> {
  const readTimeout =
    values['read-timeout'] === undefined
      ? undefined
      : parseDuration('read-timeout', values['read-timeout'], 0);
  const limits: Partial<BrokerOptions> = {
    maximumPacketSize: parseSize('max-packet-size', values['max-packet-size']),
    packetReadTimeout: readTimeout,
    maximumSessionExpiryInterval: parseSeconds('max-session-expiry', values['max-session-expiry']),
    maximumSessions: parseCount('max-sessions', values['max-sessions']),
    maximumQueuedMessages: parseCount('max-queued-messages', values['max-queued-messages']),
    maximumQueuedBytes: parseSize('max-queued-bytes', values['max-queued-bytes']),
    maximumTotalQueuedBytes: parseSize('max-total-queued-bytes', values['max-total-queued-bytes']),
    maximumRetainedMessages: parseCount('max-retained', values['max-retained']),
    maximumRetainedBytes: parseSize('max-retained-bytes', values['max-retained-bytes']),
  };
  for (const key of Object.keys(limits) as Array<keyof typeof limits>) {
    if (limits[key] === undefined) delete limits[key];
  }
  return limits;
}
