import { startBroker, type BrokerLogger } from '@mqtt-agents/broker';
import { printable } from '@mqtt-agents/core';
import type { Command } from '../command.js';
import { untilAborted } from '../command.js';
import { parseFlags, parsePort } from '../flags.js';
import { UsageError, type CliIo } from '../io.js';
import { brokerLimitFlags, brokerLimits, brokerLimitsHelp } from './broker-limits.js';
import { brokerSecurity, brokerSecurityFlags, brokerSecurityHelp } from './broker-security.js';

export const brokerHelp = `Usage: mqtt-agents broker [options]

Run the embedded MQTT 5 broker of mqtt-agents in the foreground, for development and tests.
Not a production broker: use EMQX, HiveMQ, VerneMQ or Mosquitto for that.

Options:
  --port <port>      TCP port (default 1883; 0 picks a free one)
  --host <host>      interface to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --ws-port <port>   also serve MQTT over WebSocket on this port (path /mqtt)
  --quiet            do not log connects and disconnects
  -h, --help         show this help

${brokerLimitsHelp}
${brokerSecurityHelp}`;

function hex(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')}`;
}

/** `mqtt-agents broker`: serve until the signal aborts, logging connects and disconnects. */
export async function brokerCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'ws-port': { type: 'string' },
      quiet: { type: 'boolean' },
      ...brokerSecurityFlags,
      ...brokerLimitFlags,
    },
  });
  const limits = brokerLimits(values);
  const port = parsePort('port', values.port, 1883);
  const wsPort = parsePort('ws-port', values['ws-port'], undefined);
  const stamp = (): string => new Date().toISOString();
  // Every line carries values from the wire (client ids, topics): escaped, one line each, no terminal escapes.
  const line = (message: string): string => printable(message, 2000);
  const logger: BrokerLogger = {
    debug() {},
    info: (message) => io.stdout(`${stamp()} ${line(message)}\n`),
    warn: (message) => io.stderr(`${stamp()} warning: ${line(message)}\n`),
    error: (message) => io.stderr(`${stamp()} error: ${line(message)}\n`),
  };
  const host = values.host ?? '127.0.0.1';
  const security = await brokerSecurity(values, { host, logger });
  let broker;
  try {
    broker = await startBroker({
      host: values.host ?? '127.0.0.1',
      port,
      ...(wsPort === undefined ? {} : { ws: { port: wsPort } }),
      ...(security.tls ? { tls: security.tls } : {}),
      ...security.plugin?.hooks,
      ...limits,
      logger,
    });
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE') throw new UsageError(`port ${port} is already in use (try --port 0)`);
    throw error;
  }
  if (!values.quiet) {
    broker.on('client-connect', (client, details) => {
      const version = client.protocolVersion === 5 ? '5' : '3.1.1';
      const resumed = details.sessionPresent ? ', session resumed' : '';
      io.stdout(
        `${stamp()} connect    ${printable(client.id)} (MQTT ${version}, ${client.transport}${resumed})\n`,
      );
    });
    broker.on('client-disconnect', (client, details) => {
      const reason = details.reasonCode === undefined ? '' : ` ${hex(details.reasonCode)}`;
      io.stdout(`${stamp()} disconnect ${printable(client.id)} (${details.cause}${reason})\n`);
    });
  }
  const detachPlugins = security.plugin?.attach?.(broker);
  for (const warning of security.warnings) io.stderr(`mqtt-agents broker: warning: ${warning}\n`);
  const urls = [broker.url, broker.wsUrl, broker.tlsUrl].filter((url) => url !== undefined).join(' and ');
  const features = security.features.length > 0 ? ` (${security.features.join(', ')})` : '';
  io.stdout(`mqtt-agents broker listening on ${urls}${features}\n`);
  await untilAborted(io.signal);
  io.stdout('mqtt-agents broker: shutting down\n');
  detachPlugins?.();
  await broker.close();
  return 0;
}

export const broker: Command = {
  help: brokerHelp,
  run: brokerCommand,
};
