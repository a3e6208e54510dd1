import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { algForJwk, ecdsaDerToJose, spkiDerToJwk } from '../../../lib/keys/der.ts';

const der = (r: number[], s: number[]) => {
  const int = (b: number[]) => [0x02, b.length, ...b];
  const body = [...int(r), ...int(s)];
  return Uint8Array.from([0x30, body.length, ...body]);
};

describe('spkiDerToJwk', () => {
  it('turns an RSA SubjectPublicKeyInfo into the same JWK node exports', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = spkiDerToJwk(publicKey.export({ format: 'der', type: 'spki' }));
    expect(jwk).toEqual(publicKey.export({ format: 'jwk' }));
    expect(algForJwk(jwk)).toBe('RS256');
  });

  it('turns a P-256 SubjectPublicKeyInfo into an EC JWK', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = spkiDerToJwk(publicKey.export({ format: 'der', type: 'spki' }));
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(algForJwk(jwk)).toBe('ES256');
  });

  it('gives no algorithm for keys fedbroker does not sign with', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    expect(algForJwk(spkiDerToJwk(small.export({ format: 'der', type: 'spki' })))).toBeUndefined();
    expect(algForJwk(spkiDerToJwk(p384.export({ format: 'der', type: 'spki' })))).toBeUndefined();
  });

  it('refuses bytes that are not a SubjectPublicKeyInfo', () => {
    expect(() => spkiDerToJwk(Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01]))).toThrow();
  });

  it('derives the RFC 7638 thumbprint from the canonical members only', async () => {
    // RFC 7638 §3.1 example key and its published thumbprint.
    const jwk = {
      kty: 'RSA',
      n:
        '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjB' +
        'ZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8' +
        'KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_' +
        'xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: 'ignored',
    };
    expect(await calculateJwkThumbprint(jwk, 'sha256')).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});

describe('ecdsaDerToJose', () => {
  it('produces a 64-byte R‖S signature that verifies as IEEE P1363', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (let i = 0; i < 50; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = ecdsaDerToJose(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' }), 'ES256');
      expect(raw).toHaveLength(64);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
    }
  });

  it('strips the sign byte DER adds when the top bit of r or s is set', () => {
    const r = [0x00, 0x80, ...Array(31).fill(1)];
    const s = [0x00, 0xff, ...Array(31).fill(2)];
    const out = ecdsaDerToJose(der(r, s), 'ES256');
    expect(out.slice(0, 32)).toEqual(Uint8Array.from(r.slice(1)));
    expect(out.slice(32)).toEqual(Uint8Array.from(s.slice(1)));
  });

  it('left-pads r and s that DER encodes shorter than 32 bytes', () => {
    const out = ecdsaDerToJose(der([0x01, 0x02], [0x7f]), 'ES256');
    expect(out).toHaveLength(64);
    expect(out[30]).toBe(1);
    expect(out[31]).toBe(2);
    expect(out[63]).toBe(0x7f);
    expect(out.slice(0, 30).every((b) => b === 0)).toBe(true);
  });

  it.each([
    ['not a SEQUENCE', Uint8Array.from([0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01])],
    ['a SEQUENCE whose length overruns', Uint8Array.from([0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01])],
    ['an INTEGER longer than the curve', der(Array(33).fill(0x11), [1])],
    ['a non-INTEGER member', Uint8Array.from([0x30, 0x06, 0x04, 0x01, 0x01, 0x02, 0x01, 0x01])],
    ['an empty INTEGER', Uint8Array.from([0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x01])],
    ['trailing bytes', Uint8Array.from([0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00])],
    ['truncated input', Uint8Array.from([0x30])],
  ])('refuses %s', (_name, input) => {
    expect(() => ecdsaDerToJose(input, 'ES256')).toThrow(TypeError);
  });
});
