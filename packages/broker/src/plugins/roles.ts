/**
 * The operator role: `agentTopicAcl` lets principals holding it read all agent traffic and publish none of
 * it; `brokerAuth` grants it from a credential's roles. One name, shared by both plugins.
 */
export const OPERATOR_ROLE = 'operator';
