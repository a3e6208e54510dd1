// Red team, round 2: a relationship may name fedbroker's OWN issuer (validation does not refuse it).
// The exchange never treats fedbroker's tokens as external identities (lib/app/external.ts:
// `iss !== deps.issuer`) and refuses them as untrusted_issuer, but `:explain` has no such rule: it
// verifies fedbroker's ID token against fedbroker's own JWKS and answers `matched: true` for a token
// the exchange refuses. Explanations must agree with the exchange; fixed: `:explain` excludes
// fedbroker's own issuer as the exchange does (lib/app/explain.ts), and this test holds it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRun } from '../support/local-run.ts';

let run: Awaited<ReturnType<typeof startLocalRun>>;
const XCH = 'urn:ietf:params:oauth:grant-type:token-exchange';
const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
async function token(params: Record<string, string>) {
  const res = await fetch(`${run.issuer}/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ grant_type: XCH, ...params }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}
let at: string;
let idToken: string;

beforeAll(async () => {
  run = await startLocalRun();
  const dev = (await (await fetch(`${run.devIssuer}/token`, { method: 'POST', body: 'sub=dev:alice' })).text()).trim();
  const ex = await token({ subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', tenant: 'dev', subject_token: dev });
  expect(ex.status, JSON.stringify(ex.body)).toBe(200);
  at = ex.body.access_token as string;
  const id = await token({
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    subject_token: at,
    requested_token_type: 'urn:ietf:params:oauth:token-type:id_token',
    audience: 'sts.amazonaws.com',
  });
  expect(id.status, JSON.stringify(id.body)).toBe(200);
  idToken = id.body.access_token as string;
  const created = await fetch(`${run.issuer}/v1/tenants/dev/trust-relationships`, {
    method: 'POST',
    headers: { authorization: `Bearer ${at}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      kind: 'oidc',
      id: 'self',
      issuer: run.issuer,
      audiences: ['sts.amazonaws.com'],
      conditions: { StringLike: { sub: 'dev/*' } },
      scopes: ['id-token:issue'],
    }),
  });
  expect(created.status, await created.text()).toBe(201);
}, 120_000);
afterAll(async () => run?.stop());

describe('a relationship naming fedbroker itself', () => {
  it('the exchange refuses fedbroker ID tokens (no laundering)', async () => {
    const res = await token({ subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', tenant: 'dev', subject_token: idToken });
    expect(res.status).toBe(400);
  });

  it(':explain agrees: it shows none as matched', async () => {
    const res = await fetch(`${run.issuer}/v1/tenants/dev/trust-relationships:explain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${at}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token: idToken }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { relationships: { id: string; matched: boolean }[] };
    expect(body.relationships.filter((r) => r.matched).map((r) => r.id)).toEqual([]);
  });
});
