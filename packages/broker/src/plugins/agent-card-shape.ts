// A dependency-free structural check of an A2A v1.0 Agent Card in its JSON (ProtoJSON) form, as the
// registry plugin applies it to retained cards. The SDK's zod schema (`agentCardSchema` of
// @mqtt-agents/a2a) is stricter; pass it as `validateCard` to use it instead.

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkString(problems: string[], value: unknown, path: string, required: boolean): void {
  if (value === undefined) {
    if (required) problems.push(`${path} is required`);
    return;
  }
  if (typeof value !== 'string') problems.push(`${path} must be a string`);
  else if (required && value === '') problems.push(`${path} must not be empty`);
}

function checkStringList(problems: string[], value: unknown, path: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string')) {
    problems.push(`${path} must be a list of strings`);
  }
}

/** Problems of a card (empty when it has the AgentCard shape). */
export function agentCardProblems(card: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(card)) return ['the card must be a JSON object'];
  checkString(problems, card.name, 'name', true);
  checkString(problems, card.description, 'description', false);
  checkString(problems, card.version, 'version', false);
  const interfaces = card.supportedInterfaces;
  if (!Array.isArray(interfaces) || interfaces.length === 0) {
    problems.push('supportedInterfaces must list at least one interface');
  } else {
    interfaces.forEach((entry: unknown, index) => {
      if (!isObject(entry)) {
        problems.push(`supportedInterfaces.${index} must be an object`);
        return;
      }
      checkString(problems, entry.url, `supportedInterfaces.${index}.url`, true);
      checkString(problems, entry.protocolBinding, `supportedInterfaces.${index}.protocolBinding`, true);
      checkString(problems, entry.protocolVersion, `supportedInterfaces.${index}.protocolVersion`, true);
      checkString(problems, entry.tenant, `supportedInterfaces.${index}.tenant`, false);
    });
  }
  if (card.capabilities !== undefined && !isObject(card.capabilities))
    problems.push('capabilities must be an object');
  checkStringList(problems, card.defaultInputModes, 'defaultInputModes');
  checkStringList(problems, card.defaultOutputModes, 'defaultOutputModes');
  if (card.skills !== undefined) {
    if (!Array.isArray(card.skills)) problems.push('skills must be a list');
    else {
      card.skills.forEach((skill: unknown, index) => {
        if (!isObject(skill)) {
          problems.push(`skills.${index} must be an object`);
          return;
        }
        checkString(problems, skill.id, `skills.${index}.id`, true);
        checkString(problems, skill.name, `skills.${index}.name`, true);
        checkStringList(problems, skill.tags, `skills.${index}.tags`);
      });
    }
  }
  if (card.securitySchemes !== undefined && !isObject(card.securitySchemes)) {
    problems.push('securitySchemes must be an object');
  }
  if (card.signatures !== undefined) {
    if (
      !Array.isArray(card.signatures) ||
      card.signatures.some(
        (entry: unknown) =>
          !isObject(entry) || typeof entry.protected !== 'string' || typeof entry.signature !== 'string',
      )
    ) {
      problems.push('signatures must be a list of { protected, signature }');
    }
  }
  return problems;
}

/** The card's `jwksUri` security metadata (any extension's `params.securityMetadata`, EIP-0033). */
export function cardJwksUri(card: unknown): string | undefined {
  const extensions = isObject(card) && isObject(card.capabilities) ? card.capabilities.extensions : undefined;
  if (!Array.isArray(extensions)) return undefined;
  for (const extension of extensions) {
    const metadata =
      isObject(extension) && isObject(extension.params) ? extension.params.securityMetadata : undefined;
    if (isObject(metadata) && typeof metadata.jwksUri === 'string') return metadata.jwksUri;
  }
  return undefined;
}

/** True when the card carries security metadata (`jwksUri` or inline `jwks`). */
export function hasSecurityMetadata(card: unknown): boolean {
  if (cardJwksUri(card) !== undefined) return true;
  const extensions = isObject(card) && isObject(card.capabilities) ? card.capabilities.extensions : undefined;
  return (
    Array.isArray(extensions) &&
    extensions.some(
      (extension) =>
        isObject(extension) &&
        isObject(extension.params) &&
        isObject(extension.params.securityMetadata) &&
        isObject(extension.params.securityMetadata.jwks),
    )
  );
}
