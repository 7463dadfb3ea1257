import { describe, expect, it } from 'vitest';
import { readConnackInfo } from './connack.js';

describe('readConnackInfo', () => {
  it('treats absent availability flags as available and fills MQTT 5 defaults', () => {
    const info = readConnackInfo({ cmd: 'connack', sessionPresent: false, reasonCode: 0 }, 'agent-1');
    expect(info).toMatchObject({
      reasonCode: 0,
      sessionPresent: false,
      clientId: 'agent-1',
      assignedClientIdentifier: undefined,
      maximumPacketSize: undefined,
      topicAliasMaximum: 0,
      receiveMaximum: 65_535,
      maximumQoS: 2,
      retainAvailable: true,
      wildcardSubscriptionAvailable: true,
      sharedSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      serverKeepAlive: undefined,
      userProperties: {},
    });
  });

  it('reads every property the broker sends, explicit false included', () => {
    const info = readConnackInfo(
      {
        cmd: 'connack',
        sessionPresent: true,
        reasonCode: 0,
        properties: {
          maximumPacketSize: 1024,
          topicAliasMaximum: 10,
          receiveMaximum: 20,
          maximumQoS: 1,
          retainAvailable: false,
          wildcardSubscriptionAvailable: false,
          sharedSubscriptionAvailable: false,
          subscriptionIdentifiersAvailable: false,
          assignedClientIdentifier: 'auto-42',
          serverKeepAlive: 15,
          sessionExpiryInterval: 30,
          userProperties: { 'MCP-SERVER-NAME': 'acme/weather' },
        },
      },
      '',
    );
    expect(info).toMatchObject({
      sessionPresent: true,
      clientId: 'auto-42',
      assignedClientIdentifier: 'auto-42',
      maximumPacketSize: 1024,
      topicAliasMaximum: 10,
      receiveMaximum: 20,
      maximumQoS: 1,
      retainAvailable: false,
      wildcardSubscriptionAvailable: false,
      sharedSubscriptionAvailable: false,
      subscriptionIdentifiersAvailable: false,
      serverKeepAlive: 15,
      sessionExpiryInterval: 30,
      userProperties: { 'MCP-SERVER-NAME': 'acme/weather' },
    });
  });

  it('reads an MQTT 3.1.1 style return code when there is no reason code', () => {
    expect(readConnackInfo({ cmd: 'connack', sessionPresent: false, returnCode: 5 }, 'x').reasonCode).toBe(5);
  });
});
