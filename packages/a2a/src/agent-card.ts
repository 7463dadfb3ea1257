import { AgentCard } from '@a2a-js/sdk';
import type { AgentInterface, AgentSkill } from '@a2a-js/sdk';
import * as z from 'zod/v4';

/** The `protocolBinding` this SDK publishes in `supportedInterfaces` (spec decision 5). */
export const MQTT_PROTOCOL_BINDING = 'MQTT5+JSONRPC';

/** Other spellings of the same binding accepted when reading cards (EMQX's Python SDK publishes the first). */
export const MQTT_PROTOCOL_BINDING_ALIASES: readonly string[] = ['MQTTv5+JSONRPCv2'];

/** The A2A protocol version this package speaks. */
export const A2A_PROTOCOL_VERSION = '1.0';

/** True when `protocolBinding` names the A2A-over-MQTT binding in any accepted spelling (case-insensitive). */
export function isMqttProtocolBinding(protocolBinding: string): boolean {
  const wanted = protocolBinding.toUpperCase();
  return [MQTT_PROTOCOL_BINDING, ...MQTT_PROTOCOL_BINDING_ALIASES].some(
    (name) => name.toUpperCase() === wanted,
  );
}

/** The MQTT interfaces a card declares, canonical spelling first. */
export function mqttInterfaces(card: AgentCard): AgentInterface[] {
  return (card.supportedInterfaces ?? []).filter((entry) =>
    isMqttProtocolBinding(entry.protocolBinding ?? ''),
  );
}

// --- Validation of cards read from the wire (ProtoJSON, camelCase) ---

const text = z.string();
const stringList = z.array(z.string());
const jsonObject = z.record(z.string(), z.unknown());

// ProtoJSON omits empty repeated fields, so a missing list is an empty list; a present one must be a list.
const optionalList = <T extends z.ZodType>(item: T) => z.array(item).optional();

const agentInterfaceSchema = z.looseObject({
  url: text.min(1, 'url must not be empty'),
  protocolBinding: text.min(1, 'protocolBinding must not be empty'),
  tenant: text.optional(),
  protocolVersion: text.min(1, 'protocolVersion must not be empty'),
});

const agentSkillSchema = z.looseObject({
  id: text.min(1, 'skill id must not be empty'),
  name: text.min(1, 'skill name must not be empty'),
  description: text.optional(),
  tags: optionalList(z.string()),
  examples: optionalList(z.string()),
  inputModes: optionalList(z.string()),
  outputModes: optionalList(z.string()),
  securityRequirements: optionalList(jsonObject),
});

const agentExtensionSchema = z.looseObject({
  uri: text.optional(),
  description: text.optional(),
  required: z.boolean().optional(),
  params: jsonObject.optional(),
});

/**
 * Zod schema of an A2A v1.0 `AgentCard` in its JSON (ProtoJSON, camelCase) form, as it travels on
 * `$a2a/v1/discovery/...`. Required fields of the proto are required here, except repeated fields,
 * which ProtoJSON omits when empty. Unknown fields are kept (forward compatibility).
 */
export const agentCardSchema = z.looseObject({
  name: text.min(1, 'name must not be empty'),
  description: text.optional(),
  supportedInterfaces: z
    .array(agentInterfaceSchema)
    .min(1, 'supportedInterfaces must list at least one interface'),
  provider: z.looseObject({ url: text, organization: text }).optional(),
  version: text.optional(),
  documentationUrl: text.optional(),
  capabilities: z
    .looseObject({
      streaming: z.boolean().optional(),
      pushNotifications: z.boolean().optional(),
      extensions: optionalList(agentExtensionSchema),
      extendedAgentCard: z.boolean().optional(),
    })
    .optional(),
  securitySchemes: z.record(z.string(), jsonObject).optional(),
  securityRequirements: optionalList(jsonObject),
  defaultInputModes: stringList.optional(),
  defaultOutputModes: stringList.optional(),
  skills: optionalList(agentSkillSchema),
  signatures: optionalList(z.looseObject({ protected: text, signature: text })),
  iconUrl: text.optional(),
});

/** The JSON form of a valid card. */
export type AgentCardJson = z.infer<typeof agentCardSchema>;

/** Outcome of reading a card payload. */
export type AgentCardParseResult =
  { ok: true; card: AgentCard; json: AgentCardJson } | { ok: false; reason: string; issues: string[] };

/** Validate an already-decoded JSON value as an Agent Card and convert it to the SDK's `AgentCard`. */
export function parseAgentCard(value: unknown): AgentCardParseResult {
  const result = agentCardSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const path = issue.path.join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    });
    return { ok: false, reason: `invalid agent card: ${issues.join('; ')}`, issues };
  }
  return { ok: true, card: AgentCard.fromJSON(result.data), json: result.data };
}

// --- Building the card an agent publishes ---

/** A skill as the user writes it: `id` and `name` are required, everything else has a default. */
export type AgentSkillInput = Partial<AgentSkill> & { id: string; name: string };

/**
 * The card an agent passes to `serveA2AOverMqtt`: only `name` is required. The MQTT interface
 * (`MQTT5+JSONRPC`, broker URL, tenant `{org}/{unit}`, version 1.0) is added for you, ahead of any
 * interfaces you list.
 */
export type AgentCardInput = Partial<Omit<AgentCard, 'skills'>> & {
  name: string;
  skills?: AgentSkillInput[];
};

/** Where the agent is reached: what `buildAgentCard` writes into the card's MQTT interface entry. */
export interface BuildAgentCardOptions {
  /** Broker URL written into the MQTT interface entry. */
  brokerUrl: string;
  /** The agent's organisation: the first half of the entry's tenant `{org}/{unit}`. */
  org: string;
  /** The agent's unit: the second half of the entry's tenant `{org}/{unit}`. */
  unit: string;
}

/** Complete a user's card: defaults for required fields and the MQTT interface entry. */
export function buildAgentCard(input: AgentCardInput, options: BuildAgentCardOptions): AgentCard {
  // Round-trip through the SDK's codec so every field has its proto default, then fill what A2A requires.
  const base = AgentCard.fromJSON(AgentCard.toJSON(input as AgentCard));
  const mqttInterface: AgentInterface = {
    url: options.brokerUrl,
    protocolBinding: MQTT_PROTOCOL_BINDING,
    tenant: `${options.org}/${options.unit}`,
    protocolVersion: A2A_PROTOCOL_VERSION,
  };
  const others = base.supportedInterfaces.filter((entry) => !isMqttProtocolBinding(entry.protocolBinding));
  const skills = base.skills.map((skill) => ({
    ...skill,
    description: skill.description || skill.name,
    tags: skill.tags.length > 0 ? skill.tags : [skill.id],
  }));
  return {
    ...base,
    description: base.description || base.name,
    version: base.version || '0.0.0',
    supportedInterfaces: [mqttInterface, ...others],
    capabilities: base.capabilities ?? { streaming: false, pushNotifications: false, extensions: [] },
    defaultInputModes: base.defaultInputModes.length > 0 ? base.defaultInputModes : ['text/plain'],
    defaultOutputModes: base.defaultOutputModes.length > 0 ? base.defaultOutputModes : ['text/plain'],
    skills,
  };
}

/** The JSON payload of a card, as published on the discovery topic. */
export function agentCardToJson(card: AgentCard): Record<string, unknown> {
  return AgentCard.toJSON(card) as Record<string, unknown>;
}
