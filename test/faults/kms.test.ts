// KMS faults on the signing path, end to end through POST /v1/token: throttled, internally failing,
// disabled or pending-deletion keys and an unreachable KMS must answer 503 with Retry-After and no
// token at all — never an unsigned or half-signed one — and the broker must sign again on its own.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAND_IN_ACCOUNT } from '../support/kms-stand-in.ts';
import { expectUnavailable, type Reply } from '../support/refusal.ts';
import { startScriptedIssuer, type ScriptedIssuer } from '../support/scripted-issuer.ts';
import { ciRelationship, external, startExchangeEnv, TOKEN_TYPE, type ExchangeEnv } from '../support/security-env.ts';

const ISSUER = 'https://issuer.fedbroker.test';
let env: ExchangeEnv;
let upstream: ScriptedIssuer;

beforeAll(async () => {
  env = await startExchangeEnv();
  upstream = await startScriptedIssuer();
  await env.admin.tenant('acme', [ciRelationship(upstream.issuer)]);
  // Warm the key ring and the upstream keys: the faults below hit Sign, nothing else.
  expect((await accessToken()).status).toBe(200);
});
afterAll(async () => {
  await upstream.close();
  await env.close();
});

const accessToken = async () => env.exchange(external(await upstream.token({ sub: 'repo:acme/app' })));
async function idToken(): Promise<Reply> {
  const at = await accessToken();
  expect(at.status, at.text).toBe(200);
  return env.exchange({
    subject_token: at.body.access_token as string,
    subject_token_type: TOKEN_TYPE.accessToken,
    requested_token_type: TOKEN_TYPE.idToken,
    audience: 'sts.amazonaws.com',
  });
}

/** The broker signs again, and what it signs verifies against its published JWKS. */
async function expectSigningWorks() {
  const res = await accessToken();
  expect(res.status, res.text).toBe(200);
  const { payload, protectedHeader } = await jwtVerify(
    res.body.access_token as string,
    createRemoteJWKSet(new URL(`${env.gateway.url}/.well-known/jwks.json`)),
    { issuer: ISSUER, audience: ISSUER },
  );
  expect(protectedHeader.typ).toBe('at+jwt');
  expect(payload.tenant_id).toBe('acme');
}

/** Uses up injected failures the refused request did not consume (the SDK retries only some). */
async function drainFailures() {
  for (let i = 0; i < 5 && (await accessToken()).status !== 200; i++);
}

const noLeak = { secrets: [STAND_IN_ACCOUNT, 'arn:aws', 'injected failure', 'Exception'] };

const faults: [string, string, number][] = [
  ['ThrottlingException', 'ThrottlingException', 400],
  ['KMSInternalException (500)', 'KMSInternalException', 500],
  ['KMSInvalidStateException (key pending deletion)', 'KMSInvalidStateException', 400],
  ['DisabledException', 'DisabledException', 400],
  ['AccessDeniedException', 'AccessDeniedException', 400],
  ['KeyUnavailableException (500)', 'KeyUnavailableException', 500],
];

describe('when KMS Sign fails with', () => {
  it.each(faults)('%s, an access token request answers 503 with Retry-After and no token, then recovers', async (_name, type, status) => {
    const before = env.broker.kms.calls.Sign ?? 0;
    // Enough failures for every attempt the SDK makes for one request.
    env.broker.kms.failNext('Sign', type, 5, status);
    const res = await accessToken();
    expectUnavailable(res, noLeak);
    expect(env.broker.kms.calls.Sign! - before).toBeGreaterThanOrEqual(1);
    await drainFailures();
    await expectSigningWorks();
  });

  it.each(faults)('%s, an ID token request answers 503 with Retry-After and no token', async (_name, type, status) => {
    const subject = await accessToken();
    expect(subject.status).toBe(200);
    env.broker.kms.failNext('Sign', type, 5, status);
    const res = await env.exchange({
      subject_token: subject.body.access_token as string,
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    });
    expectUnavailable(res, { ...noLeak, presented: [subject.body.access_token as string] });
    await drainFailures();
    const id = await idToken();
    expect(id.status, id.text).toBe(200);
    await jwtVerify(id.body.access_token as string, createRemoteJWKSet(new URL(`${env.gateway.url}/.well-known/jwks.json`)), {
      issuer: ISSUER,
      audience: 'sts.amazonaws.com',
    });
  });
});

describe('when KMS cannot be reached at all', () => {
  it('a warm registry still cannot sign: 503 with Retry-After, no token, and recovery once KMS is back', async () => {
    const kmsUrl = env.broker.env.AWS_ENDPOINT_URL_KMS!;
    env.broker.coldStart({ AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:9' });
    try {
      expectUnavailable(await accessToken(), noLeak);
    } finally {
      env.broker.coldStart({ AWS_ENDPOINT_URL_KMS: kmsUrl });
    }
    await expectSigningWorks();
  });
});
