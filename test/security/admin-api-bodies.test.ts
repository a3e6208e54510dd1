// Hostile request bodies on the admin API and hostile policies on the exchange path, end to end:
// oversized and deeply nested JSON, prototype pollution, and a backtracking-prone StringLike
// pattern evaluated against a long attacker-chosen claim.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSafeRefusal } from '../support/refusal.ts';
import { startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';
import { lookupSteps } from '../../lib/trust/claims.ts';
import { evaluationWork, MAX_CLAIM_LENGTH } from '../../lib/trust/limits.ts';

const BASE = '/v1/tenants/acme/trust-relationships';
let env: ExchangeEnv;
let upstream: ScriptedIssuer;
let adminToken: string;

beforeAll(async () => {
  env = await startExchangeEnv();
  upstream = await startScriptedIssuer();
  await env.admin.tenant('acme', [ciRelationship(upstream.issuer)]);
  const res = await env.exchange(external(await upstream.token({ sub: 'repo:acme/app' })));
  expect(res.status, res.text).toBe(200);
  adminToken = res.body.access_token as string;
});
afterAll(async () => {
  await upstream.close();
  await env.close();
});

const doc = (extra: Record<string, unknown> = {}) => ({
  kind: 'oidc',
  issuer: upstream.issuer,
  audiences: ['fedbroker'],
  conditions: { StringLike: { sub: 'repo:acme/*' } },
  scopes: ['id-token:issue'],
  ...extra,
});
/** The document as JSON with `member` set to exactly this JSON text. */
const withRaw = (member: string, json: string) => JSON.stringify(doc({ [member]: 'RAW' })).replace('"RAW"', json);
const ids = async () => ((await env.api('GET', BASE, adminToken)).body.items as { id: string }[]).map((r) => r.id).sort();

describe('the admin API refuses with 400 and stores nothing', () => {
  const bodies: [string, () => string][] = [
    ['a 1 MB body', () => JSON.stringify(doc({ description: 'x'.repeat(1024 * 1024) }))],
    ['conditions nested 10,000 deep', () => withRaw('conditions', `{"StringLike":{"sub":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`)],
    ['a description nested 10,000 deep', () => withRaw('description', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`)],
    ['a __proto__ member', () => JSON.stringify(doc()).replace('{', '{"__proto__":{"polluted":true,"scopes":["trust:admin"]},')],
    ['a constructor member', () => JSON.stringify(doc()).replace('{', '{"constructor":{"prototype":{"polluted":true}},')],
    [
      'a __proto__ condition operator (it would vanish and leave the relationship unconditional)',
      () => withRaw('conditions', '{"__proto__":{"sub":"x"}}'),
    ],
    ['a toString condition operator', () => JSON.stringify(doc({ conditions: { toString: { sub: 'x' } } }))],
    [
      '1,000 values for one condition key',
      () => JSON.stringify(doc({ conditions: { StringEquals: { sub: Array.from({ length: 1000 }, (_, i) => `repo:acme/${i}`) } } })),
    ],
    // JSON.parse keeps the last of repeated names, a reviewer's tool may show the first: refused.
    [
      'a duplicate JSON member smuggling a second scope list',
      () => JSON.stringify(doc()).replace('"scopes":["id-token:issue"]', '"scopes":["id-token:issue"],"scopes":["trust:admin"]'),
    ],
    [
      'a duplicate condition operator widening the first',
      () => withRaw('conditions', '{"StringEquals":{"sub":"repo:acme/app"},"StringEquals":{"aud":"fedbroker"}}'),
    ],
  ];

  it.each(bodies)('%s', async (_, body) => {
    const before = await ids();
    const res = await env.api('POST', BASE, adminToken, body());
    expectSafeRefusal(res, { presented: [adminToken] });
    expect(await ids()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('a StringLike pattern prone to backtracking', () => {
  // As one RegExp (`^.*a.*a…c$`) this pair needs ~1,000^20 steps. The work is counted, not timed
  // (timings belong in `npm run bench`): lib/trust/wildcard.ts reads each code point of the claim
  // once, charging ⌈(non-star tokens + 1) / 32⌉ steps per code point to evaluationWork.
  const pattern = `${'*a'.repeat(20)}*c`;
  const words = Math.ceil((pattern.replaceAll('*', '').length + 1) / 32);
  beforeAll(async () => {
    await env.admin.tenant('redos', [ciRelationship(upstream.issuer, { conditions: { StringLike: { sub: pattern } } })]);
  });

  it('is evaluated against a long attacker-chosen claim in one pass', async () => {
    const sub = 'a'.repeat(MAX_CLAIM_LENGTH);
    const token = await upstream.token({ sub });
    const before = evaluationWork.steps;
    const res = await env.exchange(external(token, 'redos'));
    const steps = evaluationWork.steps - before;
    expectSafeRefusal(res, { presented: [token] });
    // Non-zero: the condition was evaluated against the claim (the refusal is not an earlier one).
    expect(steps).toBeGreaterThan(0);
    // Plus the lookup of the claim key `sub` (lib/trust/claims.ts).
    expect(steps).toBeLessThanOrEqual(sub.length * words + lookupSteps('sub'));
  });

  it('is not evaluated at all against a claim over the length cap', async () => {
    const token = await upstream.token({ sub: 'a'.repeat(MAX_CLAIM_LENGTH + 1) });
    const before = evaluationWork.steps;
    expectSafeRefusal(await env.exchange(external(token, 'redos')), { presented: [token] });
    // Only the lookup of the key: the matcher never reads the oversized claim.
    expect(evaluationWork.steps - before).toBe(lookupSteps('sub'));
  });
});
