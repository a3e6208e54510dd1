// Threat model I4 (refusals reveal nothing about a tenant's configuration), finding 5 of the
// trust-core review: every refused subject token on /v1/token gets one answer, byte for byte,
// whether the tenant exists, trusts the token's issuer, knows its key or accepts its audience;
// the reason goes to the audit record only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBJECT_TOKEN_REFUSED } from '../../lib/app/exchange.ts';
import { expectSafeRefusal } from '../support/refusal.ts';
import { ciRelationship, external, startExchangeEnv, TOKEN_TYPE, type ExchangeEnv } from '../support/security-env.ts';
import { startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';

let env: ExchangeEnv;
let trusted: ScriptedIssuer;
let stranger: ScriptedIssuer;

beforeAll(async () => {
  env = await startExchangeEnv();
  [trusted, stranger] = await Promise.all([startScriptedIssuer(), startScriptedIssuer()]);
  await env.admin.tenant('acme', [ciRelationship(trusted.issuer)]);
  await env.admin.tenant('dormant', [ciRelationship(trusted.issuer)]);
  await env.admin.disable('dormant');
});
afterAll(async () => {
  await Promise.all([trusted?.close(), stranger?.close()]);
  await env?.close();
});

/** Each case: a refused subject token, and what alone made it refused. */
const cases: [string, () => Promise<Record<string, string>>][] = [
  ['a tenant that does not exist', async () => external(await trusted.token({ sub: 'repo:acme/app' }), 'no-such-tenant')],
  ['a disabled tenant', async () => external(await trusted.token({ sub: 'repo:acme/app' }), 'dormant')],
  ['an issuer the tenant does not trust', async () => external(await stranger.token({ sub: 'repo:acme/app' }))],
  [
    'an unsigned token naming the trusted issuer',
    async () =>
      external(trusted.signRaw({ alg: 'RS256', kid: trusted.kid }, trusted.claims({ sub: 'repo:acme/app' })).replace(/\.[^.]+$/, '.AAAA')),
  ],
  [
    'a signature by another key under the trusted kid',
    async () => external(stranger.signRaw({ alg: 'RS256', kid: trusted.kid }, trusted.claims({ sub: 'repo:acme/app' }))),
  ],
  ['an unknown kid', async () => external(await trusted.token({ sub: 'repo:acme/app' }, { header: { kid: 'nope' } }))],
  ['an audience the tenant does not accept', async () => external(await trusted.token({ sub: 'repo:acme/app', aud: 'someone-else' }))],
  ['a subject no condition admits', async () => external(await trusted.token({ sub: 'repo:evil/app' }))],
  ['an expired token', async () => external(await trusted.token({ sub: 'repo:acme/app' }, { now: Date.now() - 3_600_000 }))],
  ['a garbage token', async () => external('not-a-jwt')],
  [
    'a forged access token',
    async () => ({
      subject_token: trusted.signRaw(
        { alg: 'RS256', typ: 'at+jwt' },
        { iss: 'https://issuer.fedbroker.test', tenant_id: 'acme', sub: 'acme/x' },
      ),
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    }),
  ],
];

describe('a refused subject token', () => {
  it.each(cases)('gets the one answer for %s', async (_name, params) => {
    const request = await params();
    const res = await env.exchange(request);
    expectSafeRefusal(res, { presented: [request.subject_token ?? ''], secrets: [trusted.host, stranger.host] });
    expect(res.body).toEqual({ error: 'invalid_request', error_description: SUBJECT_TOKEN_REFUSED });
  });

  it('files a refusal naming a tenant that does not exist under _unknown, the name only claimed', async () => {
    await env.exchange(external(await trusted.token({ sub: 'repo:acme/app' }), 'made-up-tenant'));
    const { runtime } = await env.broker.load<{
      runtime: () => { auditLog: { query(t: string, q: object): Promise<{ items: Record<string, unknown>[] }> } };
    }>('lib/handlers/runtime.ts');
    const window = { since: new Date(Date.now() - 60_000).toISOString(), until: new Date(Date.now() + 60_000).toISOString(), limit: 200 };
    const unknown = (await runtime().auditLog.query('_unknown', window)).items;
    expect(unknown.find((i) => i.claimed_tenant === 'made-up-tenant')).toMatchObject({ reason: 'unknown_tenant', tenant: '_unknown' });
    expect((await runtime().auditLog.query('made-up-tenant', window)).items).toEqual([]);
  });

  it('leaves the reason in the audit trail, where only the tenant’s admins read it', async () => {
    await env.exchange(external(await trusted.token({ sub: 'repo:acme/app', aud: 'someone-else' })));
    const { runtime } = await env.broker.load<{
      runtime: () => { auditLog: { query(t: string, q: object): Promise<{ items: { reason?: string }[] }> } };
    }>('lib/handlers/runtime.ts');
    const since = new Date(Date.now() - 60_000).toISOString();
    const { items } = await runtime().auditLog.query('acme', { since, until: new Date(Date.now() + 60_000).toISOString(), limit: 200 });
    expect(items.map((i) => i.reason)).toContain('audience');
  });
});
