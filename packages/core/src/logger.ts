/**
 * The logging seam of the SDK. Pass any object with these four methods (pino, winston and console all fit);
 * the default writes nothing unless the `DEBUG` environment variable enables a namespace, like `debug` does:
 * `DEBUG=mqtt-agents:*` or `DEBUG=mqtt-agents:mcp,mqtt-agents:core`.
 */
export interface Logger {
  /** Protocol detail for troubleshooting (every message handled, every subscription). */
  debug(message: string, ...details: unknown[]): void;
  /** Lifecycle events: connected, announced, closed. */
  info(message: string, ...details: unknown[]): void;
  /** Something was dropped or refused and the SDK carried on (a malformed payload, an unmatched reply). */
  warn(message: string, ...details: unknown[]): void;
  /** A failure the SDK could not recover from on its own (a handler threw, a publish failed). */
  error(message: string, ...details: unknown[]): void;
}

/** Where `createLogger` writes its formatted lines (stderr by default). */
export type Sink = (line: string) => void;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function readDebugVariable(): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.DEBUG ?? '';
}

function namespaceEnabled(namespace: string, pattern: string): boolean {
  return pattern
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((entry) => {
      if (entry.startsWith('-')) return false;
      const expression = new RegExp(`^${entry.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
      return expression.test(namespace);
    });
}

/** @internal Whether `DEBUG` enables `namespace` (for libraries with their own `debug` logging, like MQTT.js). */
export function debugEnabled(namespace: string): boolean {
  return namespaceEnabled(namespace, readDebugVariable());
}

function defaultSink(line: string): void {
  const stderr = (globalThis as { process?: { stderr?: { write(text: string): unknown } } }).process?.stderr;
  if (stderr) stderr.write(`${line}\n`);
}

function format(detail: unknown): string {
  if (detail instanceof Error) return `${detail.name}: ${detail.message}`;
  if (typeof detail === 'string') return detail;
  try {
    return JSON.stringify(detail);
  } catch {
    return String(detail);
  }
}

/**
 * Create the logger for a namespace (`mqtt-agents:core`). A user-supplied logger wins; otherwise the
 * namespace logs to stderr when `DEBUG` enables it and stays silent when it does not.
 */
export function createLogger(namespace: string, logger?: Logger, sink: Sink = defaultSink): Logger {
  if (logger) return logger;
  if (!namespaceEnabled(namespace, readDebugVariable())) return silent;
  const write =
    (level: string) =>
    (message: string, ...details: unknown[]): void => {
      const suffix = details.length > 0 ? ` ${details.map(format).join(' ')}` : '';
      sink(`${new Date().toISOString()} ${namespace} ${level} ${message}${suffix}`);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** A logger that drops everything. */
export const silentLogger: Logger = silent;
