// The broker URL of `connectMqtt`, checked before MQTT.js sees it: MQTT.js connects `http://` and any other
// unknown scheme as plain `mqtt://`, so a wrong URL would fail later with a confusing reason, or connect to
// a port the user did not mean.
import { MqttAgentsError } from '../errors.js';

/** The schemes MQTT.js speaks: TCP, TLS, WebSocket, and the WeChat / Alipay mini-program WebSockets. */
const BROKER_URL_SCHEMES = ['mqtt', 'mqtts', 'tcp', 'ssl', 'ws', 'wss', 'wx', 'wxs', 'ali', 'alis'];

/** Throw `INVALID_URL` unless `url` is a URL with a scheme MQTT.js speaks and a host. */
export function checkBrokerUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MqttAgentsError(
      'INVALID_URL',
      `invalid broker url '${url}': expected a url such as mqtt://localhost:1883 or ws://localhost:8083/mqtt`,
      { details: { url } },
    );
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (!BROKER_URL_SCHEMES.includes(scheme)) {
    const hint =
      scheme === 'http' || scheme === 'https'
        ? ` (MQTT over WebSocket is ${scheme === 'https' ? 'wss' : 'ws'}://, e.g. ${scheme === 'https' ? 'wss' : 'ws'}://${parsed.host}/mqtt)`
        : '';
    throw new MqttAgentsError(
      'INVALID_URL',
      `invalid broker url '${url}': the scheme ${scheme}:// is not MQTT; expected mqtt://, mqtts://, ws:// or wss://${hint}`,
      { details: { url, scheme } },
    );
  }
  if (parsed.hostname === '') {
    throw new MqttAgentsError('INVALID_URL', `invalid broker url '${url}': it names no host`, {
      details: { url },
    });
  }
}
