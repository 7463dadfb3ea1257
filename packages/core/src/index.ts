// The whole public API of @mqtt-agents/core. Runtime-neutral: no `node:*` imports anywhere below.

// --- errors and logging ---
export { MqttAgentsError, abortError } from './errors.js';
export type { MqttAgentsErrorCode, MqttAgentsErrorOptions } from './errors.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger } from './logger.js';

// --- identifiers, topics, topic filters ---

// --- codec and JSON-RPC ---

// --- MQTT 5 properties ---

// --- connection and correlated request/reply ---
