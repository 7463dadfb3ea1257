import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { main, type CliIo } from '../src/index.js';

function captureIo(): CliIo & { out: string[]; err: string[]; stop(): void } {
  const controller = new AbortController();
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => void out.push(text),
    stderr: (text) => void err.push(text),
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

describe('mqtt-agents broker', () => {
  it('serves MQTT 5, logs connects and disconnects, and exits 0 when stopped', async () => {
    const io = captureIo();
    const exit = main(['broker', '--port', '0'], io);
    await waitFor(() => io.out.some((line) => line.includes('listening on')));
    const url = /listening on (mqtt:\/\/\S+)/.exec(io.out.join(''))?.[1];
    expect(url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);

    const client = await mqtt.connectAsync(url as string, {
      protocolVersion: 5,
      clientId: 'cli-test-client',
    });
    await waitFor(() => io.out.some((line) => /connect {4}cli-test-client \(MQTT 5, tcp/.test(line)));
    await client.endAsync();
    await waitFor(() => io.out.some((line) => /disconnect cli-test-client/.test(line)));

    io.stop();
    expect(await exit).toBe(0);
    expect(io.out.join('')).toContain('shutting down');
  });

  it('rejects a bad port with one line and exit code 2', async () => {
    const io = captureIo();
    expect(await main(['broker', '--port', 'http'], io)).toBe(2);
    expect(io.err.join('')).toBe(
      "mqtt-agents broker: invalid --port 'http': expected a port number from 0 to 65535\n",
    );
  });

  it('rejects unknown flags and unknown commands', async () => {
    const io = captureIo();
    expect(await main(['broker', '--prot', '1'], io)).toBe(2);
    expect(io.err.join('')).toMatch(/^mqtt-agents broker: Unknown option '--prot'/);
    expect(await main(['nope'], io)).toBe(2);
    expect(io.err.join('')).toContain("unknown command 'nope'");
  });

  it('prints help for the command', async () => {
    const io = captureIo();
    expect(await main(['broker', '--help'], io)).toBe(0);
    expect(io.out.join('')).toContain('Usage: mqtt-agents broker');
  });
});
