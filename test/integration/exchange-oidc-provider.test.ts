import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { postExchange, TOKEN_TYPE } from '../support/exchange-client.ts';
import { startGateway } from '../support/gateway.ts';
import { startOidcProvider, type OidcProviderIssuer } from '../support/oidc-provider.ts';
import { tenantAdmin } from '../support/tenants.ts';

// End to end against panva's oidc-provider: its client_credentials JWT access tokens are the
// external identities; fedbroker admits or refuses them by the tenant's trust relationship.
describe('exchange with tokens from oidc-provider', () => {
  let broker: TestBroker;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let op: OidcProviderIssuer;

  beforeAll(async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    broker = await startBroker({ env: { FEDBROKER_LOCAL: 'true' } });
    gateway = await startGateway((m) => broker.load(m));
    op = await startOidcProvider({ audience: 'https://fedbroker.test', clients: ['deployer', 'intruder'] });
    await tenantAdmin(broker.tableName).tenant('acme', [
      {
        kind: 'oidc',
        id: 'deploy',
        issuer: op.issuer,
        audiences: ['https://fedbroker.test'],
        conditions: { StringEquals: { client_id: 'deployer' }, 'ForAnyValue:StringEquals': { scope: 'api' } },
        scopes: ['id-token:issue'],
        subject_template: 'client/{claims.client_id}',
      },
    ]);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await Promise.all([gateway?.close(), op?.close()]);
    await broker?.close();
  });

  it('admits the trusted client and issues an ID token for AWS that verifies against the JWKS', async () => {
    const res = await postExchange(gateway.url, {
      subject_token: await op.token('deployer'),
      subject_token_type: TOKEN_TYPE.jwt,
      tenant: 'acme',
      requested_token_type: TOKEN_TYPE.idToken,
      audience: 'sts.amazonaws.com',
    });
    expect(res.status).toBe(200);
    const { payload } = await jwtVerify(res.body.access_token, createRemoteJWKSet(new URL(`${gateway.url}/.well-known/jwks.json`)), {
      issuer: 'https://issuer.fedbroker.test',
      audience: 'sts.amazonaws.com',
    });
    expect(payload.sub).toBe('acme/client/deployer');
  });

  it('refuses another client of the same issuer', async () => {
    const res = await postExchange(gateway.url, {
      subject_token: await op.token('intruder'),
      subject_token_type: TOKEN_TYPE.jwt,
      tenant: 'acme',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.access_token).toBeUndefined();
  });

  it('refuses the trusted client on a tenant that does not trust it', async () => {
    await tenantAdmin(broker.tableName).tenant('globex');
    const res = await postExchange(gateway.url, {
      subject_token: await op.token('deployer'),
      subject_token_type: TOKEN_TYPE.jwt,
      tenant: 'globex',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });
});
