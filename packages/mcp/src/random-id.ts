const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A random id usable as an MQTT client id and topic level: `prefix-` plus 16 lowercase alphanumerics. */
export function randomId(prefix: string): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let suffix = '';
  for (const byte of bytes) suffix += ALPHABET[byte % ALPHABET.length];
  return `${prefix}-${suffix}`;
}
