import { startMosquitto, type MosquittoProcess, type StartMosquittoOptions } from './mosquitto.js';
import type { BrokerOptions, Broker } from './index.js';

/** Which broker the broker-backed test suites run against. */
export type TestBrokerKind = 'embedded' | 'mosquitto' | 'external';

/** The broker a test runs against (embedded, Mosquitto or external), with its URL; close it after the test. */
export interface TestBroker {
  readonly kind: TestBrokerKind;
  /** `mqtt://127.0.0.1:<port>` of the broker under test. */
  readonly url: string;
  /** The embedded broker's handle, when the kind is `embedded` (hooks, counters, `handle()`). */
  readonly broker: Broker | undefined;
  /** Stop the broker (an external one is left running). Idempotent. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The broker the current test lane uses: `MQTT_URL` (an external broker you run), else
 * `MQTT_AGENTS_TEST_BROKER=mosquitto` (a private Mosquitto per call), else the embedded broker.
 */
export function testBrokerKind(): TestBrokerKind {
  if (process.env.MQTT_URL) return 'external';
  return process.env.MQTT_AGENTS_TEST_BROKER === 'mosquitto' ? 'mosquitto' : 'embedded';
}

/** How `startTestBroker` configures the broker it starts; each setting applies to one kind of broker only. */
export interface StartTestBrokerOptions {
  /** Options for the embedded broker (hooks, limits). Ignored by Mosquitto and external brokers. */
  embedded?: BrokerOptions;
  /** Extra mosquitto.conf lines. */
  mosquittoConfig?: string[];
}

/** Start a fresh broker for one test file (or one test) on a free loopback port. */
export async function startTestBroker(options: StartTestBrokerOptions = {}): Promise<TestBroker> {
  const kind = testBrokerKind();
  if (kind === 'external') {
    const url = process.env.MQTT_URL as string;
    const close = async (): Promise<void> => {};
    return { kind, url, broker: undefined, close, [Symbol.asyncDispose]: close };
  }
  if (kind === 'mosquitto') {
    const mosquitto: MosquittoProcess = await startMosquitto(
      options.mosquittoConfig ? { config: options.mosquittoConfig } : {},
    );
    const close = (): Promise<void> => mosquitto.close();
    return { kind, url: mosquitto.url, broker: undefined, close, [Symbol.asyncDispose]: close };
  }
  const { startBroker } = await import('./index.js');
  const broker = await startBroker({ host: '127.0.0.1', port: 0, ...options.embedded });
  const close = (): Promise<void> => broker.close();
  return { kind, url: broker.url, broker, close, [Symbol.asyncDispose]: close };
}

export { startMosquitto };
export type { MosquittoProcess, StartMosquittoOptions };
