import { BROKER_LIMIT_DEFAULTS } from '@mqtt-agents/broker';
import mqtt, { type IConnackPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { main, type CliIo } from '../src/index.js';
import { cliInProcess } from './cli-process.js';

function captureIo(): CliIo & { out: string[]; stop(): void } {
  const controller = new AbortController();
  const out: string[] = [];
  return {
    out,
    stdout: (text) => void out.push(text),
    stderr: () => {},
    signal: controller.signal,
    env: {},
    stop: () => controller.abort(),
  };
}

async function waitFor(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('mqtt-agents broker limits', () => {
  it('--help lists every limit flag with its default', async () => {
    const { code, stdout } = await cliInProcess(['broker', '--help']);
    expect(code).toBe(0);
    for (const flag of [
      '--max-packet-size <size>',
      '--read-timeout <duration>',
      '--max-session-expiry <duration>',
      '--max-sessions <n>',
      '--max-queued-messages <n>',
      '--max-queued-bytes <size>',
      '--max-total-queued-bytes <size>',
      '--max-retained <n>',
      '--max-retained-bytes <size>',
    ]) {
      expect(stdout).toContain(flag);
    }
    expect(stdout).toContain('(default 4 MiB)');
    expect(stdout).toContain('(default 30s)');
    expect(stdout).toContain('(default 1d)');
    expect(stdout).toContain(`(default ${BROKER_LIMIT_DEFAULTS.maximumSessions})`);
    expect(stdout).toContain('(default 8 MiB)');
  });

  it('announces the default limits, and the ones the flags set, in CONNACK', async () => {
    for (const [flags, packetSize, expiry] of [
      [[], BROKER_LIMIT_DEFAULTS.maximumPacketSize, BROKER_LIMIT_DEFAULTS.maximumSessionExpiryInterval],
      [['--max-packet-size', '64KiB', '--max-session-expiry', '2h'], 65_536, 7_200],
    ] as const) {
      const io = captureIo();
      const exit = main(['broker', '--port', '0', '--quiet', ...flags], io);
      await waitFor(() => io.out.some((line) => line.includes('listening on')));
      const url = /listening on (mqtt:\/\/\S+)/.exec(io.out.join(''))?.[1] as string;
      const client = mqtt.connect(url, {
        protocolVersion: 5,
        reconnectPeriod: 0,
        properties: { sessionExpiryInterval: 0xffffffff },
      });
      const connack = await new Promise<IConnackPacket>((resolve) => client.once('connect', resolve));
      expect(connack.properties?.maximumPacketSize).toBe(packetSize);
      expect(connack.properties?.sessionExpiryInterval).toBe(expiry);
      await client.endAsync();
      io.stop();
      expect(await exit).toBe(0);
    }
  });

  it('refuses a malformed or out-of-range limit with one usage line and exit code 2', async () => {
    const bad = await cliInProcess(['broker', '--port', '0', '--max-queued-bytes', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      "mqtt-agents broker: invalid --max-queued-bytes 'lots': expected a size such as 65536, 512KiB or 4MiB\n",
    );
    const range = await cliInProcess(['broker', '--port', '0', '--max-sessions', '0']);
    expect(range.code).toBe(2);
    expect(range.stderr).toMatch(/^mqtt-agents broker: invalid broker option maximumSessions: 0/);
  });
});
