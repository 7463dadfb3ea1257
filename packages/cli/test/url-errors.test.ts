// The broker url a user got wrong: each mistake gets a line that says what is wrong and what to use.
import { startBroker } from '@mqtt-agents/broker';
import { describe, expect, it } from 'vitest';
import { cliInProcess, cliRun } from './cli-process.js';

// The embedded broker in both lanes: run once, in the embedded one.
const lane = process.env.MQTT_AGENTS_TEST_BROKER;
describe.skipIf(lane === 'mosquitto')('mqtt-agents and a wrong broker url', { timeout: 60_000 }, () => {
  it('ws:// without the /mqtt path, mqtt:// to the WebSocket port, ws:// to the TCP port', async () => {
    // The embedded broker, whatever the lane: its WebSocket listener closes anything but its path.
    await using broker = await startBroker({ ws: { port: 0 } });
    const ws = new URL(broker.wsUrl as string);
    const tcp = new URL(broker.url);

    // Real processes: MQTT.js's WebSocket client does not load inside vitest.
    const [noPath, mqttToWs, wsToTcp, right] = await Promise.all([
      cliRun(['ls', '--url', `ws://${ws.host}`]),
      cliRun(['ls', '--url', `mqtt://${ws.host}`]),
      cliRun(['ls', '--url', `ws://${tcp.host}/mqtt`]),
      cliRun(['ls', '--json', '--url', `ws://${ws.host}/mqtt`, '--filter', 'none/#']),
    ]);
    expect(noPath.code).toBe(1);
    expect(noPath.stderr).toContain(
      `the url has no WebSocket path: brokers serve MQTT over WebSocket at a path, most often /mqtt (try ws://${ws.host}/mqtt)`,
    );

    expect(mqttToWs.code).toBe(1);
    expect(mqttToWs.stderr).toContain(
      `the server at ${ws.host} does not speak MQTT over TCP: if it is a WebSocket port, use ws://${ws.host}/mqtt`,
    );

    expect(wsToTcp.code).toBe(1);
    expect(wsToTcp.stderr).toContain(`if ${tcp.host} is a plain MQTT port, use mqtt://${tcp.host}`);

    expect(right).toMatchObject({ code: 0, stderr: '' });
  });

  it('http:// is a usage error (exit 2) that names the WebSocket scheme', async () => {
    const result = await cliInProcess(['ls', '--url', 'http://127.0.0.1:1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("invalid --url 'http://127.0.0.1:1'");
  });
});
