#!/usr/bin/env node
// mqtt-agents-broker: run the embedded MQTT 5 broker in the foreground (development and tests only).
import { parseArgs } from 'node:util';
import { startBroker } from './start-broker.js';
import type { BrokerLogger } from './types.js';

const help = `Usage: mqtt-agents-broker [options]

Run the embedded MQTT 5 broker of mqtt-agents in the foreground, for development and tests.
Not a production broker: use EMQX, HiveMQ, VerneMQ or Mosquitto for that.

Options:
  --port <port>      TCP port (default 1883; 0 picks a free one)
  --host <host>      interface to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --ws-port <port>   also serve MQTT over WebSocket on this port (path /mqtt)
  --quiet            do not log connects and disconnects
  -h, --help         show this help
`;

function port(name: string, value: string | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65535) {
    throw new Error(`invalid --${name} '${value}': expected a port number from 0 to 65535`);
  }
  return number;
}

async function main(argv: string[]): Promise<number> {
  let values: { port?: string; host?: string; 'ws-port'?: string; quiet?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'ws-port': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    console.error(`mqtt-agents-broker: ${(error as Error).message} (see --help)`);
    return 2;
  }
  if (values.help) {
    console.log(help);
    return 0;
  }
  let tcpPort: number | undefined;
  let wsPort: number | undefined;
  try {
    tcpPort = port('port', values.port, 1883);
    wsPort = port('ws-port', values['ws-port'], undefined);
  } catch (error) {
    console.error(`mqtt-agents-broker: ${(error as Error).message}`);
    return 2;
  }
  const logger: BrokerLogger = {
    debug() {},
    info: (message) => console.log(message),
    warn: (message, ...details) => console.warn(message, ...details),
    error: (message, ...details) => console.error(message, ...details),
  };
  const broker = await startBroker({
    host: values.host ?? '127.0.0.1',
    port: tcpPort,
    ws: wsPort === undefined ? undefined : { port: wsPort },
    logger,
  });
  const stamp = (): string => new Date().toISOString();
  if (!values.quiet) {
    broker.on('client-connect', (client, details) =>
      console.log(
        `${stamp()} connect    ${client.id} (MQTT ${client.protocolVersion === 5 ? '5' : '3.1.1'}, ${client.transport}${
          client.remoteAddress ? ` ${client.remoteAddress}` : ''
        }${details.sessionPresent ? ', session resumed' : ''})`,
      ),
    );
    broker.on('client-disconnect', (client, details) =>
      console.log(
        `${stamp()} disconnect ${client.id} (${details.cause}${
          details.reasonCode === undefined ? '' : ` 0x${details.reasonCode.toString(16).padStart(2, '0')}`
        })`,
      ),
    );
  }
  console.log(`mqtt-agents-broker listening on ${broker.url}${broker.wsUrl ? ` and ${broker.wsUrl}` : ''}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('mqtt-agents-broker: shutting down');
  await broker.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`mqtt-agents-broker: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
