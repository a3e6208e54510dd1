// Time-claim bounds of verifyExternalToken at exact boundaries: a frozen clock and an in-memory
// Fetch port, so "one second past the cap" means exactly that. The end-to-end counterparts (real
// HTTP, real clock, generous margins) are in test/security/claims.test.ts.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SubjectTokenInvalid } from '../../../lib/errors.ts';
import type { Fetch } from '../../../lib/net/fetch.ts';
import { UpstreamKeys } from '../../../lib/upstream/key-cache.ts';
import { verifyExternalToken, type VerifyExternalOptions } from '../../../lib/upstream/verify.ts';
import { b64url, signJws } from '../../support/jws.ts';
import { rejection } from '../../support/rejection.ts';

const ISSUER = 'https://idp.example.com';
const AUD = 'fedbroker';
const NOW = Date.UTC(2030, 0, 1) / 1000;
const DAY = 86_400;
const SKEW = 60;

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwks = { keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] };
const fetch: Fetch = async (url) => {
  const body = url.endsWith('/.well-known/openid-configuration') ? { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` } : jwks;
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
};
const clock = { now: () => NOW * 1000 };
const keys = new UpstreamKeys({ fetch, clock });

/** A token genuinely signed by the trusted issuer; `undefined` members are left out. */
function token(claims: Record<string, unknown>): string {
  const payload = Object.fromEntries(
    Object.entries({ iss: ISSUER, aud: AUD, sub: 'repo:acme/app', ...claims }).filter(([, v]) => v !== undefined),
  );
  return signJws('RS256', rsa.privateKey, { alg: 'RS256', kid: 'k1' }, payload);
}

const verify = (t: string, opts: Partial<VerifyExternalOptions> = {}) =>
  verifyExternalToken(t, { keys, clock, issuer: ISSUER, audiences: [AUD], ...opts });

async function refusal(p: Promise<unknown>): Promise<SubjectTokenInvalid> {
  const e = await rejection(p, SubjectTokenInvalid);
  return e as SubjectTokenInvalid;
}

describe("the cap on how far away an external token's exp may be (RFC 7519 §4.1.4)", () => {
  describe('with the default cap of 24 h', () => {
    const admitted: [string, Record<string, unknown>][] = [
      ['a GitHub Actions-style token (5 min)', { iat: NOW, exp: NOW + 300 }],
      ['a Kubernetes projected token with the default 1 h', { iat: NOW, exp: NOW + 3600 }],
      ['a Cognito token minted for the maximum 24 h', { iat: NOW, exp: NOW + DAY }],
      ['a 24 h token from an issuer whose clock is a full skew ahead', { iat: NOW + SKEW, exp: NOW + DAY + SKEW }],
      ['a 30 h token issued 6 h ago (the cap bounds what is left, not the whole lifetime)', { iat: NOW - 6 * 3600, exp: NOW + DAY }],
    ];
    it.each(admitted)('admits %s', async (_name, claims) => {
      await expect(verify(token(claims))).resolves.toMatchObject({ claims: { exp: claims.exp } });
    });

    const refused: [string, Record<string, unknown>][] = [
      ['exp 9999999999 with a fresh iat', { iat: NOW, exp: 9_999_999_999 }],
      ['exp one second beyond the cap and the skew', { iat: NOW, exp: NOW + DAY + SKEW + 1 }],
      ['exp a year away with a fresh iat (an extended Kubernetes API token)', { iat: NOW, exp: NOW + 365 * DAY }],
      ['exp 1e300 with a fresh iat', { iat: NOW, exp: 1e300 }],
      ['exp 25 h away with an iat 1 h old', { iat: NOW - 3600, exp: NOW + 25 * 3600 }],
    ];
    it.each(refused)('refuses %s as expires_too_late (invalid_request)', async (_name, claims) => {
      const e = await refusal(verify(token(claims)));
      expect(e.reason).toBe('expires_too_late');
      expect([e.status, e.oauthError, e.code]).toEqual([400, 'invalid_request', 'ERR_SUBJECT_TOKEN_INVALID']);
    });
  });

  it.each([
    ['admits exp exactly at the configured cap plus skew', NOW + 3600 + SKEW, undefined],
    ['refuses exp one second beyond the configured cap plus skew', NOW + 3600 + SKEW + 1, 'expires_too_late'],
  ])('%s', async (_name, exp, reason) => {
    const p = verify(token({ iat: NOW, exp }), { maxLifetimeSeconds: 3600 });
    if (reason === undefined) await expect(p).resolves.toBeDefined();
    else expect((await refusal(p)).reason).toBe(reason);
  });

  it('applies no skew allowance when the skew is configured to zero', async () => {
    await expect(verify(token({ iat: NOW, exp: NOW + 3600 }), { maxLifetimeSeconds: 3600, clockSkewSeconds: 0 })).resolves.toBeDefined();
    expect((await refusal(verify(token({ iat: NOW, exp: NOW + 3601 }), { maxLifetimeSeconds: 3600, clockSkewSeconds: 0 }))).reason).toBe(
      'expires_too_late',
    );
  });

  it('keeps too_old for a token without iat whose exp is beyond the max age', async () => {
    // Without iat, exp is the only age bound; that refusal predates the cap and keeps its reason.
    expect((await refusal(verify(token({ iat: undefined, exp: 9_999_999_999 })))).reason).toBe('too_old');
  });

  it('judges exp only after the signature, so a forged far exp gets the signature refusal', async () => {
    // A genuine header and signature spliced onto a payload the issuer never signed.
    const [header, , signature] = token({ iat: NOW, exp: NOW + 300 }).split('.');
    const forged = `${header}.${b64url({ iss: ISSUER, aud: AUD, iat: NOW, exp: 9_999_999_999 })}.${signature}`;
    expect((await refusal(verify(forged))).reason).toBe('signature');
  });
});

// The signature check uses the key it is given with node:crypto, so it checks the key's kind
// itself (RFC 8725 §3.1), not only the key cache's selection: a key of another family, curve or
// size is refused as `algorithm`, whatever the signature. The keys port here hands out a fixed
// key, standing for a cache that selected the wrong one.
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });

const keysGiving = (key: KeyObject) => ({ getKey: async () => key }) as unknown as UpstreamKeys;
const tokenSignedWith = (alg: string, key: KeyObject) =>
  signJws(alg, key, { alg, kid: 'k1' }, { iss: ISSUER, aud: 'fedbroker', sub: 'x', iat: NOW, exp: NOW + 300 });
const verifyWithKey = (t: string, key: KeyObject) =>
  verifyExternalToken(t, { keys: keysGiving(key), clock, issuer: ISSUER, audiences: ['fedbroker'] });

describe('verifyExternalToken: the key must fit the algorithm', () => {
  it.each([
    ['ES256 with a P-384 key', 'ES256', p384.privateKey, p384.publicKey],
    ['ES384 with a P-256 key', 'ES384', p256.privateKey, p256.publicKey],
    ['RS256 with a 1024-bit RSA key', 'RS256', rsa1024.privateKey, rsa1024.publicKey],
    ['ES256 signed by P-256, verified with an RSA key', 'ES256', p256.privateKey, rsa.publicKey],
    ['RS256 signed by RSA, verified with an EC key', 'RS256', rsa.privateKey, p256.publicKey],
  ])('%s → algorithm', async (_name, alg, signWith, verifyWith) => {
    const e = await verifyWithKey(tokenSignedWith(alg, signWith), verifyWith).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SubjectTokenInvalid);
    expect((e as SubjectTokenInvalid).reason).toBe('algorithm');
  });

  it.each([
    ['RS256', rsa],
    ['PS256', rsa],
    ['ES256', p256],
    ['ES384', p384],
  ])('%s with a fitting key verifies', async (alg, pair) => {
    await expect(verifyWithKey(tokenSignedWith(alg, pair.privateKey), pair.publicKey)).resolves.toMatchObject({ claims: { sub: 'x' } });
  });
});
