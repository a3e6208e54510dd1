import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { jwkThumbprint } from '../../../lib/keys/thumbprint.ts';

const publicJwk = (pair: { publicKey: { export(o: { format: 'jwk' }): unknown } }) => pair.publicKey.export({ format: 'jwk' }) as JWK;

describe('jwkThumbprint (RFC 7638)', () => {
  it.each([
    ['RSA 2048', () => publicJwk(generateKeyPairSync('rsa', { modulusLength: 2048 }))],
    ['RSA 3072', () => publicJwk(generateKeyPairSync('rsa', { modulusLength: 3072 }))],
    ['EC P-256', () => publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }))],
    ['EC P-384', () => publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-384' }))],
  ])('gives the same SHA-256 thumbprint as jose for %s keys, whatever else the JWK carries', async (_, make) => {
    for (let i = 0; i < 3; i++) {
      const jwk = make();
      // Optional members (kid, alg, use) and member order are not part of the thumbprint (§3.2).
      const decorated = { use: 'sig', alg: 'XX', kid: 'k', ...Object.fromEntries(Object.entries(jwk).reverse()) } as JWK;
      expect(jwkThumbprint(jwk)).toBe(await calculateJwkThumbprint(jwk, 'sha256'));
      expect(jwkThumbprint(decorated)).toBe(jwkThumbprint(jwk));
    }
  });

  it('gives the RFC 7638 §3.1 example thumbprint', () => {
    // RFC 7638 §3.1's example RSA key.
    const n = [
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjB',
      'ZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8',
      'KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_',
      'xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
    ].join('');
    expect(jwkThumbprint({ kty: 'RSA', n, e: 'AQAB', alg: 'RS256', kid: '2011-04-29' })).toBe(
      'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
    );
  });

  it.each([
    ['no kty', { n: 'x', e: 'AQAB' }],
    ['an unknown kty', { kty: 'XYZ', x: 'a' }],
    ['a prototype member as kty', { kty: '__proto__', x: 'a' }],
    ['an RSA key without n', { kty: 'RSA', e: 'AQAB' }],
    ['an EC key with an empty y', { kty: 'EC', crv: 'P-256', x: 'a', y: '' }],
    ['an EC key with a numeric x', { kty: 'EC', crv: 'P-256', x: 1, y: 'a' }],
  ])('refuses %s, as jose does', async (_, jwk) => {
    expect(() => jwkThumbprint(jwk as JWK)).toThrow(TypeError);
    await expect(calculateJwkThumbprint(jwk as JWK, 'sha256')).rejects.toThrow();
  });
});
