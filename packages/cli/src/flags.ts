import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, type CliIo } from './io.js';

type FlagConfig = Omit<ParseArgsConfig, 'args' | 'strict'>;

/** What `parseFlags` returns: `values` typed by the option declarations, and `positionals`. */
export type ParsedFlags<T extends FlagConfig> = ReturnType<
  typeof parseArgs<T & { args: string[]; strict: true }>
>;

/** Parse flags strictly, turning parse failures into one-line usage errors. */
export function parseFlags<T extends FlagConfig>(argv: string[], config: T): ParsedFlags<T> {
  try {
    return parseArgs<T & { args: string[]; strict: true }>({ ...config, args: argv, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** The `--url` flag every broker-facing command takes. */
export const urlOption = { url: { type: 'string' } } as const;

export const DEFAULT_BROKER_URL = 'mqtt://localhost:1883';

/** `--url`, else `MQTT_URL`, else `mqtt://localhost:1883`; checked for a scheme MQTT.js speaks. */
export function brokerUrl(flag: string | undefined, io: CliIo): string {
  const url = flag ?? (io.env.MQTT_URL || undefined) ?? DEFAULT_BROKER_URL;
  const source = flag === undefined && io.env.MQTT_URL ? 'MQTT_URL' : '--url';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`invalid ${source} '${url}': expected a url such as mqtt://localhost:1883`);
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'].includes(parsed.protocol)) {
    throw new UsageError(`invalid ${source} '${url}': expected an mqtt://, mqtts://, ws:// or wss:// url`);
  }
  return url;
}

/** A port number flag (0 picks a free port). */
export function parsePort(flag: string, value: string | undefined, fallback: number): number;
export function parsePort(flag: string, value: string | undefined, fallback?: number): number | undefined;
export function parsePort(flag: string, value: string | undefined, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new UsageError(`invalid --${flag} '${value}': expected a port number from 0 to 65535`);
  }
  return port;
}

/** `--port` and `--host` of the commands that serve HTTP. */
export const listenOptions = { port: { type: 'string' }, host: { type: 'string' } } as const;

/** Where an HTTP command listens: `--port` (else `defaultPort`) on `--host` (else loopback only). */
export function listenAddress(
  values: { port?: string | undefined; host?: string | undefined },
  defaultPort: number,
): { host: string; port: number } {
  return { port: parsePort('port', values.port, defaultPort), host: values.host ?? '127.0.0.1' };
}

/** A duration flag in milliseconds (`500`, `500ms`, `5s`). */
export function parseDuration(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value);
  if (!match) throw new UsageError(`invalid --${flag} '${value}': expected a duration such as 500ms or 5s`);
  const amount = Number(match[1]);
  return Math.round(match[2] === 's' ? amount * 1000 : amount);
}

/** Split `argv` at the first `--`: flags before it, a command line after it. */
export function splitAtDoubleDash(argv: string[]): { before: string[]; after: string[] | undefined } {
  const index = argv.indexOf('--');
  if (index === -1) return { before: argv, after: undefined };
  return { before: argv.slice(0, index), after: argv.slice(index + 1) };
}
