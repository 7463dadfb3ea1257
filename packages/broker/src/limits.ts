/**
 * Default resource limits of the embedded broker: safe for a development broker on a laptop or an edge box,
 * each settable through `startBroker` (and the `mqtt-agents broker` flags). Documented in the README.
 */
export const BROKER_LIMIT_DEFAULTS = Object.freeze({
  /** Largest packet accepted, in bytes (4 MiB); sent in CONNACK. */
  maximumPacketSize: 4 * 1024 * 1024,
  /** Milliseconds a packet that has begun may take to arrive completely (30 s). */
  packetReadTimeout: 30_000,
  /** Milliseconds a new connection has to send CONNECT (10 s). */
  connectTimeout: 10_000,
  /** Cap on the Session Expiry Interval, in seconds (1 day). */
  maximumSessionExpiryInterval: 86_400,
  /** Sessions held, connected and offline. */
  maximumSessions: 10_000,
  /** QoS 1/2 messages queued per session. */
  maximumQueuedMessages: 100_000,
  /** Bytes of messages one session may hold (8 MiB: two packets of the maximum size). */
  maximumQueuedBytes: 8 * 1024 * 1024,
  /** Bytes of QoS 1/2 messages all sessions together may hold (256 MiB). */
  maximumTotalQueuedBytes: 256 * 1024 * 1024,
  /** Topics with a retained message. */
  maximumRetainedMessages: 10_000,
  /** Bytes of all retained messages (64 MiB). */
  maximumRetainedBytes: 64 * 1024 * 1024,
});

/** What the broker's `publishMessage` returns for a retained message over the retained limits (nothing routed). */
export const RETAINED_QUOTA_EXCEEDED = -1;
