// KMS faults under the data-key signer (FEDBROKER_SIGNER=kms-data-key), end to end through
// POST /v1/token: KMS is on the request path only when a deployment bootstraps its first key pair
// (GenerateDataKeyPairWithoutPlaintext) and when a cold container decrypts the private key
// (Decrypt). Throttling or an internal error there must answer 503 with Retry-After and no
// token at all, and the next request must sign again on its own.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SDK_DEFAULTS } from '../../lib/aws/errors.ts';
import { STAND_IN_ACCOUNT } from '../support/kms-stand-in.ts';
import { expectUnavailable } from '../support/refusal.ts';
import { startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, type ExchangeEnv } from '../support/security-env.ts';

const ISSUER = 'https://issuer.fedbroker.test';
const GENERATE = 'GenerateDataKeyPairWithoutPlaintext';
// Every attempt the SDK makes for one request fails, and no injected failure is left over for
// the recovery request (each test checks that all of them were consumed).
const ATTEMPTS = SDK_DEFAULTS.maxAttempts;
const noLeak = { secrets: [STAND_IN_ACCOUNT, 'arn:aws', 'injected failure', 'Exception'] };

describe.each([
  ['ThrottlingException', 'ThrottlingException', 400],
  ['KMSInternalException (500)', 'KMSInternalException', 500],
] as const)('with the kms-data-key signer, when KMS answers %s', (_name, type, status) => {
  let env: ExchangeEnv;
  let upstream: ScriptedIssuer;

  // A new deployment per fault: its key registry is empty until the first signing request.
  beforeAll(async () => {
    env = await startExchangeEnv({ signer: 'kms-data-key' });
    expect(env.broker.env.FEDBROKER_SIGNER).toBe('kms-data-key');
    upstream = await startScriptedIssuer();
    await env.admin.tenant('acme', [ciRelationship(upstream.issuer)]);
  });
  afterAll(async () => {
    await upstream.close();
    await env.close();
  });

  const calls = (operation: string) => env.broker.kms.calls[operation] ?? 0;
  const accessToken = async () => env.exchange(external(await upstream.token({ sub: 'repo:acme/app' })));

  /** The broker signs again, and what it signs verifies against its published JWKS. */
  async function expectSigningWorks() {
    const res = await accessToken();
    expect(res.status, res.text).toBe(200);
    const jwks = createRemoteJWKSet(new URL(`${env.gateway.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(res.body.access_token as string, jwks, { issuer: ISSUER, audience: ISSUER });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload.tenant_id).toBe('acme');
  }

  const bootstrapFailure = `on ${GENERATE} while bootstrapping the first key: 503 with Retry-After, no token`;
  it(`${bootstrapFailure}, then the next request bootstraps and signs`, async () => {
    expect(calls(GENERATE)).toBe(0);
    env.broker.kms.failNext(GENERATE, type, ATTEMPTS, status);
    const token = await upstream.token({ sub: 'repo:acme/app' });
    const res = await env.exchange(external(token));
    expectUnavailable(res, { ...noLeak, presented: [token] });
    expect(calls(GENERATE)).toBe(ATTEMPTS);
    expect(calls('Decrypt')).toBe(0); // no key pair, nothing to decrypt, nothing signed

    await expectSigningWorks();
    expect(calls(GENERATE)).toBe(ATTEMPTS + 1);
    expect(calls('Decrypt')).toBe(1);
  });

  it('on Decrypt in a cold container: 503 with Retry-After, no token, then the next request decrypts and signs', async () => {
    // A registered key pair (whatever ran before), then a new container that holds no private key.
    await expectSigningWorks();
    const generated = calls(GENERATE);
    env.broker.coldStart();
    const before = calls('Decrypt');
    env.broker.kms.failNext('Decrypt', type, ATTEMPTS, status);
    const token = await upstream.token({ sub: 'repo:acme/app' });
    const res = await env.exchange(external(token));
    expectUnavailable(res, { ...noLeak, presented: [token] });
    expect(calls('Decrypt') - before).toBe(ATTEMPTS);

    await expectSigningWorks();
    expect(calls('Decrypt') - before).toBe(ATTEMPTS + 1);
    // Recovery used the registered key: no new key pair was generated.
    expect(calls(GENERATE)).toBe(generated);
    // The decrypted key is kept for the container: a second token costs KMS nothing.
    await expectSigningWorks();
    expect(calls('Decrypt') - before).toBe(ATTEMPTS + 1);
  });
});
