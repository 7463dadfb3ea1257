import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { readConnackInfo } from './connack.js';
import { assertConnectionIdentity, openConnection } from './open-connection.js';
import type { MqttConnection } from './types.js';

function fakeConnection(clientId: string, will?: { topic: string; payload: string; retain: boolean }) {
  return {
    client: { options: { clientId, will, protocol: 'mqtt', hostname: 'broker.local', port: 1883 } },
    connack: readConnackInfo({ cmd: 'connack', sessionPresent: false }, clientId),
    closed: false,
  } as unknown as MqttConnection & { client: MqttClient };
}

const will = { topic: 'presence/a', payload: '', retain: true };

describe('openConnection with { connection }', () => {
  it('shares the connection as it is, not owned, with the broker url of its client', async () => {
    const connection = fakeConnection('someone-else');
    const opened = await openConnection({ connection }, { clientId: 'a', will });
    expect(opened).toEqual({ connection, owned: false, brokerUrl: 'mqtt://broker.local:1883' });
  });

  it('with verifyIdentity, refuses a connection opened for another client id or will', async () => {
    await expect(
      openConnection(
        { connection: fakeConnection('b', will) },
        { clientId: 'a', will, verifyIdentity: true },
      ),
    ).rejects.toMatchObject({
      code: 'CONNECTION_MISMATCH',
      message: expect.stringContaining("'b', not 'a'"),
    });
    const opened = await openConnection(
      { connection: fakeConnection('a', will) },
      { clientId: 'a', will, verifyIdentity: true },
    );
    expect(opened.owned).toBe(false);
  });
});

describe('assertConnectionIdentity', () => {
  it('names the will that differs: topic, retain flag or payload', () => {
    expect(() => assertConnectionIdentity(fakeConnection('a'), { will })).toThrow(/will is on '\(none\)'/);
    expect(() =>
      assertConnectionIdentity(fakeConnection('a', { ...will, retain: false }), { clientId: 'a', will }),
    ).toThrow(/not retained/);
    expect(() =>
      assertConnectionIdentity(fakeConnection('a', { ...will, payload: 'x' }), { clientId: 'a', will }),
    ).toThrow(/different payload/);
    expect(() => assertConnectionIdentity(fakeConnection('a', will), { clientId: 'a', will })).not.toThrow();
  });
});
