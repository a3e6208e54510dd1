// Red team, round 2 (af8a085, convertClassInstanceToMap): util-dynamodb still picks its conversion
// by `value.constructor.name` BEFORE that option applies, so a plain object whose "constructor"
// member is an object named "String"/"Number"/"Boolean"/"Set"/"Map"/"Uint8Array" is not stored as a
// map: "String" becomes the string "[object Object]" (silently), the others throw (a 500). These
// tests pin (1) that library behaviour and (2) that no admin-API document can carry such a value:
// validation refuses every shape (400), and a "constructor" member of any accepted shape round-trips.
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciRelationship, external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';

const OPTS = { removeUndefinedValues: true, convertClassInstanceToMap: true };

describe('util-dynamodb with the options dynamo-table.ts uses', () => {
  it('silently stores {constructor:{name:"String"}} as the string "[object Object]"', () => {
    const item = { doc: { constructor: { name: 'String' }, keep: 'me' } };
    expect(unmarshall(marshall(item, OPTS))).toEqual({ doc: '[object Object]' });
  });
  it.each(['Number', 'Set', 'Map'])('throws (or stores junk) for {constructor:{name:%j}}', (name) => {
    const item = { doc: { constructor: { name }, keep: 'me' } };
    let back: unknown;
    try {
      back = unmarshall(marshall(item, OPTS));
    } catch {
      back = 'threw';
    }
    expect(back).not.toEqual(item);
  });
  it('a string or array "constructor" member is a map member (the fix)', () => {
    const item = { doc: { constructor: 'x', other: ['constructor'] } };
    expect(unmarshall(marshall(item, OPTS))).toEqual(item);
  });
});

let env: ExchangeEnv;
let tenant: string;
let admin: string;
let n = 0;
let issuer: string;
beforeAll(async () => {
  env = await startExchangeEnv();
  const f = await env.freshUpstream();
  tenant = f.tenant;
  issuer = f.upstream.issuer;
  const ex = await env.exchange(external(await f.upstream.token({ sub: 'repo:acme/x' }), tenant));
  expect(ex.status, ex.text).toBe(200);
  admin = ex.body.access_token as string;
}, 60_000);
afterAll(async () => env?.close());

const NAMES = ['String', 'Number', 'Boolean', 'Set', 'Map', 'Uint8Array', 'Object'];
describe('no admin-API relationship carries {constructor:{name:…}}', () => {
  it.each(
    NAMES.flatMap((name) => [
      [`conditions.StringEquals.constructor (${name})`, { conditions: { StringEquals: { constructor: { name } } } }],
      [`conditions.constructor (${name})`, { conditions: { constructor: { name } } }],
      [`session_tags.constructor (${name})`, { session_tags: { constructor: { claim: 'sub', name } } }],
      [`source_identity (${name})`, { source_identity: { claim: 'sub', constructor: { name } } }],
      [`document member (${name})`, { constructor: { name } }],
    ]),
  )('%s is refused with a 400', async (_, overrides) => {
    const res = await env.api('POST', `/v1/tenants/${tenant}/trust-relationships`, admin, {
      ...ciRelationship(issuer, { id: `k${++n}` }),
      ...(overrides as object),
    });
    expect(res.status, res.text).toBe(400);
  });

  it.each([
    ['a claim key', { conditions: { StringEquals: { constructor: 'x', 'constructor.name': 'String' } } }],
    ['a tag key', { session_tags: { constructor: { claim: 'constructor.name', transitive: true } } }],
    ['a description', { description: 'constructor' }],
  ])('a "constructor" %s round-trips', async (_, overrides) => {
    const id = `k${++n}`;
    const res = await env.api('POST', `/v1/tenants/${tenant}/trust-relationships`, admin, {
      ...ciRelationship(issuer, { id }),
      ...(overrides as object),
    });
    expect(res.status, res.text).toBe(201);
    const read = await env.api('GET', `/v1/tenants/${tenant}/trust-relationships/${id}`, admin);
    expect(read.body).toMatchObject(overrides as object);
  });
});

describe('other documents: a {constructor:{name}} member is a 400, never a 500 or a silent change', () => {
  it.each(
    NAMES.flatMap((name) => [
      ['cognito-identity-pools', { identity_pool_id: 'us-east-1:00000000-0000-0000-0000-000000000000', constructor: { name } }],
      ['trust-anchors', { id: 'corp', certificates: 'x', constructor: { name } }],
      ['revocations', { trust: 'ci', constructor: { name } }],
    ]),
  )('POST %s', async (kind, body) => {
    const res = await env.api('POST', `/v1/tenants/${tenant}/${kind}`, admin, body);
    expect([400, 403, 404], res.text).toContain(res.status);
  });
});
