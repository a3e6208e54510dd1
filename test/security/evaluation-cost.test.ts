// Threat model I3 (per-request CPU is bounded for any input within the documented caps), the parts
// of finding 3 that live above the condition language (whose matcher, caps and budget are tested in
// test/unit/trust/): the per-tenant relationship cap, and :explain evaluating no condition over
// claims that did not verify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluationWork } from '../../lib/trust/limits.ts';
import { MAX_RELATIONSHIPS } from '../../lib/tenants/tenant.ts';
import { ciRelationship, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';
import { startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';

let env: ExchangeEnv;
let trusted: ScriptedIssuer;
let admin: string;
const EXPLAIN = '/v1/tenants/acme/trust-relationships:explain';

beforeAll(async () => {
  env = await startExchangeEnv();
  trusted = await startScriptedIssuer();
  await env.admin.tenant('acme', [
    ciRelationship(trusted.issuer, { conditions: { StringLike: { sub: ['repo:acme/*', 'repo:acme/*?*?*?*x'] } } }),
  ]);
  const res = await env.exchange({
    subject_token: await trusted.token({ sub: 'repo:acme/app' }),
    subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
    tenant: 'acme',
  });
  admin = res.body.access_token;
});
afterAll(async () => {
  await trusted?.close();
  await env?.close();
});

describe(':explain', () => {
  it.each([
    [
      'an unsigned token naming the trusted issuer',
      'signature',
      () =>
        trusted
          .signRaw({ alg: 'RS256', kid: trusted.kid }, trusted.claims({ sub: `repo:acme/${'?'.repeat(900)}` }))
          .replace(/\.[^.]+$/, '.AAAA'),
    ],
    [
      'a token of an issuer no relationship trusts',
      'untrusted_issuer',
      () => trusted.signRaw({ alg: 'RS256' }, { ...trusted.claims({ sub: 'repo:acme/x' }), iss: 'https://elsewhere.example' }),
    ],
    ['garbage', 'malformed', () => 'a.b'],
  ])('evaluates no condition over %s, answering at the token level (%s)', async (_name, reason, make) => {
    const before = evaluationWork.steps;
    const res = await env.api('POST', EXPLAIN, admin, { token: make() });
    expect(res.status, res.text).toBe(200);
    expect(evaluationWork.steps).toBe(before);
    expect(res.body).toMatchObject({ verified: false, reason });
    for (const r of res.body.relationships as { matched: boolean; checks: { check: string }[] }[]) {
      expect(r.matched).toBe(false);
      expect(r.checks.map((c) => c.check)).toEqual(['enabled', 'issuer']);
    }
  });

  it('evaluates the conditions of a verified token, every check explained', async () => {
    const before = evaluationWork.steps;
    const res = await env.api('POST', EXPLAIN, admin, { token: await trusted.token({ sub: 'repo:acme/app' }) });
    expect(res.body.verified).toBe(true);
    expect(evaluationWork.steps).toBeGreaterThan(before);
    expect((res.body.relationships as { checks: { check: string }[] }[])[0]?.checks.map((c) => c.check)).toContain('condition');
  });
});

describe('relationships per tenant', () => {
  it(`stop at ${MAX_RELATIONSHIPS}: one more is refused with 409 limit_exceeded, naming the cap`, async () => {
    await env.admin.tenant('crowded');
    for (let i = 0; i < MAX_RELATIONSHIPS; i++) await env.admin.relationship('crowded', ciRelationship(trusted.issuer, { id: `r${i}` }));
    const tokenRes = await env.exchange({
      subject_token: await trusted.token({ sub: 'repo:acme/app' }),
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      tenant: 'crowded',
    });
    expect(tokenRes.status).toBe(200);
    const res = await env.api(
      'POST',
      '/v1/tenants/crowded/trust-relationships',
      tokenRes.body.access_token,
      ciRelationship(trusted.issuer, { id: 'one-more' }),
    );
    expect(res.status, res.text).toBe(409);
    expect(res.body).toMatchObject({ error: 'limit_exceeded' });
    expect(res.body.error_description).toContain(`${MAX_RELATIONSHIPS}`);
  });
});
