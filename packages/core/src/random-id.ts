/**
 * Random identifiers (client ids, Correlation Data) from the Web Crypto API, which Node.js 20, browsers,
 * Deno and Bun all have as the global `crypto`. It replaces nanoid 5, which is ESM-only: a `require()` of
 * our CJS build must not load an ES module on Node.js < 20.19 (docs/decisions/0008-cjs-loads-no-es-module.md).
 */

// 64 URL-safe characters, so `byte & 63` picks each one with the same probability (no modulo bias).
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** A random URL-safe id of `length` characters (6 bits of entropy each; 21 characters, like nanoid, by default). */
export function randomId(length = 21): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte & 63] as string;
  return id;
}
