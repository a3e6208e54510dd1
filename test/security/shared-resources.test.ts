// Threat model I2 (nothing one tenant does changes another tenant's grants or resources), finding
// 2 of the trust-core review: Cognito identity pools and cross-account roles are AWS resources no
// tenant owns by naming them. Each is allowed to one tenant by the operator (a global claim by
// conditional write), roles are assumed with the tenant as ExternalId, and every ID token and
// Cognito PrincipalTags set carries a tenant tag no tenant admin can set or override.
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

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let cognito: CognitoStandIn;
let sts: StsStandIn;
let upstream: UpstreamIssuer;
let admin: ReturnType<typeof tenantAdmin>;
/** Tenant B's pool, reached through B's role, whose trust policy requires ExternalId "globex". */
let globexPool: string;
const GLOBEX_ROLE = 'arn:aws:iam::444455556666:role/globex-vend';
const tokens: Record<string, string> = {};

const trust = (id: string, scopes: string[], extra: Record<string, unknown> = {}) => ({
  kind: 'oidc' as const,
  id,
  issuer: upstream.issuer,
  audiences: ['fedbroker'],
  conditions: { StringEquals: { sub: id } },
  scopes: scopes as ['trust:admin'],
  ...extra,
});

async function accessToken(tenant: string, sub: string): Promise<string> {
  const res = await postExchange(gateway.url, {
    subject_token: await upstream.token({ sub }),
    subject_token_type: TOKEN_TYPE.idToken,
    tenant,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.access_token as string;
}

async function call(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: (text ? JSON.parse(text) : {}) as JsonBody };
}

beforeAll(async () => {
  [cognito, upstream, sts] = await Promise.all([startCognitoStandIn(), startUpstreamIssuer(), startStsStandIn()]);
  broker = await startBroker({
    env: { FEDBROKER_LOCAL: 'true', AWS_ENDPOINT_URL_COGNITO_IDENTITY: cognito.url, AWS_ENDPOINT_URL_STS: sts.url },
  });
  sts.addAssumableRole(GLOBEX_ROLE, { externalId: 'globex' });
  gateway = await startGateway((m) => broker.load(m));
  admin = tenantAdmin(broker.tableName);
  globexPool = cognito.createPool({ developerProvider: 'fedbroker' });
  for (const tenant of ['acme', 'globex']) {
    await admin.tenant(tenant, [trust('admin', ['trust:admin']), trust('vendor', ['aws:cognito', 'id-token:issue'])]);
  }
  await admin.pool('globex', { identity_pool_id: globexPool, role_arn: GLOBEX_ROLE });
  for (const tenant of ['acme', 'globex']) {
    tokens[`${tenant}/admin`] = await accessToken(tenant, 'admin');
    tokens[`${tenant}/vendor`] = await accessToken(tenant, 'vendor');
  }
});
afterAll(async () => {
  await Promise.all([gateway?.close(), upstream?.close()]);
  await broker?.close();
  await Promise.all([cognito?.close(), sts?.close()]);
});

describe('shared AWS resources belong to one tenant', () => {
  it('refuses a tenant admin registering another tenant’s pool and role (403 access_denied), without saying who holds them', async () => {
    const res = await call('POST', '/v1/tenants/acme/cognito-identity-pools', tokens['acme/admin']!, {
      identity_pool_id: globexPool,
      role_arn: GLOBEX_ROLE,
    });
    expect(res.status, res.text).toBe(403);
    expect(res.body.error).toBe('access_denied');
    expect(res.text).not.toContain('globex');
    expect(sts.calls.AssumeRole ?? 0).toBe(0);
  });

  it('refuses an operator allowing one pool, or one role, to a second tenant (409)', async () => {
    await expect(admin.allowPool('acme', globexPool)).rejects.toMatchObject({ code: 'ERR_CONFLICT', status: 409 });
    const other = cognito.createPool({ developerProvider: 'fedbroker' });
    await expect(admin.allowPool('acme', other, GLOBEX_ROLE)).rejects.toMatchObject({ code: 'ERR_CONFLICT', status: 409 });
    // Allowing again to the tenant that holds it is idempotent.
    await expect(admin.allowPool('globex', globexPool, GLOBEX_ROLE)).resolves.toBeUndefined();
  });

  it('assumes a pool’s role with the tenant as ExternalId, so a role that trusts another tenant refuses (403)', async () => {
    const ok = await call('POST', '/v1/aws/cognito-identity-token', tokens['globex/vendor']!, { identity_pool_id: globexPool });
    expect(ok.status, ok.text).toBe(200);
    expect(sts.assumed.at(-1)).toMatchObject({ roleArn: GLOBEX_ROLE, externalId: 'globex' });
    // An operator mistake: acme allowed a role whose trust policy names globex's ExternalId.
    const misrouted = 'arn:aws:iam::444455556666:role/globex-only';
    sts.addAssumableRole(misrouted, { externalId: 'globex' });
    const pool = cognito.createPool({ developerProvider: 'fedbroker' });
    await admin.pool('acme', { identity_pool_id: pool, role_arn: misrouted });
    const refused = await call('POST', '/v1/aws/cognito-identity-token', tokens['acme/vendor']!, { identity_pool_id: pool });
    expect(refused.status, refused.text).toBe(403);
    expect(refused.body.error).toBe('access_denied');
    expect(sts.assumed.filter((s) => s.roleArn === misrouted)).toEqual([]);
  });

  it('stops vending within the cache bound once the operator withdraws the pool', async () => {
    const pool = cognito.createPool({ developerProvider: 'fedbroker' });
    const { runtime } = await broker.load<{ runtime: () => { directory: { invalidate(t: string): void } } }>('lib/handlers/runtime.ts');
    // The operator writes from elsewhere; each invalidate stands for the bound elapsing (FEDBROKER_TENANT_CACHE_SECONDS).
    await admin.pool('acme', { identity_pool_id: pool });
    runtime().directory.invalidate('acme');
    expect((await call('POST', '/v1/aws/cognito-identity-token', tokens['acme/vendor']!, { identity_pool_id: pool })).status).toBe(200);
    const { disallow } = await import('../../lib/app/ownership.ts');
    await disallow({ store: admin.store, clock: { now: () => Date.now() } }, 'acme', 'POOL', pool);
    runtime().directory.invalidate('acme');
    const res = await call('POST', '/v1/aws/cognito-identity-token', tokens['acme/vendor']!, { identity_pool_id: pool });
    expect(res.status, res.text).toBe(403);
    expect(res.body.error).toBe('access_denied');
  });
});

describe('a vended Cognito token', () => {
  it('never outlives its access token’s standing: clamped to the relationship’s max_duration_seconds', async () => {
    await admin.relationship('acme', trust('brief', ['aws:cognito'], { max_duration_seconds: 300 }));
    const pool = cognito.createPool({ developerProvider: 'fedbroker' });
    await admin.pool('acme', { identity_pool_id: pool, max_duration_seconds: 3600 });
    const { runtime } = await broker.load<{ runtime: () => { directory: { invalidate(t: string): void } } }>('lib/handlers/runtime.ts');
    runtime().directory.invalidate('acme');
    const res = await call('POST', '/v1/aws/cognito-identity-token', await accessToken('acme', 'brief'), {
      identity_pool_id: pool,
      duration_seconds: 3600,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.expires_in).toBeLessThanOrEqual(300);
    expect(Number(cognito.lastRequest?.TokenDuration)).toBeLessThanOrEqual(300);
  });
});

describe('the tenant tag', () => {
  it('rides on every ID token, transitive, even when the relationship maps no session tags', async () => {
    const res = await postExchange(gateway.url, {
      subject_token: tokens['acme/vendor']!,
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token)['https://aws.amazon.com/tags']).toEqual({
      principal_tags: { 'fedbroker:tenant': ['acme'] },
      transitive_tag_keys: ['fedbroker:tenant'],
    });
  });

  it('is on every Cognito PrincipalTags set', async () => {
    await call('POST', '/v1/aws/cognito-identity-token', tokens['globex/vendor']!, { identity_pool_id: globexPool });
    expect(cognito.lastRequest?.PrincipalTags).toEqual({ 'fedbroker:tenant': 'globex' });
  });

  it.each([
    'fedbroker:tenant',
    'Fedbroker:Tenant',
    'FEDBROKER:anything',
    ' fedbroker:tenant',
    'ｆｅｄｂｒｏｋｅｒ:tenant',
    'fedbroker\u00a0:tenant',
  ])('cannot be set by a tenant admin: session tag key %s is refused when stored (400)', async (key) => {
    const res = await call(
      'POST',
      '/v1/tenants/acme/trust-relationships',
      tokens['acme/admin']!,
      trust('spoof', ['id-token:issue'], { session_tags: { [key]: { claim: 'sub' } } }),
    );
    expect(res.status, res.text).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toContain('prefix is reserved');
  });
});
