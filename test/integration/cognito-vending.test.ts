import { CognitoIdentityClient, GetCredentialsForIdentityCommand } from '@aws-sdk/client-cognito-identity';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { startCognitoStandIn, type CognitoStandIn } from '../support/cognito-stand-in.ts';
import { postExchange, TOKEN_TYPE } from '../support/exchange-client.ts';
import { startGateway } from '../support/gateway.ts';
import { startStsStandIn, type StsStandIn } from '../support/sts-stand-in.ts';
import { tenantAdmin } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';
import type { JsonBody } from '../support/json-body.ts';

// fedbroker as the developer provider of a tenant's identity pool.
let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let cognito: CognitoStandIn;
let sts: StsStandIn;
let upstream: UpstreamIssuer;
let pool: string;
let taggedPool: string;
let ghostPool: string;
/** Pools in "another account", reached by assuming the pool's role_arn. */
let crossPool: string;
let deniedPool: string;
let throttledPool: string;
const CROSS_ROLE = 'arn:aws:iam::444455556666:role/fedbroker-vend';
const THROTTLED_ROLE = 'arn:aws:iam::444455556666:role/fedbroker-vend-throttled';
const DENIED_ROLE = 'arn:aws:iam::111122223333:role/does-not-trust-fedbroker';
let vendor: string;
let noScope: string;

async function accessToken(tenant: string, sub: string): Promise<string> {
  const res = await postExchange(gateway.url, {
    subject_token: await upstream.token({ sub, team: 'payments' }),
    subject_token_type: TOKEN_TYPE.idToken,
    tenant,
  });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

beforeAll(async () => {
  [cognito, upstream, sts] = await Promise.all([startCognitoStandIn(), startUpstreamIssuer(), startStsStandIn()]);
  broker = await startBroker({
    env: { FEDBROKER_LOCAL: 'true', AWS_ENDPOINT_URL_COGNITO_IDENTITY: cognito.url, AWS_ENDPOINT_URL_STS: sts.url },
  });
  sts.addAssumableRole(CROSS_ROLE, { externalId: 'acme' });
  sts.addAssumableRole(THROTTLED_ROLE, { externalId: 'acme' });
  gateway = await startGateway((m) => broker.load(m));
  pool = cognito.createPool({ developerProvider: 'fedbroker' });
  taggedPool = cognito.createPool({ developerProvider: 'fedbroker' });
  ghostPool = 'us-east-1:00000000-0000-4000-8000-000000000000';
  [crossPool, deniedPool, throttledPool] = [1, 2, 3].map(() => cognito.createPool({ developerProvider: 'fedbroker' })) as [
    string,
    string,
    string,
  ];
  const admin = tenantAdmin(broker.tableName);
  const trust = { kind: 'oidc' as const, issuer: upstream.issuer, audiences: ['fedbroker'], session_tags: { team: { claim: 'team' } } };
  await admin.tenant('acme', [
    { ...trust, id: 'vendor', conditions: { StringEquals: { sub: 'vendor' } }, scopes: ['aws:cognito'] },
    { ...trust, id: 'plain', conditions: { StringEquals: { sub: 'plain' } }, scopes: ['id-token:issue'] },
  ]);
  await admin.pool('acme', { identity_pool_id: pool, max_duration_seconds: 3600 });
  await admin.pool('acme', { identity_pool_id: taggedPool, principal_tags: true });
  await admin.pool('acme', { identity_pool_id: ghostPool });
  await admin.pool('acme', { identity_pool_id: crossPool, role_arn: CROSS_ROLE });
  await admin.pool('acme', { identity_pool_id: deniedPool, role_arn: DENIED_ROLE });
  await admin.pool('acme', { identity_pool_id: throttledPool, role_arn: THROTTLED_ROLE });
  [vendor, noScope] = await Promise.all([accessToken('acme', 'vendor'), accessToken('acme', 'plain')]);
});
afterAll(async () => {
  await Promise.all([gateway.close(), upstream.close()]);
  await broker.close();
  await Promise.all([cognito.close(), sts.close()]);
});

async function vend(token: string | undefined, body: unknown) {
  const res = await fetch(`${gateway.url}/v1/aws/cognito-identity-token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as JsonBody };
}

describe('vending Cognito OpenID tokens', () => {
  it('calls GetOpenIdTokenForDeveloperIdentity with the principal as developer user id', async () => {
    const res = await vend(vendor, { identity_pool_id: pool });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ identity_id: expect.stringMatching(/^us-east-1:/), expires_in: 900 });
    expect(cognito.lastRequest).toMatchObject({ IdentityPoolId: pool, Logins: { fedbroker: 'acme/vendor/vendor' }, TokenDuration: 900 });
    // A pool without principal_tags still gets the tenant tag, which no tenant can set or drop.
    expect(cognito.lastRequest?.PrincipalTags).toEqual({ 'fedbroker:tenant': 'acme' });
    expect(decodeJwt(res.body.token)).toMatchObject({ aud: pool, sub: res.body.identity_id });
  });

  it('hands back a token the workload turns into AWS credentials with GetCredentialsForIdentity', async () => {
    const res = await vend(vendor, { identity_pool_id: pool, duration_seconds: 1800 });
    expect(res.body.expires_in).toBe(1800);
    const client = new CognitoIdentityClient({
      region: 'us-east-1',
      endpoint: cognito.url,
      credentials: { accessKeyId: 'none', secretAccessKey: 'none' },
    });
    const out = await client.send(
      new GetCredentialsForIdentityCommand({
        IdentityId: res.body.identity_id,
        Logins: { 'cognito-identity.amazonaws.com': res.body.token },
      }),
    );
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    client.destroy();
  });

  it('passes session tags as PrincipalTags where the pool asks for them', async () => {
    const res = await vend(vendor, { identity_pool_id: taggedPool });
    expect(res.status).toBe(200);
    expect(cognito.lastRequest).toMatchObject({ PrincipalTags: { team: 'payments' } });
  });

  it.each([
    ['a call without a bearer token', (): string | undefined => undefined, { identity_pool_id: 'POOL' }, 401, 'invalid_token'],
    ['a token without the aws:cognito scope', (): string | undefined => noScope, { identity_pool_id: 'POOL' }, 403, 'insufficient_scope'],
    [
      'a pool not configured for the tenant',
      (): string | undefined => vendor,
      { identity_pool_id: 'us-east-1:11111111-2222-4333-8444-555555555555' },
      403,
      'access_denied',
    ],
    ['a malformed pool id', (): string | undefined => vendor, { identity_pool_id: 'not-a-pool' }, 400, 'invalid_request'],
    [
      'a duration above the pool maximum',
      (): string | undefined => vendor,
      { identity_pool_id: 'POOL', duration_seconds: 7200 },
      400,
      'invalid_request',
    ],
    [
      'a duration that is not a number',
      (): string | undefined => vendor,
      { identity_pool_id: 'POOL', duration_seconds: '1h' },
      400,
      'invalid_request',
    ],
    ['a configured pool Cognito does not know', (): string | undefined => vendor, { identity_pool_id: 'GHOST' }, 400, 'invalid_request'],
  ] as const)('refuses %s', async (_name, token, body, status, error) => {
    const res = await vend(token(), {
      ...body,
      identity_pool_id: body.identity_pool_id === 'POOL' ? pool : body.identity_pool_id === 'GHOST' ? ghostPool : body.identity_pool_id,
    });
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
    expect(res.body.token).toBeUndefined();
    expect(JSON.stringify(res.body)).not.toMatch(/111122223333|arn:aws/);
  });

  it('answers 503 with Retry-After when Cognito throttles', async () => {
    cognito.failNext('GetOpenIdTokenForDeveloperIdentity', 'TooManyRequestsException', 2);
    const res = await vend(vendor, { identity_pool_id: pool });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.body.error).toBe('temporarily_unavailable');
  });

  it('answers 403 naming the pool when fedbroker is not its developer provider', async () => {
    cognito.failNext('GetOpenIdTokenForDeveloperIdentity', 'NotAuthorizedException', 1);
    const res = await vend(vendor, { identity_pool_id: pool });
    expect(res.status).toBe(403);
    expect(res.body.error_description).toContain(pool);
  });
});

describe('vending for a pool in another account (role_arn)', () => {
  it('assumes the role with AssumeRole and calls Cognito with its credentials, reusing them while valid', async () => {
    const first = await vend(vendor, { identity_pool_id: crossPool });
    expect(first.status).toBe(200);
    expect(sts.calls.AssumeRole).toBe(1);
    // The tenant is the ExternalId: the role's trust policy names the one tenant it serves.
    expect(sts.assumed).toEqual([
      {
        roleArn: CROSS_ROLE,
        sessionName: 'fedbroker.acme',
        externalId: 'acme',
        durationSeconds: 900,
        accessKeyId: expect.stringMatching(/^ASIA/),
      },
    ]);
    expect(cognito.lastRequest).toMatchObject({ IdentityPoolId: crossPool, Logins: { fedbroker: 'acme/vendor/vendor' } });
    expect(cognito.lastAccessKeyId).toBe(sts.assumed[0]?.accessKeyId);

    const second = await vend(vendor, { identity_pool_id: crossPool });
    expect(second.status).toBe(200);
    expect(sts.calls.AssumeRole).toBe(1);
    expect(cognito.lastAccessKeyId).toBe(sts.assumed[0]?.accessKeyId);

    // Pools without a role still use the Lambda's own credentials.
    expect((await vend(vendor, { identity_pool_id: pool })).status).toBe(200);
    expect(cognito.lastAccessKeyId).toBe('test');
  });

  it('answers 403 naming the pool, never the role’s account, when STS refuses the role', async () => {
    const calls = cognito.calls.GetOpenIdTokenForDeveloperIdentity;
    const res = await vend(vendor, { identity_pool_id: deniedPool });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('access_denied');
    expect(res.body.error_description).toContain(deniedPool);
    expect(JSON.stringify(res.body)).not.toContain('111122223333');
    expect(cognito.calls.GetOpenIdTokenForDeveloperIdentity).toBe(calls);
  });

  it('answers 503 with Retry-After when STS throttles', async () => {
    sts.failNext('AssumeRole', 'Throttling', 3);
    const res = await vend(vendor, { identity_pool_id: throttledPool });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.body.error).toBe('temporarily_unavailable');
    expect(res.body.error_description).toContain('STS');
  });
});
