// Peers' public encryption keys for `ubsp-v1`, found through discovery: the user's `resolveKey`, else a
// known card's inline JWKS, else the peer's retained card on its discovery topic.
import type { AgentCard } from '@a2a-js/sdk';
import { AgentCard as AgentCardCodec } from '@a2a-js/sdk';
import type { JWK } from 'jose';
import { MqttAgentsError } from '@mqtt-agents/core';
import type { Logger, MqttConnection } from '@mqtt-agents/core';
import type { AgentAddress } from '../agent-address.js';
import { discoverAgents } from './agent-registry.js';
import type { AgentRegistry } from './types.js';
import { verifyAgentCardJson } from '../card-signatures.js';
import { cardSecurityMetadata, publicJwk } from '../security-metadata.js';
import { pickEncryptionKey } from '../ubsp.js';
import type { UbspKey, UbspOptions } from '../ubsp.js';

/**
 * Resolves peers' public encryption keys: the user's `resolveKey`, else a known card's inline JWKS, else
 * the peer's retained card on its discovery topic. With `verifyCards`, only signed cards count.
 */
export class PeerKeyResolver {
  readonly #options: UbspOptions;
  readonly #connection: MqttConnection;
  readonly #logger: Logger;
  readonly #registries = new Map<string, Promise<AgentRegistry>>();

  constructor(options: UbspOptions, connection: MqttConnection, logger: Logger) {
    this.#options = options;
    this.#connection = connection;
    this.#logger = logger;
  }

  /** The peer's key and kid; throws `UNSUPPORTED` when no trusted key is found (fail closed). */
  async resolve(
    peer: AgentAddress,
    card: AgentCard | undefined,
  ): Promise<{ key: UbspKey; kid: string | undefined }> {
    const fromUser = await this.#options.resolveKey?.(peer, card);
    if (fromUser) {
      // Encryption needs the public half only (jose refuses a private JWK here).
      const key = typeof (fromUser as JWK).kty === 'string' ? publicJwk(fromUser as JWK) : fromUser;
      return { key, kid: (fromUser as JWK).kid };
    }
    const fromCard = card
      ? await this.#fromCardJson(AgentCardCodec.toJSON(card) as Record<string, unknown>)
      : undefined;
    const found = fromCard ?? (await this.#fromDiscovery(peer));
    if (!found) {
      throw new MqttAgentsError(
        'UNSUPPORTED',
        `no trusted ubsp-v1 encryption key for agent '${peer.org}/${peer.unit}/${peer.agentId}': refusing to send (ubsp-v1 never falls back to plaintext)`,
        { details: { peer } },
      );
    }
    return { key: found, kid: found.kid };
  }

  async #fromCardJson(json: Record<string, unknown>): Promise<JWK | undefined> {
    if (this.#options.verifyCards) {
      const verification = await verifyAgentCardJson(json, this.#options.verifyCards);
      if (verification.status !== 'valid') {
        this.#logger.warn(
          `ignored ubsp-v1 keys of card '${String(json.name)}': ${verification.status === 'unsigned' ? 'the card is not signed' : verification.reason}`,
        );
        return undefined;
      }
    }
    return pickEncryptionKey(cardSecurityMetadata(json).jwks?.keys ?? []);
  }

  async #fromDiscovery(peer: AgentAddress): Promise<JWK | undefined> {
    const scope = `${peer.org}/${peer.unit}`;
    let pending = this.#registries.get(scope);
    if (!pending) {
      pending = discoverAgents({
        mqtt: { connection: this.#connection },
        org: peer.org,
        unit: peer.unit,
        logger: this.#logger,
      });
      this.#registries.set(scope, pending);
      pending.catch(() => this.#registries.delete(scope));
    }
    try {
      const registry = await pending;
      const agent = await registry.waitFor(peer.agentId, { timeoutMs: 5_000 });
      return await this.#fromCardJson(agent.json);
    } catch (error) {
      this.#logger.warn(`could not find the card of '${scope}/${peer.agentId}' for its ubsp-v1 key`, error);
      return undefined;
    }
  }

  async close(): Promise<void> {
    const registries = [...this.#registries.values()];
    this.#registries.clear();
    await Promise.allSettled(registries.map(async (pending) => (await pending).close()));
  }
}
