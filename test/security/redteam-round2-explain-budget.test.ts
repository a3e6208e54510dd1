// Red team, round 2 (6b26e51): `:explain` lists the 100 evaluated relationships AND up to 100
// unevaluated ones (disabled, no generation, past the cap) and of other issuers/kinds, and runs
// every listed relationship's conditions in 'all' mode against ONE shared per-request step budget.
// The exchange spends its budget only on enabled, evaluated, same-issuer candidates
// ('first-failure'). So relationships the exchange never evaluates (here: disabled ones, and an
// enabled one of another issuer) that sort before the granting one by id exhaust `:explain`'s
// budget: it answered `matched: false` for the relationship through which the exchange grants.
// Fixed: `matched` is now the exchange's own verdict over its candidates, and no other relationship's
// conditions are evaluated (lib/app/explain.ts, threat model I3); these tests hold it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciRelationship, external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';

let env: ExchangeEnv;
let up: UpstreamIssuer;
const TENANT = 'acme';
const LONG = 'a'.repeat(1000);
const claims = { sub: 'deployer', l1: LONG, l2: LONG, l3: LONG, l4: LONG };
// 1 pair × 50 StringLike values × ~500 code points: ~770k steps over a 1000-char claim per
// relationship (~26 KB of JSON, within every write-time cap); 7 of them exceed the 4M budget.
// Never matches (the claim holds no 'b').
const values = Array.from({ length: 50 }, (_, i) => `*${'a?'.repeat(245)}${String(i).padStart(2, '0')}b`);
const heavy = { StringLike: { l1: values } };

let admin: string;
async function create(body: Record<string, unknown>) {
  const res = await env.api('POST', `/v1/tenants/${TENANT}/trust-relationships`, admin, body);
  expect(res.status, res.text).toBe(201);
}

beforeAll(async () => {
  env = await startExchangeEnv();
  up = await startUpstreamIssuer();
  await env.admin.tenant(TENANT, [ciRelationship(up.issuer, { id: 'root', conditions: { StringEquals: { sub: 'root' } } })]);
  const root = await env.exchange(external(await up.token({ sub: 'root' })));
  expect(root.status, root.text).toBe(200);
  admin = root.body.access_token as string;
  // Disabled relationships of the same issuer, sorting before the granting one: never evaluated by
  // the exchange. (An enabled one of another issuer, or an x509 one, does the same: :explain runs
  // t.evaluate for every listed relationship, whatever its issuer check says.)
  for (let i = 0; i < 7; i++) {
    await create({ ...ciRelationship(up.issuer, { id: `a-disabled-${i}`, conditions: heavy }), enabled: false });
  }
  await create(ciRelationship(up.issuer, { id: 'zz-deploy', conditions: { StringEquals: { sub: 'deployer' } } }));
}, 120_000);
afterAll(async () => {
  await up?.close();
  await env?.close();
});

describe(':explain vs the exchange when unevaluated relationships are expensive', () => {
  it('the exchange grants through zz-deploy', async () => {
    const res = await env.exchange(external(await up.token(claims)));
    expect(res.status, res.text).toBe(200);
  });

  it(':explain shows zz-deploy as matched, although disabled ones sort first with expensive conditions', async () => {
    const res = await env.api('POST', `/v1/tenants/${TENANT}/trust-relationships:explain`, admin, { token: await up.token(claims) });
    expect(res.status, res.text).toBe(200);
    const rels = res.body.relationships as { id: string; matched: boolean; checks: unknown[] }[];
    const zz = rels.find((r) => r.id === 'zz-deploy');
    expect(zz?.matched, JSON.stringify(zz?.checks)).toBe(true);
  });
});

import { evaluatedRelationships, explainedRelationships } from '../../lib/tenants/evaluated-relationships.ts';
describe('the listing stays bounded (holds)', () => {
  it('1000 stored (mixed standing) → every evaluated one plus at most 100 others', () => {
    const stored = Array.from({ length: 1000 }, (_, i) => ({
      id: `r${String((i * 7919) % 1000).padStart(4, '0')}`,
      enabled: i % 3 !== 0,
      generation: i % 5 === 0 ? '' : 'g',
    }));
    const listed = explainedRelationships(stored);
    const evaluated = evaluatedRelationships(stored);
    expect(evaluated).toHaveLength(100);
    expect(listed.length).toBe(200);
    expect(listed.filter((e) => !e.unevaluated).map((e) => e.relationship)).toEqual(evaluated);
  });
});
