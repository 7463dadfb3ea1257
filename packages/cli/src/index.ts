// The public API of @mqtt-agents/cli: the command runner, for embedding and tests.
export { main } from './main.js';
export type { CliIo } from './io.js';
