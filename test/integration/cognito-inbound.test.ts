import { CognitoIdentityClient, GetOpenIdTokenForDeveloperIdentityCommand } from '@aws-sdk/client-cognito-identity';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { startCognitoStandIn, type CognitoStandIn } from '../support/cognito-stand-in.ts';
import { postExchange, TOKEN_TYPE } from '../support/exchange-client.ts';
import { startGateway } from '../support/gateway.ts';
import { tenantAdmin } from '../support/tenants.ts';

// A workload in AWS proves itself through a Cognito identity pool: with its own AWS credentials it
// calls GetOpenIdTokenForDeveloperIdentity (developer provider "fedbroker", user id = tenant) and
// presents the Cognito token to fedbroker.
let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let cognito: CognitoStandIn;
let pool: string;
let otherPool: string;
let foreignProviderPool: string;
let client: CognitoIdentityClient;

beforeAll(async () => {
  cognito = await startCognitoStandIn();
  broker = await startBroker({
    env: { FEDBROKER_LOCAL: 'true', FEDBROKER_COGNITO_ISSUER: cognito.url, AWS_ENDPOINT_URL_COGNITO_IDENTITY: cognito.url },
  });
  gateway = await startGateway((m) => broker.load(m));
  client = new CognitoIdentityClient({ region: 'us-east-1' });
  pool = cognito.createPool({ developerProvider: 'fedbroker' });
  otherPool = cognito.createPool({ developerProvider: 'fedbroker' });
  foreignProviderPool = cognito.createPool({ developerProvider: 'someone-else' });
  const admin = tenantAdmin(broker.tableName, { cognitoIssuer: cognito.url });
  const trust = (id: string, identity_pool_id: string) => ({
    kind: 'aws-cognito' as const,
    id,
    region: 'us-east-1',
    identity_pool_id,
    scopes: ['id-token:issue' as const],
  });
  await admin.tenant('acme', [trust('aws', pool), trust('foreign', foreignProviderPool)]);
  await admin.tenant('globex', [trust('aws', pool)]);
});
afterAll(async () => {
  client.destroy();
  await gateway.close();
  await broker.close();
  await cognito.close();
});

const cognitoToken = async (login: string, identityPoolId = pool, provider = 'fedbroker') =>
  (await client.send(new GetOpenIdTokenForDeveloperIdentityCommand({ IdentityPoolId: identityPoolId, Logins: { [provider]: login } })))
    .Token ?? '';
const exchange = (token: string, tenant = 'acme') =>
  postExchange(gateway.url, { subject_token: token, subject_token_type: TOKEN_TYPE.idToken, tenant });

describe('Cognito identity pool → fedbroker', () => {
  it('admits a developer-authenticated identity whose developer user id is the tenant', async () => {
    const token = await cognitoToken('acme');
    const res = await exchange(token);
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).sub).toBe(`acme/aws/${decodeJwt(token).sub}`);
  });

  it.each([
    ['a token of a pool the tenant does not trust', async () => cognitoToken('acme', otherPool)],
    ['a token whose developer user id is another tenant', async () => cognitoToken('globex')],
    ['an unauthenticated identity', async () => cognito.issueToken({ poolId: pool, amr: ['unauthenticated'] })],
    [
      'an expired token',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        return cognito.issueToken({
          poolId: pool,
          amr: ['authenticated', 'fedbroker', `fedbroker:${pool}:acme`],
          iat: now - 7200,
          exp: now - 3600,
        });
      },
    ],
    ['a token from another developer provider', async () => cognitoToken('acme', foreignProviderPool, 'someone-else')],
    [
      'a token whose amr names the provider but not the pool',
      async () => cognito.issueToken({ poolId: pool, amr: ['authenticated', 'fedbroker', `fedbroker:${otherPool}:acme`] }),
    ],
  ])('refuses %s', async (_name, token) => {
    const res = await exchange(await token());
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.access_token).toBeUndefined();
  });

  it('refuses the right identity presented to another tenant', async () => {
    const res = await exchange(await cognitoToken('acme'), 'globex');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('refuses a kind "oidc" relationship naming the Cognito issuer', async () => {
    await expect(
      tenantAdmin(broker.tableName, { cognitoIssuer: cognito.url }).relationship('acme', {
        kind: 'oidc',
        issuer: cognito.url,
        audiences: [pool],
        scopes: ['id-token:issue'],
      }),
    ).rejects.toMatchObject({ code: 'ERR_POLICY_INVALID' });
  });

  it('refuses a pool id from another region than the relationship names', async () => {
    await expect(
      tenantAdmin(broker.tableName).relationship('acme', {
        kind: 'aws-cognito',
        region: 'eu-west-1',
        identity_pool_id: pool,
        scopes: ['id-token:issue'],
      }),
    ).rejects.toMatchObject({ code: 'ERR_POLICY_INVALID' });
  });
});
