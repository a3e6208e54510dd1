// KMS answering 200 with a signature that is not a signature by the key: the broker checks every
// signature against the key's public half, so no garbled token is ever handed out — neither an
// access token nor an ID token.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUnavailable } from '../support/refusal.ts';
import { startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, TOKEN_TYPE, type ExchangeEnv } from '../support/security-env.ts';

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

  const garbles: [string, () => Buffer][] = [
    ['random bytes', () => randomBytes(alg === 'RS256' ? 256 : 72)],
    ['a valid-looking DER ECDSA signature of something else', () => Buffer.from('3006020101020101', 'hex')],
    ['one byte', () => Buffer.from([1])],
  ];
  /** An access token, signed while KMS answers properly. */
  async function accessToken(): Promise<string> {
    const res = await env.exchange(external(await upstream.token({ sub: 'repo:acme/app' })));
    expect(res.status, res.text).toBe(200);
    return res.body.access_token as string;
  }
  const idTokenFor = (subject: string) =>
    env.exchange({
      subject_token: subject,
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    });

  it.each(garbles)('refuses an access token with 503 and no token when KMS returns %s', async (_name, garble) => {
    const signsBefore = env.broker.kms.calls.Sign ?? 0;
    env.broker.kms.alterNext('Sign', (out) => ({ ...out, Signature: garble().toString('base64') }));
    const res = await env.exchange(external(await upstream.token({ sub: 'repo:acme/app' })));
    expectUnavailable(res);
    expect(res.body.access_token).toBeUndefined();
    expect(env.broker.kms.calls.Sign).toBe(signsBefore + 1);
  });

  it.each(garbles)('refuses an ID token with 503 and no token when KMS returns %s', async (_name, garble) => {
    const subject = await accessToken();
    const signsBefore = env.broker.kms.calls.Sign ?? 0;
    env.broker.kms.alterNext('Sign', (out) => ({ ...out, Signature: garble().toString('base64') }));
    const res = await idTokenFor(subject);
    expectUnavailable(res, { presented: [subject] });
    expect(res.body.access_token).toBeUndefined();
    // Exactly the one Sign of the ID token, whose answer was garbled (and then refused).
    expect(env.broker.kms.calls.Sign).toBe(signsBefore + 1);
  });

  it('signs again once KMS answers properly, access tokens and ID tokens', async () => {
    const id = await idTokenFor(await accessToken());
    expect(id.status, id.text).toBe(200);
    expect(id.body.issued_token_type).toBe(TOKEN_TYPE.idToken);
  });
});
