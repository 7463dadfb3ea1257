import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { WebSocket, createWebSocketStream } from 'ws';
import { startBroker } from '../src/start-broker.js';

function selfSignedCertificate(): { key: Buffer; cert: Buffer } | undefined {
  const directory = mkdtempSync(join(tmpdir(), 'mqtt-agents-broker-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'].concat([
        '-keyout',
        join(directory, 'key.pem'),
        '-out',
        join(directory, 'cert.pem'),
      ]),
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(directory, 'key.pem')), cert: readFileSync(join(directory, 'cert.pem')) };
  } catch {
    return undefined;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

describe('listeners', () => {
  it('serves MQTT over WebSocket with the mqtt subprotocol', async () => {
    await using broker = await startBroker({ ws: { port: 0 } });
    expect(broker.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/);
    // (MQTT.js's own ws transport does not load under vitest's module interop; give it the stream.)
    const subscriber = new mqtt.MqttClient(
      () => createWebSocketStream(new WebSocket(broker.wsUrl as string, ['mqtt'])) as never,
      { protocolVersion: 5, reconnectPeriod: 0 },
    );
    await new Promise((resolve, reject) => {
      subscriber.once('connect', resolve);
      subscriber.once('error', reject);
    });
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    await subscriber.subscribeAsync('ws/#', { qos: 1 });
    const received = new Promise<string>((resolve) =>
      subscriber.once('message', (_t, payload) => resolve(payload.toString())),
    );
    await publisher.publishAsync('ws/a', 'across transports', { qos: 1 });
    expect(await received).toBe('across transports');
    const protocol = await new Promise<string>((resolve, reject) => {
      const socket = new WebSocket(broker.wsUrl as string, ['mqtt']);
      socket.once('open', () => {
        resolve(socket.protocol);
        socket.close();
      });
      socket.once('error', reject);
    });
    expect(protocol).toBe('mqtt');
    await subscriber.endAsync();
    await publisher.endAsync();
  });

  const certificate = selfSignedCertificate();
  it.skipIf(!certificate)('serves MQTT over TLS', async () => {
    await using broker = await startBroker({ tls: { key: certificate!.key, cert: certificate!.cert } });
    expect(broker.tlsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const connection = await mqtt.connectAsync(broker.tlsUrl as string, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      rejectUnauthorized: false,
    });
    await connection.subscribeAsync('tls/#', { qos: 1 });
    const received = new Promise<string>((resolve) =>
      connection.once('message', (_t, payload) => resolve(payload.toString())),
    );
    await connection.publishAsync('tls/a', 'secure', { qos: 1 });
    expect(await received).toBe('secure');
    await connection.endAsync();
  });

  it.skipIf(!certificate)('refuses client certificates without a ca to verify them', async () => {
    await expect(
      startBroker({ tls: { key: certificate!.key, cert: certificate!.cert, requestCert: true } }),
    ).rejects.toThrow(/client certificates need tls\.ca/);
  });

  it.skipIf(!certificate)('gives authenticate only verified client certificates', async () => {
    const seen: Array<unknown> = [];
    // The server certificate doubles as the only trusted CA: a client presenting it verifies.
    await using broker = await startBroker({
      tls: {
        key: certificate!.key,
        cert: certificate!.cert,
        ca: certificate!.cert,
        requestCert: true,
        rejectUnauthorized: false,
      },
      authenticate: (context) => {
        seen.push(context.peerCertificate);
        return true;
      },
    });
    const base = { protocolVersion: 5 as const, reconnectPeriod: 0, rejectUnauthorized: false };
    const anonymous = await mqtt.connectAsync(broker.tlsUrl as string, base);
    await anonymous.endAsync();
    const withCertificate = await mqtt.connectAsync(broker.tlsUrl as string, {
      ...base,
      key: certificate!.key,
      cert: certificate!.cert,
    });
    await withCertificate.endAsync();
    expect(seen[0]).toBeUndefined();
    expect(seen[1]).toMatchObject({ subject: { CN: 'localhost' }, authorized: true });
    expect((seen[1] as { fingerprint256: string }).fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('fails to start on a port in use and leaves nothing open', async () => {
    await using first = await startBroker();
    await expect(startBroker({ port: first.port })).rejects.toThrow(/EADDRINUSE/);
  });
});
