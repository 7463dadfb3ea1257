// The `ubsp-v1` codec: requests sealed to the responder's key and bound to requester, recipient and reply
// topic; replies sealed to the requester's key and bound to the request's correlation. Fails closed.
import { A2AUserProperty, getUserProperty, parseA2aTopic } from '@mqtt-agents/core';
import type { Logger, MqttMessage } from '@mqtt-agents/core';
import { MqttAgentsError } from '@mqtt-agents/core';
import type { AgentAddress } from '../agent-address.js';
import type { PeerKeyResolver } from '../discovery/peer-keys.js';
import {
  JOSE_COMPACT,
  JOSE_JSON,
  UBSP_V1,
  UbspHeader,
  decryptPayload,
  encryptPayload,
  ubspCorrelationHeader,
} from '../ubsp.js';
import type { ReplayGuard, ServeUbspOptions, UbspKey, UbspOptions } from '../ubsp.js';
import type {
  AttemptTarget,
  OpenedReply,
  OpenedRequest,
  OutgoingRequest,
  ReplyOpener,
  ReplySealer,
  RequestOpener,
  RequestSealer,
  SealedReply,
} from './codec.js';

/** What both halves of `ubsp-v1` need: this party's options, the peers' keys, the replay guard. */
export interface UbspConfig<Options extends UbspOptions = UbspOptions> {
  readonly options: Options;
  readonly keys: PeerKeyResolver;
  readonly replay: ReplayGuard;
}

/** True when a request or reply says it is protected, by profile or by content type. */
export function looksProtected(message: MqttMessage): boolean {
  const contentType = message.properties.contentType;
  return (
    getUserProperty(message.properties, A2AUserProperty.SecurityProfile) !== undefined ||
    contentType === JOSE_COMPACT ||
    contentType === JOSE_JSON
  );
}

// --- requester side ---

/** `ubsp-v1` for a requester: every request encrypted to its one recipient, every reply decrypted. */
export class UbspRequesterCodec implements RequestSealer, ReplyOpener {
  readonly protectsReplies = true;
  readonly #config: UbspConfig;
  readonly #requesterId: string;
  readonly #replyTopic: string;

  constructor(config: UbspConfig, requesterId: string, replyTopic: string) {
    this.#config = config;
    this.#requesterId = requesterId;
    this.#replyTopic = replyTopic;
  }

  async sealRequest(request: OutgoingRequest, target: AttemptTarget): Promise<OutgoingRequest> {
    const recipient = target.recipient;
    if (!recipient) {
      throw new MqttAgentsError(
        'UNSUPPORTED',
        `ubsp-v1 needs one recipient, and ${target.name} has many members: send to a member directly`,
      );
    }
    const { options, keys } = this.#config;
    const key = await keys.resolve(recipient, target.card);
    const sealed = await encryptPayload(
      request.payload,
      key,
      {
        [UbspHeader.Requester]: this.#requesterId,
        [UbspHeader.Recipient]: recipient.agentId,
        [UbspHeader.ResponseTopic]: this.#replyTopic,
      },
      { serialization: options.serialization ?? 'compact', maxAgeSeconds: options.maxAgeSeconds ?? 60 },
    );
    const properties = request.properties;
    return {
      payload: sealed.payload,
      properties: {
        ...properties,
        contentType: sealed.contentType,
        userProperties: {
          ...properties.userProperties,
          [A2AUserProperty.SecurityProfile]: UBSP_V1,
          [A2AUserProperty.RequesterAgentId]: this.#requesterId,
          [A2AUserProperty.RecipientAgentId]: recipient.agentId,
          ...(key.kid === undefined ? {} : { [A2AUserProperty.RecipientKid]: key.kid }),
        },
      },
    };
  }

  /** A reply must be protected, addressed to this requester, bound to this correlation, and not replayed. */
  /** Stop the key resolver's discovery registries. */
  async close(): Promise<void> {
    await this.#config.keys.close();
  }

  async openReply(reply: MqttMessage, correlationData: Uint8Array): Promise<OpenedReply> {
    if (getUserProperty(reply.properties, A2AUserProperty.SecurityProfile) !== UBSP_V1) {
      return { kind: 'plaintext' };
    }
    let decrypted;
    try {
      decrypted = await decryptPayload(
        reply.payload,
        reply.properties.contentType,
        this.#config.options.privateKey,
      );
    } catch {
      return { kind: 'rejected', reason: 'it cannot be decrypted with this requester key' };
    }
    const header = decrypted.header;
    if (header[UbspHeader.Requester] !== this.#requesterId)
      return { kind: 'rejected', reason: 'it is addressed to another requester' };
    if (header[UbspHeader.CorrelationData] !== ubspCorrelationHeader(correlationData))
      return { kind: 'rejected', reason: 'it belongs to another request' };
    const replay = this.#config.replay.check(header);
    if (replay !== undefined) return { kind: 'rejected', reason: replay };
    return { kind: 'opened', payload: decrypted.plaintext };
  }
}

// --- responder side ---

/** The reply half for one protected request: sealed to the requester's key, bound to its correlation. */
class UbspReplySealer implements ReplySealer {
  constructor(
    private readonly agentId: string,
    private readonly requesterId: string,
    private readonly key: { key: UbspKey; kid: string | undefined },
    private readonly serialization: 'compact' | 'json',
    private readonly maxAgeSeconds: number,
  ) {}

  async sealReply(
    payload: string,
    correlationData: Uint8Array | undefined,
    userProperties: Record<string, string>,
  ): Promise<SealedReply> {
    const sealed = await encryptPayload(
      payload,
      this.key,
      {
        [UbspHeader.Requester]: this.requesterId,
        [UbspHeader.Responder]: this.agentId,
        [UbspHeader.CorrelationData]: ubspCorrelationHeader(correlationData ?? new Uint8Array(0)),
      },
      { serialization: this.serialization, maxAgeSeconds: this.maxAgeSeconds },
    );
    const properties: Record<string, string> = {
      ...userProperties,
      [A2AUserProperty.SecurityProfile]: UBSP_V1,
      [A2AUserProperty.RequesterAgentId]: this.requesterId,
    };
    properties[A2AUserProperty.ResponderAgentId] ??= this.agentId;
    if (this.key.kid !== undefined) properties[A2AUserProperty.RecipientKid] = this.key.kid;
    return { payload: sealed.payload, contentType: sealed.contentType, userProperties: properties };
  }
}

/**
 * `ubsp-v1` for an agent (also without `ubsp` options, to refuse protected requests it cannot read):
 * checks the request's metadata (`a2a-security-profile`, `a2a-requester-agent-id`, `a2a-recipient-agent-id`
 * naming this agent), decrypts it, checks the protected header against the metadata and for replays, and
 * resolves the requester's key for the replies.
 */
export class UbspResponderCodec implements RequestOpener {
  readonly #config: UbspConfig<ServeUbspOptions> | undefined;
  readonly #agentId: string;
  /** `{org}/{unit}` of this agent: a requester outside the reply topic's scope is looked up there. */
  readonly #tenant: string;
  readonly #logger: Logger;

  constructor(
    config: UbspConfig<ServeUbspOptions> | undefined,
    agentId: string,
    tenant: string,
    logger: Logger,
  ) {
    this.#config = config;
    this.#agentId = agentId;
    this.#tenant = tenant;
    this.#logger = logger;
  }

  async openRequest(message: MqttMessage, replyTopic: string): Promise<OpenedRequest> {
    const properties = message.properties;
    const profile = getUserProperty(properties, A2AUserProperty.SecurityProfile);
    const encrypted = properties.contentType === JOSE_COMPACT || properties.contentType === JOSE_JSON;
    const refuse = (reason: string): OpenedRequest => ({ ok: false, reason });
    const config = this.#config;
    if (profile === undefined && !encrypted) {
      if (config?.options.required) return refuse('this agent accepts only ubsp-v1 protected requests');
      return { ok: true, message, sealer: undefined };
    }
    if (profile === undefined)
      return refuse(`an encrypted payload needs ${A2AUserProperty.SecurityProfile} ubsp-v1`);
    if (profile !== UBSP_V1)
      return refuse(`unsupported ${A2AUserProperty.SecurityProfile} '${profile.slice(0, 40)}'`);
    if (!config) return refuse('this agent does not support ubsp-v1');
    const requesterId = getUserProperty(properties, A2AUserProperty.RequesterAgentId);
    const recipientId = getUserProperty(properties, A2AUserProperty.RecipientAgentId);
    if (requesterId === undefined || recipientId === undefined) {
      return refuse(
        `ubsp-v1 requests need ${A2AUserProperty.RequesterAgentId} and ${A2AUserProperty.RecipientAgentId}`,
      );
    }
    if (recipientId !== this.#agentId) {
      return refuse(`${A2AUserProperty.RecipientAgentId} '${recipientId.slice(0, 80)}' is not this agent`);
    }
    if (!encrypted)
      return refuse('a ubsp-v1 request must be a JWE (application/jose or application/jose+json)');
    let decrypted;
    try {
      decrypted = await decryptPayload(message.payload, properties.contentType, config.options.privateKey);
    } catch {
      return refuse('cannot decrypt the ubsp-v1 payload');
    }
    const header = decrypted.header;
    if (
      header[UbspHeader.Requester] !== requesterId ||
      header[UbspHeader.Recipient] !== this.#agentId ||
      header[UbspHeader.ResponseTopic] !== replyTopic
    ) {
      return refuse('the protected header does not match the request metadata');
    }
    const replay = config.replay.check(header);
    if (replay !== undefined) {
      this.#logger.warn(`security: rejected a ubsp-v1 request on '${message.topic}': ${replay}`);
      return refuse(replay);
    }
    let key;
    try {
      key = await config.keys.resolve(this.#requesterAddress(replyTopic, requesterId), undefined);
    } catch (error) {
      return refuse(`cannot resolve the requester's ubsp-v1 key: ${(error as Error).message}`);
    }
    const sealer = new UbspReplySealer(
      this.#agentId,
      requesterId,
      key,
      decrypted.serialization,
      config.options.maxAgeSeconds ?? 60,
    );
    return { ok: true, message: { ...message, payload: decrypted.plaintext }, sealer };
  }

  #requesterAddress(replyTopic: string, requesterId: string): AgentAddress {
    const reply = parseA2aTopic(replyTopic);
    if (reply?.kind === 'reply' && reply.agentId === requesterId) {
      return { org: reply.orgId, unit: reply.unitId, agentId: requesterId };
    }
    const [org, unit] = this.#tenant.split('/') as [string, string];
    return { org, unit, agentId: requesterId };
  }
}
