// Defect 13, SDK side (issue 12): the A2A agent tells executors who is calling, as verified, never as
// claimed: `requestContext.context.user` is the OAuth user when a bearer token was validated; otherwise,
// with `trustBrokerIdentity: true`, a user built from the broker-stamped sender (client id, principal,
// roles); otherwise unauthenticated, whatever the request's user properties say. The MQTT request state
// entry carries the same user and the stamped sender. The stamping itself is the broker's job (identity
// plugin): here a raw client writes the properties, as a broker without our plugins would let it.
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { SenderUserProperty } from '@mqtt-agents/core';
import type { AgentExecutor, RequestContext } from '@a2a-js/sdk/server';
import {
  BearerTokenUser,
  BrokerIdentityUser,
  MQTT_REQUEST_STATE_KEY,
  serveA2AOverMqtt,
} from '@mqtt-agents/a2a';
import type { MqttRequestInfo } from '@mqtt-agents/a2a';
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EchoExecutor,
  RawClient,
  hasCorrelation,
  rawRequest,
  sendMessageBody,
} from '../../packages/a2a/test/helpers.js';
import { unique } from './helpers.js';

let broker: TestBroker;
/** The authorization server's HS256 secret (a shared key keeps the fixture small). */
const secret = new Uint8Array(randomBytes(32));
beforeAll(async () => {
  broker = await startTestBroker();
});

/** A compact HS256 JWT. */
function hs256(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}
afterAll(async () => {
  await broker.close();
});

const STAMPED = {
  [SenderUserProperty.ClientId]: 'acme/line/planner',
  [SenderUserProperty.Principal]: 'planner-credential',
  [SenderUserProperty.Roles]: 'planner,reader',
};

async function ask(
  options: { trustBrokerIdentity?: boolean; auth?: boolean },
  userProperties: Record<string, string>,
): Promise<RequestContext> {
  const org = unique('org');
  const executor = new EchoExecutor();
  await using agent = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'who',
    card: { name: 'Who' },
    executor: executor as AgentExecutor,
    ...(options.trustBrokerIdentity === undefined
      ? {}
      : { trustBrokerIdentity: options.trustBrokerIdentity }),
    ...(options.auth ? { auth: { keys: secret, issuer: 'https://id.test', audience: 'urn:who' } } : {}),
  });
  const raw = await RawClient.connect(broker.url);
  try {
    const replyTopic = `$a2a/v1/reply/${org}/u/caller/${unique('s')}`;
    await raw.subscribe(replyTopic);
    const correlation = await rawRequest(raw, agent.requestTopic, sendMessageBody('who am i'), {
      responseTopic: replyTopic,
      properties: { userProperties },
    });
    await raw.next((message) => message.topic === replyTopic && hasCorrelation(correlation)(message));
    expect(executor.executions.value).toBe(1);
    return executor.contexts[0] as RequestContext;
  } finally {
    await raw.close();
  }
}

function requestInfo(context: RequestContext): MqttRequestInfo {
  return context.context?.state.get(MQTT_REQUEST_STATE_KEY) as MqttRequestInfo;
}

describe('caller identity for executors (defect 13, SDK side)', () => {
  it('ignores sender properties a client writes itself unless trustBrokerIdentity is set: the caller is unauthenticated', async () => {
    const context = await ask({}, STAMPED);
    const user = context.context?.user;
    expect(user).toBeDefined();
    expect(user?.isAuthenticated).toBe(false);
    expect(user?.userName).toBe('');
    expect(user).not.toBeInstanceOf(BrokerIdentityUser);
    const info = requestInfo(context);
    expect(info.user).toBe(user);
    expect(info.sender).toBeUndefined();
  });

  it('passes the broker-stamped sender (client id, principal, roles) as the user with trustBrokerIdentity', async () => {
    const context = await ask({ trustBrokerIdentity: true }, STAMPED);
    const user = context.context?.user;
    expect(user).toBeInstanceOf(BrokerIdentityUser);
    expect(user?.isAuthenticated).toBe(true);
    expect(user?.userName).toBe('acme/line/planner');
    expect(user).toMatchObject({
      clientId: 'acme/line/planner',
      principal: 'planner-credential',
      roles: ['planner', 'reader'],
    });
    const info = requestInfo(context);
    expect(info.user).toBe(user);
    expect(info.sender).toEqual({
      clientId: 'acme/line/planner',
      principal: 'planner-credential',
      roles: ['planner', 'reader'],
    });
  });

  it('treats a stamped sender without a principal (a broker that binds ids but does not authenticate) as not authenticated', async () => {
    const context = await ask(
      { trustBrokerIdentity: true },
      { [SenderUserProperty.ClientId]: 'acme/line/anon' },
    );
    const user = context.context?.user as BrokerIdentityUser;
    expect(user).toBeInstanceOf(BrokerIdentityUser);
    expect(user.isAuthenticated).toBe(false);
    expect(user.userName).toBe('acme/line/anon');
    expect(user.principal).toBeUndefined();
    expect(user.roles).toEqual([]);
  });

  it('prefers the validated OAuth user, and still shows the stamped sender in the request state', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = hs256({
      scope: 'a2a:invoke',
      iss: 'https://id.test',
      aud: 'urn:who',
      sub: 'alice',
      iat: now,
      exp: now + 300,
    });
    const context = await ask(
      { trustBrokerIdentity: true, auth: true },
      { ...STAMPED, 'a2a-authorization': `Bearer ${token}` },
    );
    const user = context.context?.user;
    expect(user).toBeInstanceOf(BearerTokenUser);
    expect(user?.userName).toBe('alice');
    const info = requestInfo(context);
    expect(info.user).toBe(user);
    expect(info.sender?.clientId).toBe('acme/line/planner');
  });
});
