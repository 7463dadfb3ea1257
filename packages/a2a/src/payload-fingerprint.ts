/**
 * A payload's identity for duplicate detection (QoS 1 redelivery): its length and a 64-bit hash (two 32-bit
 * FNV-1a hashes with different offset bases, computed in one pass). Equal payloads give equal fingerprints.
 */
export function payloadFingerprint(bytes: Uint8Array): string {
  let low = 0x811c9dc5;
  let high = 0x01000193;
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index] as number;
    low = Math.imul(low ^ byte, 0x01000193);
    high = Math.imul(high ^ byte, 0x01000193);
  }
  return `${bytes.length}:${(low >>> 0).toString(16)}.${(high >>> 0).toString(16)}`;
}
