// Token confusion, end to end: fedbroker's own ID and access tokens presented where the other
// kind (or an external token) is expected, and one tenant's tokens used against another tenant on
// the token endpoint and the admin API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSafeRefusal } from '../support/refusal.ts';
import { startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, TOKEN_TYPE, type ExchangeEnv } from '../support/security-env.ts';

let env: ExchangeEnv;
let upstream: ScriptedIssuer;
const tokens: Record<'acmeAccess' | 'acmeId' | 'globexAccess' | 'upstream' | 'initechAccess', string> = {
  acmeAccess: '',
  acmeId: '',
  globexAccess: '',
  upstream: '',
  initechAccess: '',
};

async function accessToken(tenant: string, sub: string): Promise<string> {
  const res = await env.exchange(external(await upstream.token({ sub }), tenant));
  expect(res.status, res.text).toBe(200);
  return res.body.access_token as string;
}

beforeAll(async () => {
  env = await startExchangeEnv();
  upstream = await startScriptedIssuer();
  await env.admin.tenant('acme', [ciRelationship(upstream.issuer)]);
  await env.admin.tenant('globex', [ciRelationship(upstream.issuer, { conditions: { StringLike: { sub: 'repo:globex/*' } } })]);
  await env.admin.tenant('initech', [ciRelationship(upstream.issuer, { conditions: { StringLike: { sub: 'repo:initech/*' } } })]);
  tokens.acmeAccess = await accessToken('acme', 'repo:acme/app');
  tokens.globexAccess = await accessToken('globex', 'repo:globex/app');
  tokens.initechAccess = await accessToken('initech', 'repo:initech/app');
  tokens.upstream = await upstream.token({ sub: 'repo:acme/app' });
  const id = await env.exchange({
    subject_token: tokens.acmeAccess,
    subject_token_type: TOKEN_TYPE.accessToken,
    requested_token_type: TOKEN_TYPE.idToken,
    audience: 'sts.amazonaws.com',
  });
  expect(id.status, id.text).toBe(200);
  tokens.acmeId = id.body.access_token as string;
  await env.admin.disable('initech');
  // A new container: warm ones keep a tenant's view for FEDBROKER_TENANT_CACHE_SECONDS (documented).
  env.broker.coldStart();
});
afterAll(async () => {
  await upstream.close();
  await env.close();
});

const idTokenFor = (subject: string, type: string, extra: Record<string, string> = {}) => ({
  subject_token: subject,
  subject_token_type: type,
  requested_token_type: TOKEN_TYPE.idToken,
  audience: 'sts.amazonaws.com',
  ...extra,
});

describe('on the token endpoint', () => {
  const cases: [string, () => Record<string, string>][] = [
    ['refuses a fedbroker ID token presented as an access token', () => idTokenFor(tokens.acmeId, TOKEN_TYPE.accessToken)],
    ['refuses a fedbroker ID token presented as an external ID token', () => external(tokens.acmeId)],
    [
      'refuses a fedbroker ID token presented as an external JWT',
      () => ({ ...external(tokens.acmeId), subject_token_type: TOKEN_TYPE.jwt }),
    ],
    ['refuses a fedbroker access token presented as an external ID token', () => external(tokens.acmeAccess)],
    [
      'refuses a fedbroker access token presented as an external JWT for an ID token',
      () => idTokenFor(tokens.acmeAccess, TOKEN_TYPE.jwt, { tenant: 'acme' }),
    ],
    ['refuses an external token presented as a fedbroker access token', () => idTokenFor(tokens.upstream, TOKEN_TYPE.accessToken)],
    [
      "refuses tenant A's access token exchanged on tenant B",
      () => idTokenFor(tokens.acmeAccess, TOKEN_TYPE.accessToken, { tenant: 'globex' }),
    ],
    [
      "refuses tenant B's access token exchanged on tenant A",
      () => idTokenFor(tokens.globexAccess, TOKEN_TYPE.accessToken, { tenant: 'acme' }),
    ],
    ["refuses tenant A's access token as an external token on tenant B", () => external(tokens.acmeAccess, 'globex')],
    ['refuses an access token renewing itself', () => ({ subject_token: tokens.acmeAccess, subject_token_type: TOKEN_TYPE.accessToken })],
    ['refuses an access token of a tenant disabled after it was issued', () => idTokenFor(tokens.initechAccess, TOKEN_TYPE.accessToken)],
  ];
  it.each(cases)('%s', async (_name, params) => {
    const p = params();
    expectSafeRefusal(await env.exchange(p), { presented: [p.subject_token!] });
  });
});

describe('on the admin API', () => {
  const acme = '/v1/tenants/acme/trust-relationships';
  const globex = '/v1/tenants/globex/trust-relationships';
  const doc = () => ciRelationship(upstream.issuer, { id: 'intruder' });

  it.each([
    ['GET', globex, undefined, {}],
    ['POST', globex, 'DOC', {}],
    ['GET', `${globex}/ci`, undefined, {}],
    ['PUT', `${globex}/ci`, 'DOC', { 'If-Match': '"1"' }],
    ['DELETE', `${globex}/ci`, undefined, { 'If-Match': '"1"' }],
    ['POST', `${globex}:explain`, 'TOKEN', {}],
  ] as const)("answers 403 to tenant A's admin token on tenant B (%s %s)", async (method, path, body, headers) => {
    const payload = body === 'DOC' ? { ...doc(), id: undefined } : body === 'TOKEN' ? { token: tokens.upstream } : undefined;
    const res = await env.api(method, path, tokens.acmeAccess, payload, headers);
    expectSafeRefusal(res, { status: 403, error: 'insufficient_scope', presented: [tokens.acmeAccess, tokens.upstream] });
  });

  it("left tenant B untouched after tenant A's attempts", async () => {
    const res = await env.api('GET', `${globex}/ci`, tokens.globexAccess);
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(1);
    expect((await env.api('GET', globex, tokens.globexAccess)).body.items).toHaveLength(1);
  });

  it.each([
    ['a fedbroker ID token', () => tokens.acmeId],
    ['an external token of a trusted issuer', () => tokens.upstream],
  ])('answers 401 to %s used as a bearer token', async (_name, token) => {
    const res = await env.api('GET', acme, token());
    expectSafeRefusal(res, { status: 401, error: 'invalid_token', presented: [token()] });
  });

  it("answers 401 to a disabled tenant's token on its own API", async () => {
    const res = await env.api('GET', '/v1/tenants/initech/trust-relationships', tokens.initechAccess);
    expectSafeRefusal(res, { status: 401, error: 'invalid_token', presented: [tokens.initechAccess] });
  });
});
