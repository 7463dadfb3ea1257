/**
 * The change the profile suggests for `@mqtt-agents/core`'s `connectMqtt`, applied from outside to an MQTT.js
 * client so that the benchmark can measure it before anyone edits the package:
 *
 * 1. Write batching. mqtt-packet corks the socket for each packet and uncorks it on the next tick, so every
 *    PUBLISH and every PUBACK is its own `writev` system call (a quarter of the busy time in the profile).
 *    Keeping the socket corked until the end of the event-loop turn (`setImmediate`) in which a packet was
 *    received or sent sends everything one turn produced (the PUBACKs and the responses to a whole network
 *    read) in one `writev`.
 * 2. No `debug` calls from MQTT.js. MQTT.js logs every step through the `debug` package (`this.log(...)`),
 *    whose rest-argument function shows up in the profile even when logging is off; a no-op `log` option
 *    removes it (the real fix passes `log` only when `mqttjs*` is enabled in DEBUG).
 *
 * Used by the "proposed core fix" rows of rpc.ts and the "after" run of profile.ts.
 */
import type { MqttClient } from 'mqtt';

interface Corkable {
  cork(): void;
  uncork(): void;
}

export function applyProposedCoreFix(client: MqttClient): void {
  (client as unknown as { log: (...args: unknown[]) => void }).log = () => {};
  let corked: Corkable | undefined;
  const corkForThisTurn = (): void => {
    const stream = client.stream as unknown as Partial<Corkable> | undefined;
    if (corked || typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return;
    const current = stream as Corkable;
    corked = current;
    current.cork();
    setImmediate(() => {
      corked = undefined;
      current.uncork();
    });
  };
  client.on('packetreceive', corkForThisTurn);
  client.on('packetsend', corkForThisTurn);
}
