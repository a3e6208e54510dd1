// Red-team probes of the node:crypto upstream verifier (lib/upstream/verify.ts, key-cache.ts), which
// held: algorithm confusion, key fit (curve, size), ECDSA and PSS encodings, and a JWKS rotation
// against the (kid, alg) key memo. A frozen clock and an in-memory Fetch port.
import { createSign, generateKeyPairSync, sign as cryptoSign, constants, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SubjectTokenInvalid } from '../../lib/errors.ts';
import type { Fetch } from '../../lib/net/fetch.ts';
import { UpstreamKeys } from '../../lib/upstream/key-cache.ts';
import { verifyExternalToken } from '../../lib/upstream/verify.ts';
import { b64url } from '../support/jws.ts';

const ISSUER = 'https://idp.example.com';
const AUD = 'fedbroker';
let now = Date.UTC(2030, 0, 1);
const clock = { now: () => now };
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const jwk = (k: KeyObject, extra: Record<string, unknown>) => ({ ...k.export({ format: 'jwk' }), ...extra });
let jwks: { keys: Record<string, unknown>[] } = { keys: [] };
const fetch: Fetch = async (url) => {
  const body = url.endsWith('/.well-known/openid-configuration') ? { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` } : jwks;
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
};
const claims = () => ({ iss: ISSUER, aud: AUD, sub: 'repo:acme/app', iat: now / 1000, exp: now / 1000 + 300 });

function signed(alg: string, key: KeyObject, header: Record<string, unknown>, opts: { dsa?: 'der' | 'ieee-p1363'; pss?: number } = {}) {
  const h = b64url({ alg, ...header });
  const p = b64url(claims());
  const input = Buffer.from(`${h}.${p}`);
  const digest = `sha${alg.slice(2)}`;
  let sig: Buffer;
  if (alg.startsWith('ES')) sig = cryptoSign(digest, input, { key, dsaEncoding: opts.dsa ?? 'ieee-p1363' });
  else if (alg.startsWith('PS'))
    sig = cryptoSign(digest, input, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: opts.pss ?? constants.RSA_PSS_SALTLEN_DIGEST,
    });
  else sig = createSign(digest).update(input).sign(key);
  return `${h}.${p}.${sig.toString('base64url')}`;
}
const reason = async (keys: UpstreamKeys, t: string) => {
  try {
    await verifyExternalToken(t, { keys, clock, issuer: ISSUER, audiences: [AUD] });
    return 'ADMITTED';
  } catch (e) {
    return e instanceof SubjectTokenInvalid ? e.reason : String((e as Error).name);
  }
};

describe('algorithm confusion and key fit', () => {
  it('probes', async () => {
    jwks = {
      keys: [
        jwk(rsa.publicKey, { kid: 'r' }),
        jwk(p256.publicKey, { kid: 'e' }),
        jwk(small.publicKey, { kid: 's' }),
        jwk(p384.publicKey, { kid: 'e384', crv: 'P-256' }),
      ],
    };
    const keys = new UpstreamKeys({ fetch, clock });
    const results: Record<string, string> = {
      control_rs: await reason(keys, signed('RS256', rsa.privateKey, { kid: 'r' })),
      control_ps: await reason(keys, signed('PS256', rsa.privateKey, { kid: 'r' })),
      control_es: await reason(keys, signed('ES256', p256.privateKey, { kid: 'e' })),
      ps_salt0: await reason(keys, signed('PS256', rsa.privateKey, { kid: 'r' }, { pss: 0 })),
      ps_saltmax: await reason(keys, signed('PS256', rsa.privateKey, { kid: 'r' }, { pss: constants.RSA_PSS_SALTLEN_MAX_SIGN })),
      rs_on_ec: await reason(keys, signed('RS256', rsa2.privateKey, { kid: 'e' })),
      es_der: await reason(keys, signed('ES256', p256.privateKey, { kid: 'e' }, { dsa: 'der' })),
      es256_p384key: await reason(keys, signed('ES256', p384.privateKey, { kid: 'e384' })),
      es384_p384key_lie: await reason(keys, signed('ES384', p384.privateKey, { kid: 'e384' })),
      small_rsa: await reason(keys, signed('RS256', small.privateKey, { kid: 's' })),
      rs_lower: await reason(keys, signed('rs256', rsa.privateKey, { kid: 'r' })),
      none: await reason(keys, `${b64url({ alg: 'none', kid: 'r' })}.${b64url(claims())}.`),
    };
    // high-S variant of a valid ES256 signature
    const t = signed('ES256', p256.privateKey, { kid: 'e' });
    const [h, p, s] = t.split('.');
    const sig = Buffer.from(s!, 'base64url');
    const n = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
    const sv = BigInt(`0x${sig.subarray(32).toString('hex')}`);
    const hs = Buffer.from((n - sv).toString(16).padStart(64, '0'), 'hex');
    results.es_highS = await reason(keys, `${h}.${p}.${Buffer.concat([sig.subarray(0, 32), hs]).toString('base64url')}`);
    results.es_odd = await reason(keys, `${h}.${p}.${sig.subarray(0, 63).toString('base64url')}`);
    results.es_zero = await reason(keys, `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`);
    // r, s = n (out of range)
    const nb = Buffer.from(n.toString(16), 'hex');
    results.es_n = await reason(keys, `${h}.${p}.${Buffer.concat([nb, nb]).toString('base64url')}`);
    // High-S ECDSA is admitted, as WebCrypto (and so jose before) admits it: malleability gives another
    // encoding of a token the issuer signed, never a claim it did not sign.
    expect(results).toEqual({
      control_rs: 'ADMITTED',
      control_ps: 'ADMITTED',
      control_es: 'ADMITTED',
      ps_salt0: 'signature',
      ps_saltmax: 'signature',
      rs_on_ec: 'unknown_key',
      es_der: 'signature',
      es256_p384key: 'unknown_key',
      es384_p384key_lie: 'unknown_key',
      small_rsa: 'unknown_key',
      rs_lower: 'algorithm',
      none: 'algorithm',
      es_highS: 'ADMITTED',
      es_odd: 'signature',
      es_zero: 'signature',
      es_n: 'signature',
    });
  });

  it('rotation: a removed key is not accepted after refresh', async () => {
    jwks = { keys: [jwk(rsa.publicKey, { kid: 'r' })] };
    const keys = new UpstreamKeys({ fetch, clock, ttlMs: 1000, cooldownMs: 10 });
    expect(await reason(keys, signed('RS256', rsa.privateKey, { kid: 'r' }))).toBe('ADMITTED');
    expect(await reason(keys, signed('RS256', rsa.privateKey, {}))).toBe('ADMITTED');
    jwks = { keys: [jwk(rsa2.publicKey, { kid: 'r2' })] };
    now += 2000;
    const r = {
      oldkid: await reason(keys, signed('RS256', rsa.privateKey, { kid: 'r' })),
      nokid: await reason(keys, signed('RS256', rsa.privateKey, {})),
      newkid: await reason(keys, signed('RS256', rsa2.privateKey, { kid: 'r2' })),
    };
    expect(r).toEqual({ oldkid: 'unknown_key', nokid: 'signature', newkid: 'ADMITTED' });
  });
});
