// Member names in what a relationship admits (found by the red team of the code-unit order change):
// `canonical()` (lib/app/documents.ts) keeps the generation when only the key order changes and
// ends it when a key changes in ways localeCompare treated as equal (canonically equivalent,
// ignorable code points) or ordered differently (case, astral, lone surrogates, integer-like); and
// a member named "constructor" is stored like any other (lib/aws/dynamo-table.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relationships } from '../../lib/app/documents.ts';
import { systemClock } from '../../lib/clock.ts';
import { ciRelationship, external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';

let env: ExchangeEnv;
const deps = () => ({ store: env.admin.store, clock: systemClock, local: true, cognitoIssuer: 'https://cognito-identity.amazonaws.com' });
const ISS = 'https://issuer.example';
let n = 0;

beforeAll(async () => {
  env = await startExchangeEnv();
  await env.admin.tenant('acme', []);
}, 60_000);
afterAll(async () => env?.close());

const reversed = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).reverse());
const cond = (keys: string[]) => ({ StringEquals: Object.fromEntries(keys.map((k, i) => [k, `v${i}`])) });

async function replaceWith(first: Record<string, unknown>, second: Record<string, unknown>) {
  const id = `c${++n}`;
  const created = await relationships.create(deps(), 'acme', ciRelationship(ISS, { id, conditions: first as never }));
  const next = await relationships.replace(deps(), 'acme', id, ciRelationship(ISS, { id, conditions: second as never }), created.version);
  return { kept: next.generation === created.generation, stored: next.conditions };
}

const KEYS = ['é', 'e\u0301', 'a', 'a\u0000', 'A', 'sub', 'Sub', '\u{1D49C}', '\uFFFF', '\uD800', '\uDC00', '10', '9', '-', ':'];

describe('a replaced admission and its generation', () => {
  it('keeps the generation when only the key order changes', async () => {
    const c = cond(KEYS);
    const r = await replaceWith(c, { StringEquals: reversed(c.StringEquals) });
    expect(r.kept).toBe(true);
  });

  it.each([
    ['NFC → NFD', 'é', 'e\u0301'],
    ['an ignorable NUL appended', 'a', 'a\u0000'],
    ['case', 'sub', 'Sub'],
    ['astral vs BMP', '\u{1D49C}', '\uFFFF'],
    ['lone surrogates', '\uD800', '\uDC00'],
    ['integer-like keys (placed first by Object.fromEntries)', '10', '9'],
  ])('ends the generation when a key changes: %s', async (_, a, b) => {
    const r = await replaceWith(cond(['x', a]), cond(['x', b]));
    expect(r.kept).toBe(false);
  });

  it('a __proto__ member is refused at validation, before canonical() sees it', async () => {
    await expect(replaceWith(cond(['x']), JSON.parse('{"StringEquals":{"__proto__":"v"}}'))).rejects.toThrow(/__proto__/);
  });
});

// util-dynamodb tells a plain object from a class instance by its `constructor`: without
// `convertClassInstanceToMap`, a member named "constructor" (a claim name in conditions, a session
// tag key) made marshalling throw, and the admin API answered 500 to a valid document.
describe('a member named constructor', () => {
  it.each([
    ['a condition claim', { conditions: { StringEquals: { constructor: 'x' } } }],
    ['a session tag key', { session_tags: { constructor: { claim: 'sub' } } }],
  ])('in %s is stored and read back as written', async (_, overrides) => {
    const { upstream, tenant } = await env.freshUpstream();
    const ex = await env.exchange(external(await upstream.token({ sub: 'repo:acme/x' }), tenant));
    expect(ex.status, ex.text).toBe(200);
    const res = await env.api(
      'POST',
      `/v1/tenants/${tenant}/trust-relationships`,
      ex.body.access_token as string,
      ciRelationship(upstream.issuer, { id: `k${++n}`, ...(overrides as object) }),
    );
    expect(res.status, res.text).toBe(201);
    const id = (res.body as { id: string }).id;
    const read = await env.api('GET', `/v1/tenants/${tenant}/trust-relationships/${id}`, ex.body.access_token as string);
    expect(read.status, read.text).toBe(200);
    expect(read.body).toMatchObject(overrides as object);
  });
});
