import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Table } from '../../lib/aws/dynamo-table.ts';
import { DynamoRevocationStore } from '../../lib/aws/dynamo-revocation-store.ts';
import { REVOCATION_CAP } from '../../lib/revocation/ports.ts';
import type { StoredDocument } from '../../lib/directory/ports.ts';
import type { Scope } from '../../lib/tenants/tenant.ts';
import { startBroker, type TestBroker } from '../support/broker.ts';
import { postExchange, TOKEN_TYPE } from '../support/exchange-client.ts';
import { startGateway } from '../support/gateway.ts';
import { gatewayClient } from '../support/gateway-client.ts';
import { tenantAdmin, subjectRelationship } from '../support/tenants.ts';
import { startUpstreamIssuer, type UpstreamIssuer } from '../support/upstream-issuer.ts';

let broker: TestBroker;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let upstream: UpstreamIssuer;
let table: Table;
let adminA: string;
let adminB: string;

const relationship = (id: string, sub: string, scopes: string[]) => subjectRelationship(upstream.issuer, id, sub, scopes as Scope[]);

const { tokenFor, api } = gatewayClient(
  () => gateway.url,
  () => upstream,
);

const revoke = (tenant: string, admin: string | undefined, body: unknown) => api('POST', `/v1/tenants/${tenant}/revocations`, admin, body);
const idToken = (accessToken: string) =>
  postExchange(gateway.url, {
    subject_token: accessToken,
    subject_token_type: TOKEN_TYPE.accessToken,
    requested_token_type: TOKEN_TYPE.idToken,
    audience: 'sts.amazonaws.com',
  });
const claims = (token: string) => decodeJwt(token) as { jti: string; exp: number };
const now = () => Math.floor(Date.now() / 1000);
/** The deny-list items in `tenant`'s partition. */
async function denyItems(tenant: string): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await table.doc.send(
    new QueryCommand({
      TableName: table.name,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :r)',
      ExpressionAttributeValues: { ':pk': `TENANT#${tenant}`, ':r': 'REVOKED#' },
    }),
  );
  return Items;
}

beforeAll(async () => {
  broker = await startBroker({ env: { FEDBROKER_LOCAL: 'true' } });
  gateway = await startGateway((m) => broker.load(m));
  upstream = await startUpstreamIssuer();
  table = new Table(broker.tableName);
  const t = tenantAdmin(broker.tableName);
  await t.tenant('acme', [
    relationship('admin', 'admin-a', ['trust:admin', 'id-token:issue']),
    relationship('ci', 'ci-a', ['id-token:issue']),
  ]);
  await t.tenant('globex', [relationship('admin', 'admin-b', ['trust:admin', 'id-token:issue'])]);
  [adminA, adminB] = await Promise.all([tokenFor('acme', 'admin-a'), tokenFor('globex', 'admin-b')]);
});
afterAll(async () => {
  await Promise.all([gateway?.close(), upstream?.close()]);
  await broker?.close();
});

describe('revocation', () => {
  it('refuses a revoked access token on its next exchange with invalid_request', async () => {
    const token = await tokenFor('acme', 'ci-a');
    expect((await idToken(token)).status).toBe(200);
    const res = await revoke('acme', adminA, { token });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ jti: claims(token).jti, expires_at: claims(token).exp, revoked: true });
    const refused = await idToken(token);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_request');
    expect(refused.text).not.toMatch(/eyJ/);
  });

  it('refuses a revoked access token on the admin API with 401 invalid_token', async () => {
    const second = await tokenFor('acme', 'admin-a');
    expect((await api('GET', '/v1/tenants/acme/trust-relationships', second)).status).toBe(200);
    const { jti, exp } = claims(second);
    expect((await revoke('acme', adminA, { jti, exp })).body).toMatchObject({ jti, revoked: true });
    const res = await api('GET', '/v1/tenants/acme/trust-relationships', second);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('writes the deny item into the tenant’s partition, TENANT#<tenant> / REVOKED#<slot>, with the token exp as TTL', async () => {
    const token = await tokenFor('acme', 'ci-a');
    await revoke('acme', adminA, { token });
    const { jti, exp } = claims(token);
    expect((await denyItems('acme')).filter((i) => i.jti === jti)).toEqual([
      { pk: 'TENANT#acme', sk: expect.stringMatching(/^REVOKED#\d{1,3}$/), jti, tenant: 'acme', expires_at: exp },
    ]);
  });

  it('is idempotent: revoking twice answers the same', async () => {
    const token = await tokenFor('acme', 'ci-a');
    const [a, b] = [await revoke('acme', adminA, { token }), await revoke('acme', adminA, { token })];
    expect(a.body).toEqual(b.body);
    expect((await idToken(token)).status).toBe(400);
  });

  it('lets an admin revoke their own token, which then stops working', async () => {
    const own = await tokenFor('acme', 'admin-a');
    expect((await revoke('acme', own, { token: own })).status).toBe(200);
    expect((await revoke('acme', own, { token: own })).status).toBe(401);
  });

  it('ignores a deny item whose expiry has passed (DynamoDB deletes expired items late)', async () => {
    const token = await tokenFor('acme', 'ci-a');
    await new DynamoRevocationStore(table).write({ jti: claims(token).jti, tenant: 'acme', exp: now() - 3600 }, now() - 7200);
    broker.coldStart(); // a container that reads acme with the stale item in it
    expect((await idToken(token)).status).toBe(200);
  });

  it('never applies a deny item of another tenant to this tenant’s token, and lets the owner revoke it by bare jti', async () => {
    const token = await tokenFor('acme', 'ci-a');
    const { jti, exp } = claims(token);
    const res = await revoke('globex', adminB, { jti, exp });
    expect(res.status).toBe(200);
    expect((await denyItems('globex')).map((i) => i.jti)).toContain(jti);
    expect((await idToken(token)).status).toBe(200);
    expect((await revoke('acme', adminA, { jti, exp })).body).toEqual({ jti, expires_at: exp, revoked: true });
    expect((await idToken(token)).status).toBe(400);
  });

  it('only ever extends an existing entry: a shorter exp for a revoked jti answers revoked and changes nothing', async () => {
    const token = await tokenFor('acme', 'ci-a');
    const { jti, exp } = claims(token);
    await revoke('acme', adminA, { token });
    expect((await revoke('acme', adminA, { jti, exp: exp - 60 })).body).toEqual({ jti, expires_at: exp - 60, revoked: true });
    expect((await denyItems('acme')).filter((i) => i.jti === jti).map((i) => i.expires_at)).toEqual([exp]);
  });

  it('treats a jti whose exp has passed as a no-op: answers revoked false and writes nothing', async () => {
    const jti = crypto.randomUUID();
    const res = await revoke('acme', adminA, { jti, exp: now() - 60 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ jti, revoked: false, reason: 'expired' });
    expect((await denyItems('acme')).filter((i) => i.jti === jti)).toEqual([]);
  });
});

describe('revocation refuses', () => {
  it('an admin of another tenant with 403', async () => {
    const token = await tokenFor('acme', 'ci-a');
    const res = await revoke('acme', adminB, { token });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('insufficient_scope');
    expect((await idToken(token)).status).toBe(200);
  });

  it('a token of another tenant in the body with 403', async () => {
    const res = await revoke('acme', adminA, { token: await tokenFor('globex', 'admin-b') });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('insufficient_scope');
  });

  it('a token without the trust:admin scope with 403', async () => {
    const ci = await tokenFor('acme', 'ci-a');
    const res = await revoke('acme', ci, { token: ci });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('insufficient_scope');
  });

  it('a request without a bearer token with 401', async () => {
    const res = await revoke('acme', undefined, { jti: crypto.randomUUID(), exp: now() + 60 });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
  });

  it('a bare jti with an absurd exp with 400', async () => {
    const res = await revoke('acme', adminA, { jti: crypto.randomUUID(), exp: now() + 10 * 365 * 86400 });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toMatch(/exp/);
  });

  it('a jti that is not a UUID with 400', async () => {
    const res = await revoke('acme', adminA, { jti: 'REVOKED#x', exp: now() + 60 });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('a body with both a jti and a token with 400', async () => {
    const res = await revoke('acme', adminA, { jti: crypto.randomUUID(), exp: now() + 60, token: adminA });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it.each([
    ['an array', () => [{ jti: crypto.randomUUID(), exp: now() + 60 }]],
    ['a string', () => 'revoke it'],
    ['null', () => null],
    ['an unknown member beside jti and exp', () => ({ jti: crypto.randomUUID(), exp: now() + 60, reason: 'x' })],
    ['a jti without exp', () => ({ jti: crypto.randomUUID() })],
    ['an exp given as a string', () => ({ jti: crypto.randomUUID(), exp: String(now() + 60) })],
    ['a fractional exp', () => ({ jti: crypto.randomUUID(), exp: now() + 60.5 })],
    ['an exp of zero', () => ({ jti: crypto.randomUUID(), exp: 0 })],
    ['an empty token', () => ({ token: '' })],
    ['a token given as a number', () => ({ token: 42 })],
    ['a token longer than any token', () => ({ token: 'a'.repeat(16 * 1024 + 1) })],
  ])('a body that is %s with 400', async (_name, body) => {
    const res = await revoke('acme', adminA, body());
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toMatch(/body/);
  });

  it('accepts a jti in upper case as the same token id', async () => {
    const jti = crypto.randomUUID();
    const res = await revoke('acme', adminA, { jti: jti.toUpperCase(), exp: now() + 60 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ jti, revoked: true });
  });

  it('a token that is not a fedbroker access token with 400', async () => {
    const res = await revoke('acme', adminA, { token: await upstream.token({ sub: 'admin-a' }) });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.text).not.toMatch(/eyJ/);
  });

  it('a GET with 405', async () => {
    expect((await api('GET', '/v1/tenants/acme/revocations', adminA)).status).toBe(405);
  });
});

describe('a tenant’s deny list at the cap', () => {
  let adminI: string;
  /** Fills every slot of initech's deny list with live entries of made-up tokens. */
  async function fill(): Promise<void> {
    const items = Array.from({ length: REVOCATION_CAP }, (_, slot) => ({
      pk: 'TENANT#initech',
      sk: `REVOKED#${slot}`,
      jti: crypto.randomUUID(),
      tenant: 'initech',
      expires_at: now() + 3000,
    }));
    for (let i = 0; i < items.length; i += 25) {
      await table.doc.send(
        new BatchWriteCommand({ RequestItems: { [table.name]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }),
      );
    }
  }

  beforeAll(async () => {
    await tenantAdmin(broker.tableName).tenant('initech', [
      relationship('admin', 'admin-i', ['trust:admin', 'id-token:issue']),
      relationship('ci', 'ci-i', ['id-token:issue']),
    ]);
    adminI = await tokenFor('initech', 'admin-i');
  });

  it('refuses one more revocation with 409 revocation_limit_exceeded, pointing at the trust relationship to disable', async () => {
    await fill();
    const token = await tokenFor('initech', 'ci-i');
    const res = await revoke('initech', adminI, { token });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('revocation_limit_exceeded');
    expect(res.body.error_description).toMatch(/1000 unexpired revocations.*disable trust relationship ci/);
    const bare = await revoke('initech', adminI, { jti: crypto.randomUUID(), exp: now() + 60 });
    expect(bare.status).toBe(409);
    expect(bare.body.error_description).toMatch(/disable the trust relationship that issued it/);
    expect((await denyItems('initech')).map((i) => i.jti)).not.toContain(claims(token).jti);
    expect((await idToken(token)).status).toBe(200);
  });

  it('answers an already revoked jti without needing a slot', async () => {
    const [held] = await denyItems('initech');
    const res = await revoke('initech', adminI, { jti: held?.jti, exp: held?.expires_at });
    expect(res.status, res.text).toBe(200);
    expect(res.body.revoked).toBe(true);
  });

  it('does not count expired entries: their slot is reused', async () => {
    const [stale] = await denyItems('initech');
    await table.doc.send(
      new BatchWriteCommand({ RequestItems: { [table.name]: [{ PutRequest: { Item: { ...stale, expires_at: now() - 3600 } } }] } }),
    );
    const token = await tokenFor('initech', 'ci-i');
    expect((await revoke('initech', adminI, { token })).body).toMatchObject({ jti: claims(token).jti, revoked: true });
    const items = await denyItems('initech');
    expect(items).toHaveLength(REVOCATION_CAP);
    expect(items.find((i) => i.sk === stale?.sk)?.jti).toBe(claims(token).jti);
    expect((await idToken(token)).status).toBe(400);
  });
});

describe('kill switches', () => {
  it('stop exchanges through a disabled relationship once the tenant cache bound has passed (cold start)', async () => {
    const t = tenantAdmin(broker.tableName);
    await t.relationship('acme', relationship('doomed', 'doomed', ['id-token:issue']));
    const exchange = async () =>
      postExchange(gateway.url, {
        subject_token: await upstream.token({ sub: 'doomed' }),
        subject_token_type: TOKEN_TYPE.idToken,
        tenant: 'acme',
      });
    broker.coldStart(); // the warm container cached acme before the relationship existed
    expect((await exchange()).status).toBe(200);
    const current = await t.store.getDocument<StoredDocument & { enabled: boolean }>('acme', 'TRUST', 'doomed');
    if (!current) throw new Error('relationship not stored');
    const disabled: StoredDocument & { enabled: boolean } = { ...current, enabled: false, version: current.version + 1 };
    await t.store.putDocument('TRUST', disabled, current.version);
    // A warm container keeps its copy of the tenant for FEDBROKER_TENANT_CACHE_SECONDS…
    expect((await exchange()).status).toBe(200);
    // …a container started after the change (or any container once the bound has passed) refuses.
    broker.coldStart();
    const refused = await exchange();
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_request');
  });
});
