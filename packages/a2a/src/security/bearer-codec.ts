// The bearer (OAuth 2.0 / OIDC) codec on the requester side: each attempt's request gets
// `a2a-authorization: Bearer <token>` when the card asks for one (fresh on retries and after a refusal), and
// no token ever leaves on a connection without TLS unless the user said so. Replies pass unchanged. The
// agent side opens requests with `BearerVerifier` (../oauth.ts) in the responder's dispatch stage.
import type { AgentCard } from '@a2a-js/sdk';
import { A2AUserProperty, MqttAgentsError } from '@mqtt-agents/core';
import type { MqttConnection } from '@mqtt-agents/core';
import { bearerRequirements, isTlsConnection, secondsToExpiry } from '../oauth.js';
import type { RequesterAuthOptions } from '../oauth.js';
import type { AttemptTarget, OutgoingRequest, RequestSealer } from './codec.js';

export class BearerRequestSealer implements RequestSealer {
  readonly #auth: RequesterAuthOptions | undefined;
  readonly #connection: MqttConnection;
  /** Scopes to ask the token provider for; undefined when requests carry no token. */
  readonly #scopes: readonly string[] | undefined;

  constructor(
    auth: RequesterAuthOptions | undefined,
    connection: MqttConnection,
    card: AgentCard | undefined,
  ) {
    this.#auth = auth;
    this.#connection = connection;
    const alternatives = bearerRequirements(card);
    this.#scopes =
      auth?.getToken === undefined
        ? undefined
        : alternatives.length > 0
          ? (alternatives[0] as string[])
          : auth.send === 'always'
            ? []
            : undefined;
  }

  /** True when requests carry a token from the provider: a refused one is worth one retry with a fresh one. */
  get sendsTokens(): boolean {
    return this.#scopes !== undefined;
  }

  async sealRequest(request: OutgoingRequest, target: AttemptTarget): Promise<OutgoingRequest> {
    const auth = this.#auth;
    let properties = request.properties;
    const getToken = auth?.getToken;
    const scopes = this.#scopes;
    if (scopes !== undefined && getToken) {
      const ask = (refresh: boolean) =>
        getToken({
          agent: target.target,
          scopes,
          attempt: target.attempt,
          refresh,
          ...(target.signal ? { signal: target.signal } : {}),
        });
      let token = await ask(target.attempt > 1);
      // A provider that hands out an expired JWT gets one more chance to refresh it.
      if ((secondsToExpiry(token) ?? 1) <= 0) token = await ask(true);
      if (typeof token !== 'string' || token === '') {
        throw new MqttAgentsError('INVALID_PAYLOAD', 'the token provider returned no token');
      }
      properties = {
        ...properties,
        userProperties: { ...properties.userProperties, [A2AUserProperty.Authorization]: `Bearer ${token}` },
      };
    }
    if (
      properties.userProperties?.[A2AUserProperty.Authorization] !== undefined &&
      auth?.allowInsecureTransport !== true &&
      !isTlsConnection(this.#connection)
    ) {
      throw new MqttAgentsError(
        'UNSUPPORTED',
        `refusing to send a bearer token to ${target.name} over a connection without TLS: connect with mqtts:// or wss://, or set auth.allowInsecureTransport for local development`,
        { details: { reason: 'insecure-transport' } },
      );
    }
    return { payload: request.payload, properties };
  }
}
