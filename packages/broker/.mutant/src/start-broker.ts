import { MqttBroker } from './broker.js';
import { listenTcp, listenTls, listenWebSocket } from './listeners.js';
import type { Broker, BrokerOptions } from './types.js';

/**
 * Start an embedded MQTT 5 broker: a TCP listener on `host:port` (default `127.0.0.1`, a free port),
 * plus WebSocket and TLS listeners when asked. Close it with `await broker.close()` or `await using`.
 */
export async function startBroker(options: BrokerOptions = {}): Promise<Broker> {
  const broker = new MqttBroker(options);
  const host = options.host ?? '127.0.0.1';
  const onConnection = broker.handle.bind(broker);
  try {
    broker.addListener(await listenTcp(host, options.port ?? 0, onConnection));
    if (options.ws) broker.addListener(await listenWebSocket(host, options.ws, onConnection));
    if (options.tls) broker.addListener(await listenTls(host, options.tls, onConnection));
  } catch (error) {
    await broker.close();
    throw error;
  }
  return broker;
}
