import { describe, expect, it, vi } from 'vitest';
import { describeReasonCode, readConnackInfo, setTcpNoDelay } from './connect.js';

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

describe('setTcpNoDelay', () => {
  it('turns Nagle off on anything with setNoDelay (net and tls sockets)', () => {
    const setNoDelay = vi.fn();
    expect(setTcpNoDelay({ setNoDelay })).toBe(true);
    expect(setNoDelay).toHaveBeenCalledWith(true);
  });

  it('leaves WebSocket streams and non-objects alone', () => {
    expect(setTcpNoDelay({ write() {}, on() {} })).toBe(false);
    expect(setTcpNoDelay({ setNoDelay: true })).toBe(false);
    expect(setTcpNoDelay(undefined)).toBe(false);
    expect(setTcpNoDelay(null)).toBe(false);
  });
});

describe('describeReasonCode', () => {
  it('names known reason codes in hex', () => {
    expect(describeReasonCode(0x87)).toBe('0x87 (Not authorized)');
    expect(describeReasonCode(0x10)).toMatch(/^0x10 \(No matching subscribers\)$/i);
  });

  it('prints unknown codes in hex only', () => {
    expect(describeReasonCode(0x7f)).toBe('0x7f');
  });
});
