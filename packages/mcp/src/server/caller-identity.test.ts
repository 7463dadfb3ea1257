import { expect, it } from 'vitest';
import { brokerCaller, callerAuthInfo, callerFromAuthInfo, topicCaller } from './caller-identity.js';

it('callerFromAuthInfo reads back the caller a host put into AuthInfo, broker-verified or not', () => {
  const stamped = brokerCaller('planner-1', {
    clientId: 'planner-1',
    principal: 'alice',
    roles: ['operator'],
  });
  expect(callerFromAuthInfo(callerAuthInfo(stamped))).toEqual(stamped);
  const fromTopic = topicCaller('planner-2');
  expect(callerFromAuthInfo(callerAuthInfo(fromTopic))).toEqual(fromTopic);
});

it('callerFromAuthInfo is undefined for an AuthInfo no server host made', () => {
  expect(callerFromAuthInfo(undefined)).toBeUndefined();
  expect(callerFromAuthInfo({ token: 'bearer', clientId: 'web', scopes: ['read'] })).toBeUndefined();
  expect(
    callerFromAuthInfo({ token: '', clientId: 'x', scopes: [], extra: { verifiedBy: 'oauth' } }),
  ).toBeUndefined();
});
