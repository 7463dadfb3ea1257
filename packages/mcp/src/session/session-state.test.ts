import { MqttAgentsError } from '@mqtt-agents/core';
import { expect, it } from 'vitest';
import { SessionStateMachine } from './session-state.js';

function codeOf(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return MqttAgentsError.isInstance(error) ? error.code : 'not an MqttAgentsError';
  }
}

it('a client session sends only once started, and a second start says what to do instead', () => {
  const state = new SessionStateMachine('client');
  expect(codeOf(() => state.assertCanSend("server 'a'"))).toBe('NOT_CONNECTED');
  state.beginStart();
  expect(codeOf(() => state.assertCanSend("server 'a'"))).toBe('NOT_CONNECTED');
  expect(state.completeStart()).toBe(true);
  expect(codeOf(() => state.assertCanSend("server 'a'"))).toBeUndefined();
  expect(codeOf(() => state.beginStart())).toBe('ALREADY_STARTED');
  expect(state.close()).toBe(true);
  expect(codeOf(() => state.assertCanSend("server 'a'"))).toBe('CONNECTION_CLOSED');
  expect(codeOf(() => state.beginStart())).toBe('CLOSED');
});

it('a server session may answer before it is started, never after it closed', () => {
  const state = new SessionStateMachine('server');
  expect(codeOf(() => state.assertCanSend("client 'a'"))).toBeUndefined();
  expect(state.close()).toBe(false);
  expect(codeOf(() => state.assertCanSend("client 'a'"))).toBe('CONNECTION_CLOSED');
});

it('a session closed while starting does not complete its start', () => {
  const state = new SessionStateMachine('client');
  state.beginStart();
  expect(state.close()).toBe(true);
  expect(state.completeStart()).toBe(false);
  expect(state.current).toBe('closed');
});
