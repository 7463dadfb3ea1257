// The embedded broker in a process of its own, so that a resource test can read its RSS from /proc without
// counting the test's own clients. `broker-resources.child.ts '<BrokerOptions as JSON>'` prints one JSON line
// {"url": ...} once it listens, then one JSON line {"level", "message"} per broker log line (debug left out).
// It stops on SIGTERM or when its stdin closes (the test process went away).
import { startBroker, type BrokerLogger, type BrokerOptions } from '@mqtt-agents/broker';

const options = JSON.parse(process.argv[2] ?? '{}') as BrokerOptions;
const line = (level: string) => (message: string) =>
  void process.stdout.write(`${JSON.stringify({ level, message })}\n`);
const logger: BrokerLogger = { debug() {}, info: line('info'), warn: line('warn'), error: line('error') };
const broker = await startBroker({ ...options, host: '127.0.0.1', port: 0, logger });
process.stdout.write(`${JSON.stringify({ url: broker.url })}\n`);

const stop = (): void => {
  void broker.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.stdin.on('end', stop).resume();
