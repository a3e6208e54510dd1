import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWithKey } from '../../../lib/keys/sign-with-key.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const data = Buffer.from('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0');

describe('signWithKey', () => {
  it.each([
    ['RS256', 'inline', false],
    ['RS256', 'in the thread pool', true],
    ['ES256', 'inline', false],
    ['ES256', 'in the thread pool', true],
  ] as const)('signs %s %s with a signature the public key verifies', async (alg, _mode, offload) => {
    const pair = alg === 'RS256' ? rsa : ec;
    const signature = await signWithKey(alg, pair.privateKey, data, offload);
    const options = alg === 'ES256' ? { key: pair.publicKey, dsaEncoding: 'ieee-p1363' as const } : pair.publicKey;
    expect(verify('sha256', data, options, signature)).toBe(true);
    // JWS ES256 signatures are the fixed 64-byte R‖S form (RFC 7518 §3.4), never DER.
    if (alg === 'ES256') expect(signature).toHaveLength(64);
    expect(verify('sha256', Buffer.from('other'), options, signature)).toBe(false);
  });

  it.each([true, false])('rejects (never returns a signature) when the key cannot sign the algorithm (offload %s)', async (offload) => {
    await expect(signWithKey('RS256', ec.publicKey, data, offload)).rejects.toThrow();
    await expect(signWithKey('ES256', rsa.privateKey, data, offload)).rejects.toThrow();
  });
});
