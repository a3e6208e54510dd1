import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { ServiceUnavailable } from '../../../lib/errors.ts';
import type { Fetch } from '../../../lib/net/fetch.ts';
import { UpstreamKeys } from '../../../lib/upstream/key-cache.ts';
import { rejection } from '../../support/rejection.ts';

// One deadline covers a whole refresh (discovery + JWKS): time that discovery used up is not
// given again to the JWKS. Time is a frozen clock that the discovery answer moves forward.
const ISSUER = 'http://localhost:9';
const TIMEOUT_MS = 2000;
const { publicKey } = await generateKeyPair('RS256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };

function setup(discoveryTakesMs: number) {
  const clock = { ms: 1_800_000_000_000, now: () => clock.ms };
  const requested: string[] = [];
  const json = (body: unknown) => new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  const fetch: Fetch = async (url) => {
    requested.push(new URL(url).pathname);
    if (url.endsWith('/.well-known/openid-configuration')) {
      clock.ms += discoveryTakesMs;
      return json({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` });
    }
    return json({ keys: [jwk] });
  };
  return { keys: new UpstreamKeys({ fetch, clock, timeoutMs: TIMEOUT_MS, local: true }), requested };
}

describe('an issuer key refresh', () => {
  it('does not ask for the JWKS when discovery used up the whole deadline (503, no token verified)', async () => {
    const { keys, requested } = setup(TIMEOUT_MS);
    const error = await rejection(keys.getKey(ISSUER, { kid: 'k1', alg: 'RS256' }), ServiceUnavailable);
    expect(error.status).toBe(503);
    expect(requested).toEqual(['/.well-known/openid-configuration']);
  });

  it('gives the JWKS what discovery left of the deadline', async () => {
    const { keys, requested } = setup(TIMEOUT_MS - 1);
    await expect(keys.getKey(ISSUER, { kid: 'k1', alg: 'RS256' })).resolves.toBeDefined();
    expect(requested).toEqual(['/.well-known/openid-configuration', '/jwks']);
  });
});
