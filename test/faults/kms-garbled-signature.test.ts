// KMS answering 200 with a signature that is not a signature by the key: the broker checks every
// signature against the key's public half, so no garbled token is ever handed out.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUnavailable } from '../support/refusal.ts';
import { startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';

describe.each(['RS256', 'ES256'] as const)('a garbled %s signature from KMS', (alg) => {
  let env: ExchangeEnv;
  let upstream: ScriptedIssuer;

  beforeAll(async () => {
    env = await startExchangeEnv({ alg });
    upstream = await startScriptedIssuer();
    await env.admin.tenant('acme', [ciRelationship(upstream.issuer)]);
    const warm = await env.exchange(external(await upstream.token({ sub: 'repo:acme/app' })));
    expect(warm.status, warm.text).toBe(200);
  });
  afterAll(async () => {
    await upstream.close();
    await env.close();
  });

  it.each([
    ['random bytes', () => randomBytes(alg === 'RS256' ? 256 : 72)],
    ['a valid-looking DER ECDSA signature of something else', () => Buffer.from('3006020101020101', 'hex')],
    ['one byte', () => Buffer.from([1])],
  ])('refuses with 503 and no token when KMS returns %s', async (_name, garble) => {
    const signsBefore = env.broker.kms.calls.Sign ?? 0;
    env.broker.kms.alterNext('Sign', (out) => ({ ...out, Signature: garble().toString('base64') }));
    const res = await env.exchange(external(await upstream.token({ sub: 'repo:acme/app' })));
    expectUnavailable(res);
    expect(res.body.access_token).toBeUndefined();
    expect(env.broker.kms.calls.Sign).toBe(signsBefore + 1);
  });

  it('signs again once KMS answers properly', async () => {
    const res = await env.exchange(external(await upstream.token({ sub: 'repo:acme/app' })));
    expect(res.status, res.text).toBe(200);
  });
});
