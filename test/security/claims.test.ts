// Claim attacks on genuinely signed subject tokens, end to end through POST /v1/token: the
// signature is valid (the trusted issuer signed it), so only the claim checks stand in the way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSafeRefusal } from '../support/refusal.ts';
import { DISCOVERY_PATH, JWKS_PATH, startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';

const MAX_AGE = 600;
// Below the 24 h default, so the cases below also prove the setting reaches the exchange.
const MAX_LIFETIME = 3600;
const SKEW = 60;
let env: ExchangeEnv;
let upstream: ScriptedIssuer;
let adminToken: string;

beforeAll(async () => {
  env = await startExchangeEnv({
    env: { FEDBROKER_UPSTREAM_MAX_TOKEN_AGE: String(MAX_AGE), FEDBROKER_UPSTREAM_MAX_TOKEN_LIFETIME: String(MAX_LIFETIME) },
  });
  upstream = await startScriptedIssuer();
  await env.admin.tenant('acme', [ciRelationship(upstream.issuer, { session_tags: { repo: { claim: 'repository', transitive: false } } })]);
  await env.admin.tenant('exact', [
    ciRelationship(upstream.issuer, { conditions: { StringEquals: { sub: 'repo:acme/app', ref: 'refs/heads/main' } } }),
  ]);
  await env.admin.tenant('folded', [ciRelationship(upstream.issuer, { conditions: { StringEqualsIgnoreCase: { sub: 'repo:acme/kit' } } })]);
  const warm = await env.exchange(external(await upstream.token(good)));
  expect(warm.status, warm.text).toBe(200);
  adminToken = warm.body.access_token as string;
});
afterAll(async () => {
  await upstream.close();
  await env.close();
});

const good = { sub: 'repo:acme/app', repository: 'acme/app', ref: 'refs/heads/main' };
const now = () => Math.floor(Date.now() / 1000);
const fetches = () => (upstream.hits[DISCOVERY_PATH] ?? 0) + (upstream.hits[JWKS_PATH] ?? 0);

async function refused(token: string, tenant = 'acme') {
  const res = await env.exchange(external(token, tenant));
  expectSafeRefusal(res, { presented: [token], secrets: [upstream.host] });
  return res;
}

describe('controls', () => {
  it.each([
    ['acme', { ...good }],
    ['exact', { ...good }],
    ['folded', { ...good, sub: 'REPO:ACME/KIT' }],
  ])('admits a proper token on tenant %s', async (tenant, claims) => {
    expect((await env.exchange(external(await upstream.token(claims), tenant))).status).toBe(200);
  });
});

describe('time claims', () => {
  const cases: [string, () => Record<string, unknown>][] = [
    ['refuses a token that expired beyond the clock skew', () => ({ iat: now() - 300, exp: now() - 120 })],
    ['refuses a token that expired an hour ago', () => ({ iat: now() - 3900, exp: now() - 3600 })],
    ['refuses a token with exp 0', () => ({ iat: undefined, exp: 0 })],
    ['refuses a token with a negative exp', () => ({ exp: -1 })],
    ['refuses a token whose nbf is in the future', () => ({ nbf: now() + 300, exp: now() + 600 })],
    ['refuses a token issued in the future', () => ({ iat: now() + 300, exp: now() + 600 })],
    ['refuses a token older than the maximum token age', () => ({ iat: now() - MAX_AGE - 120, exp: now() + 300 })],
    ['refuses a token without iat whose exp is absurdly far away', () => ({ iat: undefined, exp: 253_402_300_799 })],
    ['refuses a token without iat whose exp is 1e300', () => ({ iat: undefined, exp: 1e300 })],
    [
      'refuses a token with an absurd exp once its iat is older than the maximum age',
      () => ({ iat: now() - MAX_AGE - 120, exp: 9_999_999_999 }),
    ],
    ['refuses a token without exp', () => ({ exp: undefined })],
    ['refuses a token with exp null', () => ({ exp: null })],
    ['refuses a token with exp true', () => ({ exp: true })],
    ['refuses a token with a fractional-string exp', () => ({ exp: `${now() + 300}.5` })],
    ['refuses a token with a non-numeric iat', () => ({ iat: 'yesterday' })],
    ['refuses a token with an object nbf', () => ({ nbf: { $gt: 0 } })],
  ];
  it.each(cases)('%s', async (_name, claims) => {
    await refused(await upstream.token({ ...good, ...claims() }));
  });
});

// RFC 7519 §4.1.4 bounds exp only from below; the broker caps it from above, whatever the iat.
// Margins of 30 s keep these cases independent of how long a request takes on the real clock.
describe('exp far in the future', () => {
  it.each([
    ['refuses a fresh token with exp 9999999999', () => ({ iat: now(), exp: 9_999_999_999 })],
    [
      'refuses a fresh token whose exp is just beyond the lifetime cap and the skew',
      () => ({ iat: now(), exp: now() + MAX_LIFETIME + SKEW + 30 }),
    ],
    ['refuses a fresh token whose exp is a year away', () => ({ iat: now(), exp: now() + 365 * 86_400 })],
  ])('%s', async (_name, claims) => {
    await refused(await upstream.token({ ...good, ...claims() }));
  });

  it.each([
    ['admits a token whose exp is exactly the lifetime cap away', () => ({ iat: now(), exp: now() + MAX_LIFETIME })],
    ['admits a token whose exp is just under the cap plus the skew', () => ({ iat: now(), exp: now() + MAX_LIFETIME + SKEW - 30 })],
  ])('%s', async (_name, claims) => {
    const res = await env.exchange(external(await upstream.token({ ...good, ...claims() })));
    expect(res.status, res.text).toBe(200);
  });

  it("names expires_too_late as the reason to the tenant's admin, under the same setting", async () => {
    // Beyond the configured cap yet inside the 24 h default: only the setting refuses this one.
    const token = await upstream.token({ ...good, iat: now(), exp: now() + MAX_LIFETIME + SKEW + 30 });
    const res = await env.api('POST', '/v1/tenants/acme/trust-relationships:explain', adminToken, { token });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ verified: false, reason: 'expires_too_late' });
    expect(res.text).not.toContain(token);
  });
});

describe('audience', () => {
  const cases: [string, unknown][] = [
    ['refuses a token without aud', undefined],
    ['refuses a token for another audience', 'someone-else'],
    ['refuses an aud array holding only other audiences', ['api://a', 'api://b']],
    ['refuses an empty aud array', []],
    ['refuses an aud that differs only in case', 'Fedbroker'],
    ['refuses an aud with trailing whitespace', 'fedbroker '],
    ['refuses the accepted audience nested one array deeper', [['fedbroker']]],
    ['refuses the accepted audience as an object key', { fedbroker: true }],
    ["refuses fedbroker's own issuer as the audience", 'https://issuer.fedbroker.test'],
  ];
  it.each(cases)('%s', async (_name, aud) => {
    await refused(await upstream.token({ ...good, aud } as Record<string, unknown>));
  });
});

describe('issuer', () => {
  const cases: [string, () => unknown][] = [
    ['refuses an iss with a trailing slash', () => `${upstream.issuer}/`],
    ['refuses an iss in upper case', () => upstream.issuer.toUpperCase()],
    ['refuses an iss with https instead of http', () => upstream.issuer.replace(/^http:/, 'https:')],
    ['refuses an iss with an extra path', () => `${upstream.issuer}/tenant`],
    ['refuses an iss with surrounding whitespace', () => ` ${upstream.issuer}`],
    ['refuses an iss on another port of the same host', () => upstream.issuer.replace(/:(\d+)$/, (_m, p: string) => `:${Number(p) + 1}`)],
    ['refuses an iss wrapped in an array', () => [upstream.issuer]],
    ['refuses a token without iss', () => undefined],
    ["refuses fedbroker's own issuer", () => 'https://issuer.fedbroker.test'],
  ];
  it.each(cases)('%s, without contacting any issuer', async (_name, iss) => {
    const before = fetches();
    await refused(await upstream.token({ ...good, iss: iss() } as Record<string, unknown>));
    expect(fetches()).toBe(before);
  });
});

describe('subject', () => {
  const controls: [string, string][] = [
    ['a NUL byte', 'repo:acme/app\u0000'],
    ['a NUL byte before a suffix', 'repo:acme/app\u0000/../admin'],
    ['a newline', 'repo:acme/app\nrepo:acme/admin'],
    ['a carriage return', 'repo:acme/app\r'],
    ['a tab', 'repo:acme/\tapp'],
    ['an escape sequence', 'repo:acme/app\u001b[31m'],
    ['DEL', 'repo:acme/app\u007f'],
    ['a C1 control (NEL)', 'repo:acme/app\u0085'],
    ['a line separator', 'repo:acme/app\u2028'],
    ['a right-to-left override', 'repo:acme/ppa\u202e'],
    ['a first-strong isolate', 'repo:acme/app\u2068'],
  ];
  it.each(controls)('refuses a sub with %s', async (_name, sub) => {
    await refused(await upstream.token({ ...good, sub }));
  });

  const confusables: [string, string][] = [
    ['a Cyrillic а (U+0430) for a', 'repo:\u0430cme/app'],
    ['a Cyrillic е (U+0435) for e', 'repo:acm\u0435/app'],
    ['a Greek ο (U+03BF) for o', 'rep\u03bf:acme/app'],
    ['fullwidth letters', 'repo:\uff41\uff43\uff4d\uff45/app'],
    ['a fullwidth solidus', 'repo:acme\uff0fapp'],
    ['a division slash', 'repo:acme\u2215app'],
    ['a zero-width space inside the owner', 'repo:ac\u200bme/app'],
    ['a soft hyphen inside the owner', 'repo:ac\u00adme/app'],
    ['a combining mark after the owner', 'repo:acme\u0301/app'],
    ['upper case', 'repo:ACME/app'],
    ['a leading space', ' repo:acme/app'],
    ['the owner as a prefix of a longer owner', 'repo:acmecorp/app'],
  ];
  it.each(confusables)('does not let a sub with %s match repo:acme/*', async (_name, sub) => {
    await refused(await upstream.token({ ...good, sub }));
  });

  it.each([
    ['the Kelvin sign K (U+212A)', 'repo:acme/\u212ait'],
    ['a dotless ı (U+0131)', 'repo:acme/k\u0131t'],
    ['a dotted İ (U+0130)', 'repo:acme/k\u0130t'],
  ])('does not let %s fold into ASCII under StringEqualsIgnoreCase', async (_name, sub) => {
    await refused(await upstream.token({ ...good, sub }), 'folded');
  });

  it.each([
    ['a NUL byte', 'refs/heads/main\u0000'],
    ['a trailing newline', 'refs/heads/main\n'],
    ['a Cyrillic а', 'refs/he\u0430ds/main'],
  ])('does not let a condition claim with %s match StringEquals', async (_name, ref) => {
    await refused(await upstream.token({ ...good, ref }), 'exact');
  });

  it.each([
    ['a NUL byte', 'acme/app\u0000'],
    ['a newline', 'acme/app\nx'],
    ['an object', { toString: 'acme/app' }],
  ])('refuses a session tag claim with %s', async (_name, repository) => {
    await refused(await upstream.token({ ...good, repository } as Record<string, unknown>));
  });

  it('refuses a sub longer than the rendered subject allows', async () => {
    await refused(await upstream.token({ ...good, sub: `repo:acme/${'a'.repeat(300)}` }));
  });
});
