import { describe, expect, it } from 'vitest';
import { MqttAgentsError } from '../errors.js';
import { checkBrokerUrl } from './broker-url.js';
import { connectMqtt } from './connect-mqtt.js';

function codeOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return MqttAgentsError.isInstance(error) ? error.code : error;
  }
  return 'no error';
}

describe('broker url check', () => {
  it('accepts the schemes MQTT.js speaks', () => {
    for (const url of [
      'mqtt://localhost:1883',
      'mqtts://broker.example:8883',
      'tcp://10.0.0.1',
      'ws://localhost:8083/mqtt',
      'wss://broker.example/mqtt',
    ]) {
      expect(codeOf(() => checkBrokerUrl(url))).toBe('no error');
    }
  });

  it('refuses http:// and other schemes with INVALID_URL that says what to use', () => {
    for (const url of ['http://localhost:8083', 'https://broker.example/mqtt', 'foo://host', 'not a url']) {
      expect(codeOf(() => checkBrokerUrl(url))).toBe('INVALID_URL');
    }
    expect(() => checkBrokerUrl('http://localhost:8083')).toThrow(
      "invalid broker url 'http://localhost:8083': the scheme http:// is not MQTT; expected mqtt://, mqtts://, ws:// or wss:// (MQTT over WebSocket is ws://, e.g. ws://localhost:8083/mqtt)",
    );
  });

  it('connectMqtt refuses an http:// url before it opens a socket', async () => {
    const error: unknown = await connectMqtt({ url: 'http://127.0.0.1:1' }).catch(
      (caught: unknown) => caught,
    );
    expect(MqttAgentsError.hasCode(error, 'INVALID_URL')).toBe(true);
    expect((error as MqttAgentsError).details).toMatchObject({ url: 'http://127.0.0.1:1', scheme: 'http' });
  });
});
