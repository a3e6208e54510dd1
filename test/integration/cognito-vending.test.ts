import { CognitoIdentityClient, GetCredentialsForIdentityCommand } from '@aws-sdk/client-cognito-identity';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { startCognitoStandIn, type CognitoStandIn } from '../support/cognito-stand-in.ts';
import { postExchange, TOKEN_TYPE } from '../support/exchange-client.ts';
import { startGateway } from '../support/gateway.ts';
import { tenantAdmin } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';

// fedbroker as the developer provider of a tenant's identity pool.
let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let cognito: CognitoStandIn;
let upstream: UpstreamIssuer;
let pool: string;
let taggedPool: string;
let ghostPool: string;
let vendor: string;
let noScope: string;

async function accessToken(tenant: string, sub: string): Promise<string> {
  const res = await postExchange(gateway.url, { subject_token: await upstream.token({ sub, team: 'payments' }), subject_token_type: TOKEN_TYPE.idToken, tenant });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

beforeAll(async () => {
  [cognito, upstream] = await Promise.all([startCognitoStandIn(), startUpstreamIssuer()]);
  broker = await startBroker({ env: { FEDBROKER_LOCAL: 'true', AWS_ENDPOINT_URL_COGNITO_IDENTITY: cognito.url } });
  gateway = await startGateway((m) => broker.load(m));
  pool = cognito.createPool({ developerProvider: 'fedbroker' });
  taggedPool = cognito.createPool({ developerProvider: 'fedbroker' });
  ghostPool = 'us-east-1:00000000-0000-4000-8000-000000000000';
  const admin = tenantAdmin(broker.tableName);
  const trust = { kind: 'oidc' as const, issuer: upstream.issuer, audiences: ['fedbroker'], session_tags: { team: { claim: 'team' } } };
  await admin.tenant('acme', [
    { ...trust, id: 'vendor', conditions: { StringEquals: { sub: 'vendor' } }, scopes: ['aws:cognito'] },
    { ...trust, id: 'plain', conditions: { StringEquals: { sub: 'plain' } }, scopes: ['id-token:issue'] },
  ]);
  await admin.pool('acme', { identity_pool_id: pool, max_duration_seconds: 3600 });
  await admin.pool('acme', { identity_pool_id: taggedPool, principal_tags: true });
  await admin.pool('acme', { identity_pool_id: ghostPool });
  [vendor, noScope] = await Promise.all([accessToken('acme', 'vendor'), accessToken('acme', 'plain')]);
});
afterAll(async () => {
  await Promise.all([gateway.close(), upstream.close()]);
  await broker.close();
  await cognito.close();
});

async function vend(token: string | undefined, body: unknown) {
  const res = await fetch(`${gateway.url}/v1/aws/cognito-identity-token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

describe('vending Cognito OpenID tokens', () => {
  it('calls GetOpenIdTokenForDeveloperIdentity with the principal as developer user id', async () => {
    const res = await vend(vendor, { identity_pool_id: pool });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ identity_id: expect.stringMatching(/^us-east-1:/), expires_in: 900 });
    expect(cognito.lastRequest).toMatchObject({ IdentityPoolId: pool, Logins: { fedbroker: 'acme/vendor/vendor' }, TokenDuration: 900 });
    expect(cognito.lastRequest).not.toHaveProperty('PrincipalTags');
    expect(decodeJwt(res.body.token)).toMatchObject({ aud: pool, sub: res.body.identity_id });
  });

  it('hands back a token the workload turns into AWS credentials with GetCredentialsForIdentity', async () => {
    const res = await vend(vendor, { identity_pool_id: pool, duration_seconds: 1800 });
    expect(res.body.expires_in).toBe(1800);
    const client = new CognitoIdentityClient({ region: 'us-east-1', endpoint: cognito.url, credentials: { accessKeyId: 'none', secretAccessKey: 'none' } });
    const out = await client.send(new GetCredentialsForIdentityCommand({ IdentityId: res.body.identity_id, Logins: { 'cognito-identity.amazonaws.com': res.body.token } }));
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
    ['a pool not configured for the tenant', (): string | undefined => vendor, { identity_pool_id: 'us-east-1:11111111-2222-4333-8444-555555555555' }, 403, 'access_denied'],
    ['a malformed pool id', (): string | undefined => vendor, { identity_pool_id: 'not-a-pool' }, 400, 'invalid_request'],
    ['a duration above the pool maximum', (): string | undefined => vendor, { identity_pool_id: 'POOL', duration_seconds: 7200 }, 400, 'invalid_request'],
    ['a duration that is not a number', (): string | undefined => vendor, { identity_pool_id: 'POOL', duration_seconds: '1h' }, 400, 'invalid_request'],
    ['a configured pool Cognito does not know', (): string | undefined => vendor, { identity_pool_id: 'GHOST' }, 400, 'invalid_request'],
  ] as const)('refuses %s', async (_name, token, body, status, error) => {
    const res = await vend(token(), { ...body, identity_pool_id: body.identity_pool_id === 'POOL' ? pool : body.identity_pool_id === 'GHOST' ? ghostPool : body.identity_pool_id });
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
