// MQTT 5 reason codes as the connection reads them: human names for messages, and the codes MQTT.js hands
// back inside errors and SUBACK/UNSUBACK packets.
import mqtt from 'mqtt';

/** PUBACK/PUBREC 0x10: advisory, never a failure. */
export const NO_MATCHING_SUBSCRIBERS = 0x10;

/** Human name of an MQTT 5 reason code, for error messages: `0x87 (Not authorized)`. */
export function describeReasonCode(code: number): string {
  const names = (mqtt as { ReasonCodes?: Record<number, string> }).ReasonCodes;
  const name = names?.[code];
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  return name ? `${hex} (${name})` : hex;
}

/** The reason code MQTT.js put on an error (CONNACK, PUBACK refusals), if any. */
export function reasonCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The per-filter codes of a SUBACK or UNSUBACK packet, if it has them. */
export function grantedOf(packet: unknown): number[] | undefined {
  const granted = (packet as { granted?: unknown } | null | undefined)?.granted;
  if (!Array.isArray(granted)) return undefined;
  return granted.map((entry: unknown) =>
    typeof entry === 'number' ? entry : Number((entry as { qos?: unknown } | null)?.qos ?? 0x80),
  );
}
