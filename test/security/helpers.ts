// Shared fixtures of the security suite. Attacks run against a real broker of the lane (the embedded one
// with our plugins, or Mosquitto for the SDK-side defences that must hold on any broker), loopback only,
// bounded in count and time. Resource tests measure RSS in a child process (see `child.ts`).
export { brokerKind, delay, eventually, unique } from '../reliability/helpers.js';

/** True on the lane where the embedded broker and its plugins are under test. */
export const embeddedLane = process.env.MQTT_AGENTS_TEST_BROKER !== 'mosquitto' && !process.env.MQTT_URL;
