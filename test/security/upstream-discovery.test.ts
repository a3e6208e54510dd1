// SSRF through a trusted issuer's own documents, end to end through POST /v1/token: a discovery
// document whose jwks_uri names another host, or a redirect to one. UpstreamKeys documents these
// as "the issuer's keys cannot be fetched" (ServiceUnavailable), so the exchange answers 503
// temporarily_unavailable with Retry-After — and the other host is never contacted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUnavailable } from '../support/refusal.ts';
import { DISCOVERY_PATH, JWKS_PATH, startScriptedIssuer, type Behaviour, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';

let env: ExchangeEnv;
let attacker: ScriptedIssuer;
const issuers: ScriptedIssuer[] = [];
let tenants = 0;

beforeAll(async () => {
  env = await startExchangeEnv({ env: { FEDBROKER_UPSTREAM_TIMEOUT_MS: '500' } });
  attacker = await startScriptedIssuer();
});
afterAll(async () => {
  await Promise.all([attacker.close(), ...issuers.map((i) => i.close())]);
  await env.close();
});

const attackerHits = () => Object.values(attacker.hits).reduce((a, b) => a + b, 0);

/** A new trusted issuer (fresh key-cache state) and a new tenant trusting it. */
async function trustedIssuer(): Promise<{ upstream: ScriptedIssuer; tenant: string }> {
  const upstream = await startScriptedIssuer();
  issuers.push(upstream);
  const tenant = `victim-${++tenants}`;
  await env.admin.tenant(tenant, [ciRelationship(upstream.issuer)]);
  return { upstream, tenant };
}

const cases: [string, string, (upstream: ScriptedIssuer) => Behaviour][] = [
  [
    'a discovery document whose jwks_uri is on another host',
    DISCOVERY_PATH,
    (u) => ({ kind: 'json', body: { issuer: u.issuer, jwks_uri: `${attacker.issuer}${JWKS_PATH}` } }),
  ],
  [
    'a discovery document whose jwks_uri is the cloud metadata service',
    DISCOVERY_PATH,
    (u) => ({ kind: 'json', body: { issuer: u.issuer, jwks_uri: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' } }),
  ],
  [
    'a discovery document whose jwks_uri carries userinfo for another host',
    DISCOVERY_PATH,
    (u) => ({ kind: 'json', body: { issuer: u.issuer, jwks_uri: `http://${u.host}@${attacker.host}${JWKS_PATH}` } }),
  ],
  [
    'a discovery document whose jwks_uri is a file URL',
    DISCOVERY_PATH,
    (u) => ({ kind: 'json', body: { issuer: u.issuer, jwks_uri: 'file:///etc/passwd' } }),
  ],
  [
    'a discovery document whose jwks_uri is not a string',
    DISCOVERY_PATH,
    (u) => ({ kind: 'json', body: { issuer: u.issuer, jwks_uri: [`${u.issuer}${JWKS_PATH}`] } }),
  ],
  [
    'a discovery document naming another issuer and its keys',
    DISCOVERY_PATH,
    () => ({ kind: 'json', body: { issuer: attacker.issuer, jwks_uri: `${attacker.issuer}${JWKS_PATH}` } }),
  ],
  [
    'a 302 redirect of discovery to another host',
    DISCOVERY_PATH,
    () => ({ kind: 'redirect', location: `${attacker.issuer}${DISCOVERY_PATH}` }),
  ],
  [
    'a 307 redirect of discovery to the cloud metadata service',
    DISCOVERY_PATH,
    () => ({ kind: 'redirect', status: 307, location: 'http://169.254.169.254/latest/meta-data/' }),
  ],
  [
    'a 301 redirect of discovery to the same host',
    DISCOVERY_PATH,
    (u) => ({ kind: 'redirect', status: 301, location: `${u.issuer}/elsewhere` }),
  ],
  ['a 302 redirect of the JWKS to another host', JWKS_PATH, () => ({ kind: 'redirect', location: `${attacker.issuer}${JWKS_PATH}` })],
  [
    'a 308 redirect of the JWKS to the cloud metadata service',
    JWKS_PATH,
    () => ({ kind: 'redirect', status: 308, location: 'http://169.254.169.254/latest/meta-data/' }),
  ],
];

describe('an exchange whose issuer serves', () => {
  it.each(cases)('%s is refused with 503 and the other host is never contacted', async (_name, path, behaviour) => {
    const { upstream, tenant } = await trustedIssuer();
    upstream.on(path, behaviour(upstream));
    const before = attackerHits();
    // Signed by the attacker's key, which is what the attacker's JWKS would have vouched for.
    const forged = attacker.signRaw({ alg: 'RS256', kid: attacker.kid }, attacker.claims({ iss: upstream.issuer, sub: 'repo:acme/app' }));
    const genuine = await upstream.token({ sub: 'repo:acme/app' });
    for (const token of [forged, genuine]) {
      const res = await env.exchange(external(token, tenant));
      expectUnavailable(res, { presented: [token], secrets: [upstream.host, attacker.host, '169.254', 'jwks', 'redirect', 'well-known'] });
    }
    expect(attackerHits()).toBe(before);
    expect(upstream.hits[DISCOVERY_PATH]).toBe(1);
  });
});

describe('the same issuer, once it serves proper documents again', () => {
  it('is not trusted for the keys the hostile document named', async () => {
    const { upstream, tenant } = await trustedIssuer();
    upstream.on(DISCOVERY_PATH, { kind: 'json', body: { issuer: upstream.issuer, jwks_uri: `${attacker.issuer}${JWKS_PATH}` } });
    const forged = attacker.signRaw({ alg: 'RS256', kid: attacker.kid }, attacker.claims({ iss: upstream.issuer, sub: 'repo:acme/app' }));
    expectUnavailable(await env.exchange(external(forged, tenant)), { presented: [forged] });
    upstream.heal();
    // Still inside the cooldown: nothing is fetched again and nothing the attacker served was kept.
    const res = await env.exchange(external(forged, tenant));
    expect(res.status).toBe(503);
    expect(res.body.access_token).toBeUndefined();
    expect(attacker.hits[JWKS_PATH]).toBeUndefined();
  });
});
