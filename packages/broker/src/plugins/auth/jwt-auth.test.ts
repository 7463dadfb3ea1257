import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createJwtVerifier, looksLikeJwt } from './jwt-auth.js';

const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: 'iss',
  aud: 'aud',
  sub: 'svc',
  exp: Math.floor(Date.now() / 1000) + 60,
  ...extra,
});
function hs256(payload: unknown, secret: string | Buffer): string {
  const input = `${part({ alg: 'HS256' })}.${part(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
const SECRET = 'a-secret-of-at-least-thirty-two-bytes!';

describe('JWT verifier', () => {
  it('verifies HS256 with a secret and reads client ids and roles', async () => {
    const verify = createJwtVerifier({ key: { secret: SECRET }, issuer: 'iss', audience: 'aud' });
    const result = await verify(hs256(claims({ client_ids: 'a/b', roles: 'operator viewer' }), SECRET), '');
    expect(result.ok && result.credential.principal).toEqual({
      name: 'svc',
      method: 'jwt',
      roles: ['operator', 'viewer'],
    });
    expect(result.ok && result.credential.patterns.map((pattern) => pattern.source)).toEqual(['a/b']);
    expect((await verify(hs256(claims(), 'another-secret-of-thirty-two-bytes!!'), '')).ok).toBe(false);
  });

  it('never accepts an RS token on an HS verifier, or an HS token on an RS one', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const rsVerify = createJwtVerifier({ key: { publicKey: pem }, issuer: 'iss', audience: 'aud' });
    const input = `${part({ alg: 'RS256' })}.${part(claims())}`;
    const rs = `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
    expect((await rsVerify(rs, 'svc')).ok).toBe(true);
    const confused = await rsVerify(hs256(claims(), pem), '');
    expect(confused.ok).toBe(false);
    const hsVerify = createJwtVerifier({ key: { secret: SECRET }, issuer: 'iss', audience: 'aud' });
    expect((await hsVerify(rs, '')).ok).toBe(false);
  });

  it('refuses unusable configurations', () => {
    expect(() => createJwtVerifier({ key: { secret: 'short' }, issuer: 'i', audience: 'a' })).toThrow(
      /32 bytes/,
    );
    expect(() =>
      createJwtVerifier({ key: { secret: SECRET }, issuer: 'i', audience: 'a', algorithms: ['RS256'] }),
    ).toThrow(/does not fit the key/);
    expect(() =>
      createJwtVerifier({ key: { secret: SECRET }, issuer: 'i', audience: 'a', algorithms: ['none'] }),
    ).toThrow(/does not fit the key/);
    expect(() => createJwtVerifier({ key: { secret: SECRET }, issuer: '', audience: 'a' })).toThrow(/issuer/);
    expect(() => createJwtVerifier({ key: { secret: SECRET }, issuer: 'i', audience: [] })).toThrow(
      /audience/,
    );
    expect(() =>
      createJwtVerifier({ key: { jwks: { keys: [{ kty: 'oct', k: 'AAAA' }] } }, issuer: 'i', audience: 'a' }),
    ).toThrow(/public keys only/);
  });

  it('recognises the shape of a compact JWS only', () => {
    expect(looksLikeJwt(hs256(claims(), SECRET))).toBe(true);
    expect(looksLikeJwt('correct horse battery staple')).toBe(false);
    expect(looksLikeJwt('eyJ.a')).toBe(false);
  });
});
