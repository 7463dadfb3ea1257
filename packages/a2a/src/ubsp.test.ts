import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { publicJwk } from './security-metadata.js';
import {
  JOSE_COMPACT,
  JOSE_JSON,
  ReplayGuard,
  decryptPayload,
  encryptPayload,
  pickEncryptionKey,
} from './ubsp.js';

async function keyPair(kid: string) {
  const pair = await generateKeyPair('ECDH-ES+A256KW', { extractable: true });
  const privateJwk = { ...(await exportJWK(pair.privateKey)), kid };
  return { privateJwk, publicJwk: publicJwk(privateJwk) };
}

describe('ubsp-v1 payload protection', () => {
  it('round-trips compact and JSON serialisations, binding claims into the protected header', async () => {
    const { privateJwk, publicJwk: recipient } = await keyPair('k1');
    for (const serialization of ['compact', 'json'] as const) {
      const sealed = await encryptPayload(
        '{"jsonrpc":"2.0"}',
        { key: recipient, kid: 'k1' },
        { 'a2a-requester-agent-id': 'a' },
        { serialization, maxAgeSeconds: 60 },
      );
      expect(sealed.contentType).toBe(serialization === 'json' ? JOSE_JSON : JOSE_COMPACT);
      const opened = await decryptPayload(
        new TextEncoder().encode(sealed.payload),
        sealed.contentType,
        privateJwk,
      );
      expect(new TextDecoder().decode(opened.plaintext)).toBe('{"jsonrpc":"2.0"}');
      expect(opened.header).toMatchObject({ kid: 'k1', enc: 'A256GCM', 'a2a-requester-agent-id': 'a' });
      expect(typeof opened.header.jti).toBe('string');
      expect(opened.serialization).toBe(serialization);
    }
  });

  it('does not decrypt with another key or a non-JWE content type', async () => {
    const first = await keyPair('k1');
    const second = await keyPair('k2');
    const sealed = await encryptPayload(
      'x',
      { key: first.publicJwk, kid: 'k1' },
      {},
      {
        serialization: 'compact',
        maxAgeSeconds: 60,
      },
    );
    const bytes = new TextEncoder().encode(sealed.payload);
    await expect(decryptPayload(bytes, JOSE_COMPACT, second.privateJwk)).rejects.toThrow();
    await expect(decryptPayload(bytes, 'application/json', first.privateJwk)).rejects.toThrow(/not a JWE/);
  });

  it('accepts each jti once and only within its lifetime', () => {
    const guard = new ReplayGuard({ maxAgeSeconds: 60, clockToleranceSeconds: 5 });
    const now = Math.floor(Date.now() / 1000);
    expect(guard.check({ jti: 'a', iat: now, exp: now + 60 })).toBeUndefined();
    expect(guard.check({ jti: 'a', iat: now, exp: now + 60 })).toMatch(/replayed/);
    expect(guard.check({ jti: 'b', iat: now - 120, exp: now - 60 })).toMatch(/expired/);
    expect(guard.check({ jti: 'c', iat: now + 60, exp: now + 120 })).toMatch(/future/);
    expect(guard.check({ jti: 'd', iat: now, exp: now + 3600 })).toMatch(/too long/);
    expect(guard.check({ iat: now, exp: now + 60 })).toMatch(/no jti/);
  });

  it('picks the encryption key of a JWKS, not the signing one', () => {
    const keys = [
      { kty: 'EC', crv: 'P-256', x: 'a', y: 'b', use: 'sig', kid: 's' },
      { kty: 'EC', crv: 'P-256', x: 'c', y: 'd', use: 'enc', kid: 'e' },
    ];
    expect(pickEncryptionKey(keys)?.kid).toBe('e');
    expect(pickEncryptionKey([keys[0] as (typeof keys)[0]])).toBeUndefined();
  });
});
