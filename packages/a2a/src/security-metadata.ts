// Security metadata in Agent Cards (profile, Security Metadata and Trust; EIP-0033): where an agent's public
// keys are, in the `urn:a2a:mqtt-profile:v1` extension's `params.securityMetadata`.
import type { AgentCard, AgentExtension } from '@a2a-js/sdk';
import type { JWK } from 'jose';

/** The profile's card extension that carries security metadata (EIP-0033). */
export const MQTT_PROFILE_EXTENSION_URI = 'urn:a2a:mqtt-profile:v1';

/** Public key metadata a card publishes (`capabilities.extensions[].params.securityMetadata`). */
export interface CardSecurityMetadata {
  /** Where the agent's JWKS lives (HTTPS). */
  jwksUri?: string;
  /** The agent's public keys inline (covered by the card signature when the card is signed). */
  jwks?: { keys: JWK[] };
}

/** The security metadata of a card (JSON form), from any extension that carries `securityMetadata`. */
export function cardSecurityMetadata(cardJson: unknown): CardSecurityMetadata {
  const extensions = (cardJson as { capabilities?: { extensions?: unknown } } | undefined)?.capabilities
    ?.extensions;
  if (!Array.isArray(extensions)) return {};
  for (const extension of extensions) {
    const metadata = (extension as { params?: { securityMetadata?: unknown } } | null)?.params
      ?.securityMetadata;
    if (typeof metadata !== 'object' || metadata === null) continue;
    const { jwksUri, jwks } = metadata as { jwksUri?: unknown; jwks?: unknown };
    const keys = (jwks as { keys?: unknown } | undefined)?.keys;
    return {
      ...(typeof jwksUri === 'string' ? { jwksUri } : {}),
      ...(Array.isArray(keys) ? { jwks: { keys: keys as JWK[] } } : {}),
    };
  }
  return {};
}

/**
 * The card with `metadata` in its `urn:a2a:mqtt-profile:v1` extension (added, or merged into an existing
 * one). Inline `jwks` keys keep only their public members.
 */
export function withSecurityMetadata(card: AgentCard, metadata: CardSecurityMetadata): AgentCard {
  if (metadata.jwksUri === undefined && metadata.jwks === undefined) return card;
  const capabilities = card.capabilities ?? { streaming: false, pushNotifications: false, extensions: [] };
  const extensions = [...(capabilities.extensions ?? [])];
  const index = extensions.findIndex((entry) => entry.uri === MQTT_PROFILE_EXTENSION_URI);
  const existing: AgentExtension | undefined = index === -1 ? undefined : extensions[index];
  const params = { ...(existing?.params ?? {}) } as Record<string, unknown>;
  const previous = (params.securityMetadata ?? {}) as CardSecurityMetadata;
  params.securityMetadata = {
    ...previous,
    ...(metadata.jwksUri === undefined ? {} : { jwksUri: metadata.jwksUri }),
    ...(metadata.jwks === undefined ? {} : { jwks: { keys: metadata.jwks.keys.map(publicJwk) } }),
  };
  const extension: AgentExtension = {
    uri: MQTT_PROFILE_EXTENSION_URI,
    description: existing?.description || 'A2A over MQTT profile metadata (security keys).',
    required: false,
    params,
  };
  if (index === -1) extensions.push(extension);
  else extensions[index] = extension;
  return { ...card, capabilities: { ...capabilities, extensions } };
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A JWK without its private members (a public key can never leak a private one through a card). */
export function publicJwk(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk };
  for (const member of PRIVATE_JWK_MEMBERS) delete copy[member];
  return copy as JWK;
}
