// Red team, round 3: the exchange picks the FIRST candidate whose checks hold
// (lib/app/external.ts `candidates.find(...)`), then renders its subject template, session tags
// and source identity from the token's claims. Any of those failing (a claim the template names is
// missing) refuses the exchange (reason `subject` / `session_tags` / `source_identity`); it does
// NOT fall through to the next candidate. `:explain` stops at the conditions: it shows that
// relationship as matched, so "the first relationship shown as matched is the one the exchange
// grants through, and none when it refuses" (threat model I3) did not hold. Fixed: the explanation
// renders its pick as the exchange does (lib/app/explain-verdict.ts); these tests hold it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainRefusal } from '../../action/explain.ts';
import { adminAccessToken, ciRelationship, external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';

let env: ExchangeEnv;
let up: UpstreamIssuer;
let admin: UpstreamIssuer;
let adminToken: string;
const TENANT = 'acme';

const put = async (body: Record<string, unknown>) => expect(await env.admin.stored(TENANT, body)).toBe(true);

beforeAll(async () => {
  env = await startExchangeEnv();
  up = await startUpstreamIssuer();
  admin = await startUpstreamIssuer();
  await env.admin.tenant(TENANT, []);
  adminToken = await adminAccessToken(env, TENANT, admin);
  // Both admit sub=deployer; the first (by id) renders its subject from a claim the token lacks.
  await put(
    ciRelationship(up.issuer, { id: 'a-tmpl', conditions: { StringEquals: { sub: 'deployer' } }, subject_template: '{claims.repository}' }),
  );
  await put(ciRelationship(up.issuer, { id: 'b-plain', conditions: { StringEquals: { sub: 'deployer' } } }));
}, 120_000);
afterAll(async () => {
  await up?.close();
  await admin?.close();
  await env?.close();
});

describe(':explain vs the exchange when the first matching relationship cannot render its subject', () => {
  it('the exchange refuses the token (no fall-through to b-plain)', async () => {
    const res = await env.exchange(external(await up.token({ sub: 'deployer' })));
    expect(res.status, res.text).toBe(400);
  });

  it(':explain shows none as matched', async () => {
    const res = await env.api('POST', `/v1/tenants/${TENANT}/trust-relationships:explain`, adminToken, {
      token: await up.token({ sub: 'deployer' }),
    });
    expect(res.status, res.text).toBe(200);
    const matched = (res.body.relationships as { id: string; matched: boolean }[]).filter((r) => r.matched).map((r) => r.id);
    // The exchange refused: per I3 no relationship may show as matched.
    expect(matched).toEqual([]);
  });

  it('the GitHub Action explains the refusal by the check that failed, not by a matched relationship', async () => {
    const out = await explainRefusal(env.gateway.url, TENANT, await up.token({ sub: 'deployer' }), adminToken);
    expect(out.lines).not.toContain('relationship a-tmpl: matched');
    expect(out.summary).not.toBe('no relationship of the tenant trusts this token’s issuer and audience');
  });
});
