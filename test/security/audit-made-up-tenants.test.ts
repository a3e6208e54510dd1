// Threat model I5: a refusal naming a tenant that does not exist is filed under `_unknown`, whatever
// refused it (second adversarial review: refusals decided before the tenant lookup, or on the
// access-token path, still got a partition and a refusal-limiter bucket per made-up name).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciRelationship, external, startExchangeEnv, TOKEN_TYPE, type ExchangeEnv } from '../support/security-env.ts';
import { startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';

let env: ExchangeEnv;
let trusted: ScriptedIssuer;

beforeAll(async () => {
  env = await startExchangeEnv();
  trusted = await startScriptedIssuer();
  await env.admin.tenant('acme', [ciRelationship(trusted.issuer)]);
});
afterAll(async () => {
  await trusted?.close();
  await env?.close();
});

async function trail(tenant: string) {
  const { runtime } = await env.broker.load<{
    runtime: () => { auditLog: { query(t: string, q: object): Promise<{ items: Record<string, unknown>[] }> } };
  }>('lib/handlers/runtime.ts');
  const window = { since: new Date(Date.now() - 60_000).toISOString(), until: new Date(Date.now() + 60_000).toISOString(), limit: 200 };
  return (await runtime().auditLog.query(tenant, window)).items;
}

describe('refusals naming a tenant that does not exist', () => {
  it('a forged access token with tenant=<made-up> is filed under _unknown, not the made-up name', async () => {
    const forged = trusted.signRaw(
      { alg: 'RS256', typ: 'at+jwt' },
      { iss: 'https://issuer.fedbroker.test', tenant_id: 'acme', sub: 'acme/x' },
    );
    const res = await env.exchange({
      subject_token: forged,
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
      tenant: 'made-up-at',
    });
    expect(res.status).toBe(400);
    expect(await trail('made-up-at')).toEqual([]);
  });

  it('a malformed request (bad duration) with tenant=<made-up> is filed under _unknown', async () => {
    const res = await env.exchange(external(await trusted.token({ sub: 'repo:acme/app' }), 'made-up-dur', { duration_seconds: 'x' }));
    expect(res.status).toBe(400);
    expect(await trail('made-up-dur')).toEqual([]);
  });

  it('rotating made-up names gives a fresh refusal bucket each: > 30 records from one source in a burst', async () => {
    const forged = trusted.signRaw(
      { alg: 'RS256', typ: 'at+jwt' },
      { iss: 'https://issuer.fedbroker.test', tenant_id: 'acme', sub: 'acme/x' },
    );
    let written = 0;
    for (let i = 0; i < 40; i++) {
      await env.exchange({
        subject_token: forged,
        subject_token_type: TOKEN_TYPE.accessToken,
        requested_token_type: TOKEN_TYPE.idToken,
        audience: 'a',
        tenant: `flood-${i}`,
      });
    }
    for (let i = 0; i < 40; i++) written += (await trail(`flood-${i}`)).length;
    expect(written).toBeLessThanOrEqual(30);
  });
});
