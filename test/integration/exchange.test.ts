import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { postExchange, TOKEN_TYPE } from '../support/exchange-client.ts';
import { startGateway } from '../support/gateway.ts';
import { tenantAdmin } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let other: UpstreamIssuer;
const ISSUER = 'https://issuer.fedbroker.test';

beforeAll(async () => {
  broker = await startBroker({ env: { FEDBROKER_LOCAL: 'true' } });
  gateway = await startGateway((m) => broker.load(m));
  [upstream, other] = await Promise.all([startUpstreamIssuer(), startUpstreamIssuer({ alg: 'ES256' })]);
  const admin = tenantAdmin(broker.tableName);
  const ci = {
    kind: 'oidc' as const,
    id: 'ci',
    issuer: upstream.issuer,
    audiences: ['fedbroker'],
    conditions: { StringLike: { sub: 'repo:acme/*' }, StringEquals: { ref: 'refs/heads/main' } },
    scopes: ['id-token:issue' as const, 'trust:admin' as const],
    id_token_audiences: ['sts.amazonaws.com', 'api://*'],
    max_duration_seconds: 1800,
    session_tags: { repo: { claim: 'repository', transitive: true } },
  };
  await admin.tenant('acme', [
    ci,
    { ...ci, id: 'readonly', conditions: { StringEquals: { sub: 'repo:acme/readonly' } }, scopes: ['audit:read'] },
  ]);
  await admin.tenant('globex', [{ ...ci, conditions: { StringLike: { sub: 'repo:globex/*' } } }]);
  await admin.tenant('initech', [{ ...ci }]);
  await admin.disable('initech');
});
afterAll(async () => {
  await Promise.all([gateway.close(), upstream.close(), other.close()]);
  await broker.close();
});

const goodClaims = { sub: 'repo:acme/app:ref:refs/heads/main', ref: 'refs/heads/main', repository: 'acme/app' };
const external = async (claims: Record<string, unknown> = {}) => upstream.token({ ...goodClaims, ...claims });
const exchange = (params: Record<string, string | undefined>) => postExchange(gateway.url, params);

async function accessToken(scope?: string): Promise<string> {
  const res = await exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme', scope });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

describe('token exchange', () => {
  it('trades a trusted external token for a fedbroker access token', async () => {
    const res = await exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({
      issued_token_type: TOKEN_TYPE.accessToken,
      token_type: 'Bearer',
      expires_in: 900,
      scope: 'id-token:issue trust:admin',
    });
    expect(decodeProtectedHeader(res.body.access_token).typ).toBe('at+jwt');
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: ISSUER,
      sub: 'acme/ci/repo:acme/app:ref:refs/heads/main',
      tenant_id: 'acme',
      client_id: 'acme/ci',
      trust: 'ci',
    });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
  });

  it('accepts the jwt subject token type for external tokens too', async () => {
    const res = await exchange({ subject_token: await external(), subject_token_type: TOKEN_TYPE.jwt, tenant: 'acme' });
    expect(res.status).toBe(200);
  });

  it('narrows the scope on request', async () => {
    const res = await exchange({
      subject_token: await external(),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
      scope: 'id-token:issue',
    });
    expect(res.body.scope).toBe('id-token:issue');
  });

  it('issues an ID token for sts.amazonaws.com from an access token, verifiable against the JWKS', async () => {
    const res = await exchange({
      subject_token: await accessToken(),
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
      duration_seconds: '600',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ issued_token_type: TOKEN_TYPE.idToken, token_type: 'N_A', expires_in: 600 });
    const { payload, protectedHeader } = await jwtVerify(
      res.body.access_token,
      createRemoteJWKSet(new URL(`${gateway.url}/.well-known/jwks.json`)),
      {
        issuer: ISSUER,
        audience: 'sts.amazonaws.com',
      },
    );
    expect(protectedHeader.typ).toBe('JWT');
    expect(payload).toMatchObject({ sub: 'acme/ci/repo:acme/app:ref:refs/heads/main', tenant_id: 'acme', trust: 'ci' });
    expect(payload.nbf).toBe(payload.iat);
    expect(payload['https://aws.amazon.com/tags']).toEqual({
      principal_tags: { repo: ['acme/app'], 'fedbroker:tenant': ['acme'] },
      transitive_tag_keys: ['repo', 'fedbroker:tenant'],
    });
  });

  it('issues an ID token in one hop from an external token', async () => {
    const res = await exchange({
      subject_token: await external(),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'api://billing',
    });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).aud).toBe('api://billing');
  });
});

type Case = [name: string, params: () => Promise<Record<string, string | undefined>>, error: string];

const refusals: Case[] = [
  [
    'a missing grant_type',
    async () => ({ grant_type: '', subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' }),
    'invalid_request',
  ],
  [
    'another grant type',
    async () => ({ grant_type: 'client_credentials', subject_token: 'x', subject_token_type: TOKEN_TYPE.idToken }),
    'unsupported_grant_type',
  ],
  ['a missing subject_token', async () => ({ subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' }), 'invalid_request'],
  ['a missing subject_token_type', async () => ({ subject_token: await external(), tenant: 'acme' }), 'invalid_request'],
  [
    'an unsupported subject_token_type',
    async () => ({ subject_token: await external(), subject_token_type: 'urn:ietf:params:oauth:token-type:saml2', tenant: 'acme' }),
    'invalid_request',
  ],
  [
    'an unsupported requested_token_type',
    async () => ({
      subject_token: await external(),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
      requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token',
    }),
    'invalid_request',
  ],
  [
    'an external token without a tenant',
    async () => ({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken }),
    'invalid_request',
  ],
  [
    'a malformed tenant id',
    async () => ({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'ACME!' }),
    'invalid_request',
  ],
  [
    'an unknown tenant',
    async () => ({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'umbrella' }),
    'invalid_request',
  ],
  [
    'a disabled tenant',
    async () => ({ subject_token: await external({ sub: 'repo:acme/app' }), subject_token_type: TOKEN_TYPE.idToken, tenant: 'initech' }),
    'invalid_request',
  ],
  [
    'a token from an issuer the tenant does not trust',
    async () => ({ subject_token: await other.token(goodClaims), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' }),
    'invalid_request',
  ],
  [
    'a token trusted only by another tenant',
    async () => ({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'globex' }),
    'invalid_request',
  ],
  [
    'a token for another audience',
    async () => ({ subject_token: await external({ aud: 'someone-else' }), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' }),
    'invalid_request',
  ],
  [
    'a token whose claims fail a condition',
    async () => ({ subject_token: await external({ ref: 'refs/heads/feature' }), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' }),
    'invalid_request',
  ],
  [
    'an expired token',
    async () => ({
      subject_token: await upstream.token(goodClaims, { now: Date.now() - 3600_000 }),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
    }),
    'invalid_request',
  ],
  [
    'a token whose session tag claim is missing',
    async () => ({ subject_token: await external({ repository: undefined }), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' }),
    'invalid_request',
  ],
  [
    'a token whose subject claim has control characters',
    async () => ({
      subject_token: await external({ sub: 'repo:acme/app\u0000x' }),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
    }),
    'invalid_request',
  ],
  [
    'an unknown scope',
    async () => ({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme', scope: 'root' }),
    'invalid_scope',
  ],
  [
    'a scope the relationship does not grant',
    async () => ({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme', scope: 'aws:cognito' }),
    'invalid_scope',
  ],
  [
    'a duration above the relationship maximum',
    async () => ({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme', duration_seconds: '1801' }),
    'invalid_request',
  ],
  [
    'a duration that is not a number',
    async () => ({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme', duration_seconds: '1h' }),
    'invalid_request',
  ],
  [
    'a duration below a minute',
    async () => ({ subject_token: await external(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme', duration_seconds: '5' }),
    'invalid_request',
  ],
  [
    'delegation with an actor_token',
    async () => ({
      subject_token: await external(),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
      actor_token: 'x',
      actor_token_type: TOKEN_TYPE.jwt,
    }),
    'invalid_request',
  ],
  [
    'a resource parameter',
    async () => ({
      subject_token: await external(),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
      resource: 'https://api.example.com',
    }),
    'invalid_target',
  ],
  [
    'an access token audience other than fedbroker',
    async () => ({
      subject_token: await external(),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
      audience: 'sts.amazonaws.com',
    }),
    'invalid_target',
  ],
  [
    'an ID token without an audience',
    async () => ({
      subject_token: await external(),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
      requested_token_type: TOKEN_TYPE.idToken,
    }),
    'invalid_request',
  ],
  [
    'an ID token for an audience the relationship does not allow',
    async () => ({
      subject_token: await external(),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'https://evil.example',
    }),
    'invalid_target',
  ],
  [
    'an ID token whose audience is fedbroker itself',
    async () => ({
      subject_token: await external(),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
      requested_token_type: TOKEN_TYPE.idToken,
      audience: ISSUER,
    }),
    'invalid_target',
  ],
  [
    'an ID token without the id-token:issue scope',
    async () => ({
      subject_token: await accessToken('trust:admin'),
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    }),
    'invalid_scope',
  ],
  [
    'an access token traded for another access token',
    async () => ({ subject_token: await accessToken(), subject_token_type: TOKEN_TYPE.accessToken }),
    'invalid_request',
  ],
  [
    'an access token presented with another tenant',
    async () => ({
      subject_token: await accessToken(),
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
      tenant: 'globex',
    }),
    'invalid_request',
  ],
  [
    'a fedbroker access token presented as an external token',
    async () => ({ subject_token: await accessToken(), subject_token_type: TOKEN_TYPE.idToken, tenant: 'acme' }),
    'invalid_request',
  ],
  [
    'an external token presented as a fedbroker access token',
    async () => ({
      subject_token: await external(),
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    }),
    'invalid_request',
  ],
];

describe('token exchange refuses', () => {
  it.each(refusals)('%s', async (_name, params, error) => {
    const res = await exchange(await params());
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(error);
    expect(res.body.access_token).toBeUndefined();
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.text).not.toMatch(/eyJ/);
  });

  it('a fedbroker ID token presented as an access token', async () => {
    const id = await exchange({
      subject_token: await external(),
      subject_token_type: TOKEN_TYPE.idToken,
      tenant: 'acme',
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    });
    const res = await exchange({
      subject_token: id.body.access_token,
      subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('a repeated parameter (RFC 6749 §3.2)', async () => {
    const res = await postExchange(
      gateway.url,
      {},
      { rawBody: 'grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&tenant=acme&tenant=globex' },
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('a JSON body instead of a form', async () => {
    const res = await postExchange(gateway.url, {}, { contentType: 'application/json', rawBody: '{"grant_type":"x"}' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('a GET on the token endpoint with 405', async () => {
    const res = await fetch(`${gateway.url}/v1/token`);
    expect(res.status).toBe(405);
  });
});
