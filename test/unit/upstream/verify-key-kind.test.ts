// The signature check in lib/upstream/verify.ts uses the key it is given with node:crypto, so it
// checks the key's kind itself (RFC 8725 §3.1), not only the key cache's selection: a key of
// another family, curve or size is refused as `algorithm`, whatever the signature. The keys port
// here hands out a fixed key, standing for a cache that selected the wrong one.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SubjectTokenInvalid } from '../../../lib/errors.ts';
import type { UpstreamKeys } from '../../../lib/upstream/key-cache.ts';
import { verifyExternalToken } from '../../../lib/upstream/verify.ts';
import { signJws } from '../../support/jws.ts';

const ISSUER = 'https://idp.example.com';
const NOW = Date.UTC(2030, 0, 1) / 1000;
const clock = { now: () => NOW * 1000 };
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });

const keysGiving = (key: KeyObject) => ({ getKey: async () => key }) as unknown as UpstreamKeys;
const token = (alg: string, key: KeyObject) =>
  signJws(alg, key, { alg, kid: 'k1' }, { iss: ISSUER, aud: 'fedbroker', sub: 'x', iat: NOW, exp: NOW + 300 });
const verify = (t: string, key: KeyObject) =>
  verifyExternalToken(t, { keys: keysGiving(key), clock, issuer: ISSUER, audiences: ['fedbroker'] });

describe('verifyExternalToken: the key must fit the algorithm', () => {
  it.each([
    ['ES256 with a P-384 key', 'ES256', p384.privateKey, p384.publicKey],
    ['ES384 with a P-256 key', 'ES384', p256.privateKey, p256.publicKey],
    ['RS256 with a 1024-bit RSA key', 'RS256', rsa1024.privateKey, rsa1024.publicKey],
    ['ES256 signed by P-256, verified with an RSA key', 'ES256', p256.privateKey, rsa.publicKey],
    ['RS256 signed by RSA, verified with an EC key', 'RS256', rsa.privateKey, p256.publicKey],
  ])('%s → algorithm', async (_name, alg, signWith, verifyWith) => {
    const e = await verify(token(alg, signWith), verifyWith).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SubjectTokenInvalid);
    expect((e as SubjectTokenInvalid).reason).toBe('algorithm');
  });

  it.each([
    ['RS256', rsa],
    ['PS256', rsa],
    ['ES256', p256],
    ['ES384', p384],
  ])('%s with a fitting key verifies', async (alg, pair) => {
    await expect(verify(token(alg, pair.privateKey), pair.publicKey)).resolves.toMatchObject({ claims: { sub: 'x' } });
  });
});
